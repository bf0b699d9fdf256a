"""A run folder as the web map sees it: its raster and vector layers, safe file access, and the
prepared engine state for link budgets at a point (built once, on first use).

The server serves one folder and nothing outside it: every name a request carries is either a key
of a fixed table (layers) or resolved with :meth:`RunFolder.safe_file`, which follows symbolic
links and refuses anything that does not end up inside the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import threading
import warnings

import numpy as np

from cellscape.errors import DataFileError, GeometryError
from cellscape.io.coverage_outputs import MAP_STYLES, OSM_ATTRIBUTION
from cellscape.io.simulation_outputs import EVENT_STYLES, USER_COLOUR_PROPERTIES, USER_STYLE

RASTER_FILES: dict[str, tuple[str, ...]] = {
    "rsrp_dbm": ("coverage.tif", "coverage_after.tif", "simulation_coverage.tif"),
    "sinr_db": ("coverage.tif", "coverage_after.tif", "simulation_coverage.tif"),
    "throughput_mbps": ("coverage.tif",),
    "best_sector": ("best_sector.tif",),
}
"""Raster layer -> the files that may hold it as a band of that name, first found wins
(``coverage_after.tif``: the planned network of a ``cellscape plan`` folder;
``simulation_coverage.tif``: the maps a ``cellscape simulate`` folder's users were simulated on)."""

VECTOR_FILES: dict[str, str] = {
    "buildings": "buildings.geojson",
    "streets": "streets.geojson",
    "sites": "sites.geojson",
    "plan": "plan.geojson",
    "users": "users.geojson",
    "events": "events.geojson",
}
"""Vector layer -> its GeoJSON file in the run folder (WGS 84); ``users`` and ``events``: a
``cellscape simulate`` folder's users and their handovers, ping-pongs and radio-link failures."""

OTHER_EVENT_STYLE = dict(colour="#6a6a6a", symbol="circle")
"""The symbol of an event kind :data:`EVENT_STYLES` does not name (a newer simulator)."""

NO_VALUE_COLOUR = "#9e9e9e"
"""Colour of a user whose coloured property is null (NaN in ue_kpis.parquet)."""

USERS_MIN_MBPS = 0.1
"""Bottom of the users' log colour scale [Mbit/s]: lower throughputs (and 0) take its colour."""

SERVED_SUFFIXES = frozenset({".json", ".geojson", ".csv", ".png", ".tif", ".md", ".html", ".txt"})
"""Files of the run folder that ``/files/...`` hands out (never hidden files: no ``.partial``)."""

LEGEND_STOPS = 11


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * float(c))) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class RasterLayer:
    """One raster layer: a band of a GeoTIFF of the run folder and how it is coloured.

    ``lut``: (n, 4) uint8 RGBA: 256 steps over [vmin, vmax] for a continuous layer, one colour per
    class (value 0..n-1) for a categorical one; the colours of the run's PNG heat maps
    (MAP_STYLES, matplotlib colour maps).
    """

    name: str
    path: Path
    band: int
    title: str
    units_label: str
    cmap: str
    categorical: bool
    vmin: float
    vmax: float
    lut: np.ndarray = field(repr=False)
    classes: tuple[str, ...] = ()

    def colour(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB (3, h, w) uint8 and alpha mask (h, w) uint8 (255 = drawn) of ``values`` (NaN = none)."""
        valid = np.isfinite(values)
        if self.categorical:
            idx = np.where(valid, values, -1).astype(np.int64)
            valid &= (idx >= 0) & (idx < self.lut.shape[0])
            idx = np.clip(idx, 0, self.lut.shape[0] - 1)
        else:
            scaled = (np.where(valid, values, self.vmin) - self.vmin) / (self.vmax - self.vmin)
            idx = np.clip(np.round(scaled * 255.0), 0, 255).astype(np.int64)
        rgba = self.lut[idx]                                     # (h, w, 4)
        return np.moveaxis(rgba[..., :3], -1, 0).copy(), np.where(valid, 255, 0).astype(np.uint8)

    def legend(self) -> dict:
        """What the page's legend shows: title, units and colour stops (or classes)."""
        out = {"name": self.name, "title": self.title, "units": self.units_label, "categorical": self.categorical,
               "colormap": self.cmap}
        if self.categorical:
            out["classes"] = [{"value": k, "label": label, "colour": _hex(self.lut[k] / 255.0)}
                              for k, label in enumerate(self.classes)]
        else:
            pos = np.linspace(0, 255, LEGEND_STOPS).round().astype(int)
            out.update(vmin=self.vmin, vmax=self.vmax,
                       stops=[{"value": self.vmin + (self.vmax - self.vmin) * p / 255.0,
                               "colour": _hex(self.lut[p] / 255.0)} for p in pos])
        return out


def _band_names(path: Path) -> list[str]:
    from rio_tiler.io import Reader

    with Reader(str(path)) as src:
        return [d or f"band_{i}" for i, d in enumerate(src.dataset.descriptions, start=1)]


def _band_max(path: Path, band: int) -> float:
    from rio_tiler.io import Reader

    with Reader(str(path)) as src:
        values = src.dataset.read(band, masked=True).astype(float).filled(np.nan)
    finite = np.isfinite(values)
    return float(values[finite].max()) if finite.any() else 0.0


def _read_features(path: Path) -> list[dict]:
    """The features of a GeoJSON file of the run folder, or DataFileError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read this GeoJSON file ({exc})") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise DataFileError(f"{path}: not a GeoJSON FeatureCollection")
    return feats


def _decade_scale(values: np.ndarray) -> dict:
    """Log colour scale of throughputs [Mbit/s]: from :data:`USERS_MIN_MBPS` (and below) to the
    decade above the largest value, :data:`LEGEND_STOPS` stops evenly spaced in log10."""
    from matplotlib import colormaps

    finite = values[np.isfinite(values)]
    vmin = USERS_MIN_MBPS
    top = float(finite.max()) if finite.size else 0.0
    vmax = 10.0 ** max(math.ceil(math.log10(vmin)) + 1, math.ceil(math.log10(max(top, vmin))))
    lut = colormaps[USER_STYLE["cmap"]](np.linspace(0.0, 1.0, LEGEND_STOPS))
    exps = np.linspace(math.log10(vmin), math.log10(vmax), LEGEND_STOPS)
    return {"vmin": vmin, "vmax": float(vmax), "stops": [{"value": float(10.0 ** e), "colour": _hex(c)}
                                                         for e, c in zip(exps, lut)],
            "no_value": int((~np.isfinite(values)).sum())}


def users_legend(path: Path) -> dict:
    """How the page colours the users of ``users.geojson``, for each property of
    :data:`~cellscape.io.simulation_outputs.USER_COLOUR_PROPERTIES` (``default`` first shown): a
    log10 scale of colour map ``USER_STYLE["cmap"]`` (:func:`_decade_scale`); users without a value
    (null) in :data:`NO_VALUE_COLOUR`."""
    feats = _read_features(path)
    scales = {}
    for prop, title in USER_COLOUR_PROPERTIES.items():
        try:
            values = np.array([(f.get("properties") or {}).get(prop) for f in feats], dtype=float)
        except (TypeError, ValueError):
            raise DataFileError(f"{path}: property {prop!r} holds a value that is not a number or null") from None
        scales[prop] = {"title": f"Users: {title}", **_decade_scale(values)}
    return {"default": USER_STYLE["property"], "units": USER_STYLE["units_label"], "colormap": USER_STYLE["cmap"],
            "scale": "log10", "no_value_colour": NO_VALUE_COLOUR, "count": len(feats), "properties": scales}


def events_legend(path: Path) -> dict:
    """The event kinds of ``events.geojson`` with their symbol, colour and count (the kinds of
    :data:`EVENT_STYLES` always, in that order; others after them, in :data:`OTHER_EVENT_STYLE`)."""
    feats = _read_features(path)
    counts: dict[str, int] = {}
    for f in feats:
        kind = str((f.get("properties") or {}).get("kind"))
        counts[kind] = counts.get(kind, 0) + 1
    kinds = [{"kind": k, **style, "count": counts.get(k, 0)} for k, style in EVENT_STYLES.items()]
    kinds += [{"kind": k, "label": k, **OTHER_EVENT_STYLE, "count": n} for k, n in sorted(counts.items())
              if k not in EVENT_STYLES]
    return {"title": "Mobility events", "count": len(feats), "kinds": kinds}


def _raster_layer(name: str, path: Path, band: int, classes: tuple[str, ...]) -> RasterLayer:
    from matplotlib import colormaps

    style = MAP_STYLES[name]
    cmap = colormaps[style["cmap"]]
    if name == "best_sector":
        n = max(1, len(classes))
        lut = cmap.resampled(n)(np.arange(n))                    # as the PNG heat map (io/plots.py)
        vmin, vmax = -0.5, n - 0.5
    else:
        vmin, vmax = style["vmin"], style["vmax"]
        if vmax is None:                                         # throughput: 0 .. the run's maximum
            vmax = _band_max(path, band)
            vmax = max(1.0, math.ceil(vmax / 10.0) * 10.0)
        lut = cmap(np.linspace(0.0, 1.0, 256))
    return RasterLayer(name=name, path=path, band=band, title=style["title"], units_label=style["units_label"],
                       cmap=style["cmap"], categorical=name == "best_sector", vmin=float(vmin), vmax=float(vmax),
                       lut=np.round(np.asarray(lut) * 255).astype(np.uint8), classes=classes)


class RunFolder:
    """The run folder a server was started on.

    Raises
    ------
    DataFileError
        If ``path`` is not a folder, or holds none of the files ``cellscape run``,
        ``cellscape plan`` or ``cellscape simulate`` write, or a GeoJSON file of it is unreadable.
    """

    def __init__(self, path: str | Path):
        root = Path(path)
        if not root.is_dir():
            raise DataFileError(f"{path}: no such folder (pass the output folder of `cellscape run -o`)")
        self.root = root.resolve()
        self.vectors = {k: self.root / f for k, f in VECTOR_FILES.items() if (self.root / f).is_file()}
        classes = self._sector_classes()
        self.rasters: dict[str, RasterLayer] = {}
        bands_of: dict[str, list[str]] = {}
        for name, files in RASTER_FILES.items():
            for fname in files:
                p = self.root / fname
                if not p.is_file():
                    continue
                if fname not in bands_of:
                    bands_of[fname] = _band_names(p)
                if name in bands_of[fname]:
                    self.rasters[name] = _raster_layer(name, p, bands_of[fname].index(name) + 1, classes)
                    break
        if not self.rasters and not self.vectors:
            marks = ("coverage.tif", "plan.geojson", "users.geojson")
            runs = sorted(p.name for p in self.root.iterdir()
                          if p.is_dir() and any((p / f).is_file() for f in marks))
            hint = f"; run folders inside it: {', '.join(runs)}" if runs else ""
            raise DataFileError(f"{path}: not a run folder (no coverage.tif, coverage_after.tif, plan.geojson "
                                f"or users.geojson)" + hint)
        self.legends: dict[str, dict] = {}
        if "users" in self.vectors:
            self.legends["users"] = users_legend(self.vectors["users"])
        if "events" in self.vectors:
            self.legends["events"] = events_legend(self.vectors["events"])
        self.scenario_path = self.root / "scenario.json"
        self._lock = threading.Lock()
        self._prepared = None
        self.name = self._name()

    def _sector_classes(self) -> tuple[str, ...]:
        """Sector ids by best_sector value, from sites.geojson (else "sector k" from the raster)."""
        path = self.root / VECTOR_FILES["sites"]
        if path.is_file():
            feats = json.loads(path.read_text(encoding="utf-8")).get("features", [])
            secs = sorted((f["properties"]["index"], f["properties"]["sector_id"]) for f in feats
                          if f.get("properties", {}).get("layer") == "sector")
            if secs:
                return tuple(s for _, s in secs)
        p = self.root / "best_sector.tif"
        if p.is_file():
            n = int(_band_max(p, 1)) + 1
            return tuple(f"sector {k}" for k in range(max(n, 1)))
        return ()

    def _name(self) -> str:
        simulation = self.root / "simulation.json"
        if simulation.is_file() and "users" in self.vectors:      # a simulate folder: its simulation's name
            try:
                return str(json.loads(simulation.read_text(encoding="utf-8"))["name"])
            except (ValueError, KeyError, TypeError):
                pass
        if self.scenario_path.is_file():
            try:
                return str(json.loads(self.scenario_path.read_text(encoding="utf-8"))["scenario"]["name"])
            except (ValueError, KeyError, TypeError):
                pass
        if "plan" in self.vectors:
            try:
                return str(json.loads(self.vectors["plan"].read_text(encoding="utf-8")).get("name") or self.root.name)
            except ValueError:
                pass
        return self.root.name

    # -- files ---------------------------------------------------------------------------------

    def safe_file(self, relative: str) -> Path:
        """The file ``relative`` names inside the run folder, or DataFileError.

        Refused: absolute paths, any ``..`` or hidden (``.``) component, NUL bytes and
        backslashes, suffixes outside :data:`SERVED_SUFFIXES`, and anything whose real path
        (symbolic links followed) is not a regular file inside the folder.
        """
        bad = DataFileError(f"{relative!r}: no such file in the run folder")
        if not relative or "\x00" in relative or "\\" in relative or relative.startswith("/"):
            raise bad
        parts = relative.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise bad
        candidate = self.root.joinpath(*parts)
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            raise bad from None
        if not real.is_relative_to(self.root) or not real.is_file() or real.suffix.lower() not in SERVED_SUFFIXES:
            raise bad
        return real

    def listing(self) -> list[str]:
        """The files ``/files/`` serves, relative names, sorted."""
        out = []
        for p in sorted(self.root.rglob("*")):
            rel = p.relative_to(self.root).as_posix()
            try:
                self.safe_file(rel)
            except DataFileError:
                continue
            out.append(rel)
        return out

    # -- link budget ---------------------------------------------------------------------------

    @property
    def has_scenario(self) -> bool:
        return self.scenario_path.is_file()

    def prepared(self):
        """The engine's prepared run of the folder's scenario (built once; thread-safe)."""
        with self._lock:
            if self._prepared is None:
                self._prepared = _prepare(self.scenario_path, self.rasters.get("rsrp_dbm"))
            return self._prepared

    def link_budget(self, lon: float, lat: float, *, top: int) -> dict:
        """The link budget at (lon, lat) (WGS 84), :func:`cellscape.coverage.point.link_budget_on`."""
        from cellscape.coverage.point import link_budget_on
        from cellscape.geo.grid import transform_xy

        if not self.has_scenario:
            raise DataFileError("this run folder has no scenario.json (written by `cellscape run`): "
                                "no link budgets for it")
        run = self.prepared()
        x, y = transform_xy([lon], [lat], src_crs="EPSG:4326", dst_crs=run.grid.crs)
        with self._lock:                  # the geometric height surface is filled on first use
            out = link_budget_on(run, float(x[0]), float(y[0]), top=top)
        out.update(lon=float(lon), lat=float(lat))
        return out

    def metadata(self) -> dict:
        """The page's description of the run: name, extent, layers, legends, credits."""
        bounds = self._bounds_lonlat()
        attribution = []
        if "buildings" in self.vectors:
            try:
                credit = json.loads(self.vectors["buildings"].read_text(encoding="utf-8")).get("attribution")
            except ValueError:
                credit = None
            attribution.append(credit or OSM_ATTRIBUTION)
        elif "plan" in self.vectors:
            attribution.append(OSM_ATTRIBUTION)
        return {
            "name": self.name,
            "bounds": bounds,
            "rasters": [{**layer.legend(), "tiles": f"/api/tiles/{name}/{{z}}/{{x}}/{{y}}.png"}
                        for name, layer in self.rasters.items()],
            "vectors": [{"name": k, "url": f"/api/vector/{k}",
                         **({"legend": self.legends[k]} if k in self.legends else {})} for k in self.vectors],
            "link_budget": self.has_scenario,
            "attribution": attribution,
            "files": self.listing(),
        }

    def _bounds_lonlat(self) -> list[float] | None:
        from rio_tiler.io import Reader

        for layer in self.rasters.values():
            with Reader(str(layer.path)) as src:
                w, s, e, n = src.get_geographic_bounds("EPSG:4326")
            return [float(w), float(s), float(e), float(n)]
        for path in self.vectors.values():
            coords = np.array(_all_coordinates(json.loads(path.read_text(encoding="utf-8"))), dtype=float)
            if coords.size:
                return [float(coords[:, 0].min()), float(coords[:, 1].min()),
                        float(coords[:, 0].max()), float(coords[:, 1].max())]
        return None


def _all_coordinates(geojson: dict) -> list:
    out = []

    def walk(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            out.append(c[:2])
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)

    for f in geojson.get("features", []):
        walk((f.get("geometry") or {}).get("coordinates", []))
    return out


def _prepare(scenario_path: Path, rsrp_layer: RasterLayer | None):
    """Read scenario.json, rebuild grid, sites, buildings and terrain, and prepare the engine."""
    from cellscape.coverage.engine import prepare
    from cellscape.geo.buildings import GeometryRepairWarning
    from cellscape.io.coverage_outputs import read_scenario_json
    from cellscape.pipeline import load_footprints, localize

    scenario = read_scenario_json(scenario_path)
    grid, site_xy = localize(scenario)
    if rsrp_layer is not None:
        from rio_tiler.io import Reader

        with Reader(str(rsrp_layer.path)) as src:
            shape = (src.dataset.height, src.dataset.width)
        if shape != grid.shape:
            raise GeometryError(f"scenario.json gives a {grid.shape} grid but {rsrp_layer.path.name} is {shape}: "
                                f"the folder mixes runs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairWarning)   # reported when the run was computed
        footprints = load_footprints(scenario, grid)
    terrain = None
    if scenario.terrain is not None:
        from cellscape.io.terrain import read_terrain

        terrain = read_terrain(scenario.terrain.path)
    return prepare(scenario, grid, site_xy, footprints=footprints, terrain=terrain)
