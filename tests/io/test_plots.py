"""PNG plots: real images with the expected content, written atomically."""

from matplotlib.image import imread
import numpy as np
import pytest
import shapely

from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid
from cellscape.io.plots import plot_cdf_png, plot_map_png

GRID = RasterGrid(crs="EPSG:32635", x_min_m=385_400.0, y_max_m=6_673_100.0, resolution_m=10.0, n_rows=60, n_cols=40)
STYLE = dict(title="Best-server RSRP", units_label="RSRP [dBm]", cmap="viridis", vmin=-130.0, vmax=-60.0)


def _rsrp():
    y, x = np.mgrid[0:GRID.n_rows, 0:GRID.n_cols]
    return (-60.0 - 0.02 * ((x - 20) ** 2 + (y - 30) ** 2)).astype(np.float32)


def _n_colours(img):
    rgba = np.round(np.asarray(img)[..., :4] * 255).astype(np.uint8)
    return np.unique(np.ascontiguousarray(rgba).view(np.uint32)).size


def _image(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path)


def test_heat_map_is_a_real_png_with_many_colours(tmp_path):
    path = plot_map_png(tmp_path / "rsrp.png", _rsrp(), GRID, **STYLE)
    img = _image(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert _n_colours(img) > 100            # a gradient, not a blank canvas
    assert [p.name for p in tmp_path.iterdir()] == ["rsrp.png"]


def test_sites_footprints_and_attribution_change_the_picture(tmp_path):
    plain = _image(plot_map_png(tmp_path / "a.png", _rsrp(), GRID, **STYLE))
    xy = np.array([[385_600.0, 6_672_800.0]] * 3)
    box = shapely.box(385_500.0, 6_672_600.0, 385_560.0, 6_672_700.0)
    full = _image(plot_map_png(tmp_path / "b.png", _rsrp(), GRID, **STYLE, sites_xy_m=xy,
                               sector_azimuth_deg=np.array([0.0, 120.0, 240.0]), footprints=[box],
                               attribution="© OpenStreetMap contributors"))
    assert plain.shape == full.shape
    changed = np.any(np.abs(plain - full) > 0.05, axis=-1)
    assert changed.mean() > 0.001


def test_categorical_map_with_unserved_pixels(tmp_path):
    best = (np.arange(GRID.n_pixels).reshape(GRID.shape) // 300 % 4).astype(np.int32) - 1   # -1..2
    img = _image(plot_map_png(tmp_path / "best.png", best, GRID, title="Serving sector", units_label="sector",
                              cmap="tab20", vmin=-0.5, vmax=2.5, categorical=True))
    assert _n_colours(img) > 4


def test_all_nan_map_still_draws(tmp_path):
    arr = np.full(GRID.shape, np.nan, dtype=np.float32)
    _image(plot_map_png(tmp_path / "nan.png", arr, GRID, **{**STYLE, "vmin": None, "vmax": None}))


def test_shape_mismatch_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(GeometryError, match=r"array has shape \(40, 60\), but the grid is \(60, 40\)"):
        plot_map_png(tmp_path / "x.png", np.zeros((40, 60)), GRID, **STYLE)
    assert list(tmp_path.iterdir()) == []


def test_azimuth_count_must_match_sites(tmp_path):
    with pytest.raises(GeometryError, match="2 values for 1 positions"):
        plot_map_png(tmp_path / "x.png", _rsrp(), GRID, **STYLE, sites_xy_m=np.array([[385_600.0, 6_672_800.0]]),
                     sector_azimuth_deg=np.array([0.0, 90.0]))


def test_cdf_png(tmp_path):
    rng = np.random.default_rng(1)
    samples = {"all pixels": rng.normal(5, 6, 50_000), "indoor": np.array([np.nan, 1.0, 2.0]),
               "empty": np.array([])}
    img = _image(plot_cdf_png(tmp_path / "cdf.png", samples, xlabel="SINR [dB]", title="SINR CDF"))
    assert img.shape[0] > 300
    assert (img[..., :3].std(axis=-1) > 0.1).any()       # coloured lines, not only grey
