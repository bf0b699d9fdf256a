"""Write a coverage run to a folder: GeoTIFF maps, PNG heat maps, CDF plots and kpis.json, plus
what a map viewer needs to redraw and re-explain it (``cellscape serve``): the resolved scenario
(``scenario.json``, read back by :func:`read_scenario_json`), the sites with their sector wedges
(``sites.geojson``) and the buildings (``buildings.geojson``), GeoJSON in WGS 84 (RFC 7946).

Every file is written atomically (io/atomic.py): an interrupted run leaves whole files or none.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from cellscape.errors import DataFileError, ScenarioError
from cellscape.geo.grid import transform_xy
from cellscape.io.atomic import write_json_atomic, write_text_atomic
from cellscape.io.geotiff import write_geotiff
from cellscape.io.kpi_report import write_kpis
from cellscape.io.plots import plot_cdf_png, plot_los_probability_png, plot_map_png
from cellscape.kpi import los_probability_table
from cellscape.scenario.records import (
    BUILT_IN_SOURCE_PREFIXES,
    SIONNA_PREFIX,
    AntennaSpec,
    Area,
    BuildingSource,
    Carrier,
    GeometryOptions,
    Receiver,
    Scenario,
    Sector,
    Site,
    TerrainSource,
    UplinkMapOptions,
)

SCENARIO_JSON_VERSION = 1
"""Format version of ``scenario.json`` (bumped when the records change incompatibly)."""

WEDGE_RADIUS_M = 60.0
"""Radius of the sector wedges of ``sites.geojson`` [m] (a symbol, not a coverage claim)."""

WEDGE_HALF_WIDTH_DEG = 30.0

OSM_ATTRIBUTION = "Buildings © OpenStreetMap contributors (ODbL)"
SIONNA_ATTRIBUTION = "Buildings: Sionna RT scene (NVIDIA, Apache-2.0), from © OpenStreetMap contributors"


def building_attribution(footprints) -> str | None:
    """The credit line a map drawn from ``footprints`` carries (None without buildings)."""
    if footprints is None:
        return None
    source = str(getattr(footprints, "attrs", {}).get("source", ""))
    return SIONNA_ATTRIBUTION if source.startswith(SIONNA_PREFIX) else OSM_ATTRIBUTION

# fixed, documented colour ranges so that maps of different runs compare by eye
MAP_STYLES = {
    "rsrp_dbm": dict(title="Best-server RSRP", units_label="RSRP [dBm]", cmap="viridis", vmin=-130.0, vmax=-60.0),
    "sinr_db": dict(title="Downlink SINR", units_label="SINR [dB]", cmap="RdYlGn", vmin=-10.0, vmax=30.0),
    "throughput_mbps": dict(title="Downlink throughput (full allocation)", units_label="throughput [Mbit/s]",
                            cmap="magma", vmin=0.0, vmax=None),
    "best_sector": dict(title="Serving sector", units_label="sector index", cmap="tab20", vmin=None, vmax=None),
    "ul_sinr_db": dict(title="Uplink SINR (open-loop power control)", units_label="SINR [dB]", cmap="RdYlGn",
                       vmin=-10.0, vmax=30.0),
    "ul_throughput_mbps": dict(title="Uplink throughput (one UE)", units_label="throughput [Mbit/s]", cmap="magma",
                               vmin=0.0, vmax=None),
}


def write_coverage_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.CoverageRun`) into ``out_dir``; return the paths.

    Files: ``coverage.tif`` (float32 bands rsrp_dbm, sinr_db, throughput_mbps), ``uplink.tif`` (float32
    bands ul_sinr_db, ul_throughput_mbps, ul_tx_power_dbm, coupling_loss_db; cellscape.coverage.uplink), ``best_sector.tif``
    (int32, -1 = none), ``kpis.json``, ``scenario.json`` (:func:`write_scenario_json`),
    ``sites.geojson`` (:func:`sites_features`), ``buildings.geojson`` when the run has buildings
    (:func:`buildings_geojson`), and with ``png`` a heat map per quantity plus the RSRP and
    SINR CDFs. A geometric run adds ``los_probability.csv`` (columns environment, d2d_m, n_links,
    empirical, tr38901; empirical empty below the bin's link minimum) and, with ``png``,
    ``los_probability.png``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run.result
    grid = res.grid
    thr_mbps = (res.throughput_bps / 1e6).astype(np.float32)
    written = []
    path = out / "coverage.tif"
    write_geotiff(path, {"rsrp_dbm": res.rsrp_dbm, "sinr_db": res.sinr_db, "throughput_mbps": thr_mbps}, grid)
    written.append(path)
    path = out / "best_sector.tif"
    write_geotiff(path, {"best_sector": res.best_sector.astype(np.int32)}, grid, nodata=-1)
    written.append(path)
    ul = getattr(run, "uplink", None)
    if ul is not None:
        path = out / "uplink.tif"
        write_geotiff(path, {"ul_sinr_db": ul.sinr_db, "ul_throughput_mbps": (ul.throughput_bps / 1e6).astype(np.float32),
                             "ul_tx_power_dbm": ul.tx_power_dbm, "coupling_loss_db": ul.coupling_loss_db}, grid)
        written.append(path)
    path = out / "kpis.json"
    write_kpis(path, run.kpis)
    written.append(path)
    los_table = los_probability_table(res.los_statistics) if res.los_statistics else None
    if los_table is not None:
        lines = ["environment,d2d_m,n_links,empirical,tr38901"]
        for env, tab in los_table.items():
            for d, n, e, m in zip(tab["d2d_m"], tab["n_links"], tab["empirical"], tab["tr38901"]):
                lines.append(f"{env},{d:g},{n},{'' if np.isnan(e) else f'{e:.6f}'},{m:.6f}")
        written.append(write_text_atomic(out / "los_probability.csv", "\n".join(lines) + "\n"))
    written.append(write_scenario_json(out / "scenario.json", run.scenario))
    written.append(write_text_atomic(out / "sites.geojson", json.dumps(sites_features(run.scenario, res))))
    if run.footprints is not None:
        written.append(write_text_atomic(out / "buildings.geojson", buildings_geojson(run.footprints)))
    streets = streets_geojson(run.scenario, grid)
    if streets is not None:
        written.append(write_text_atomic(out / "streets.geojson", streets))
    if png:
        sites_xy = np.column_stack([res.sectors.x_m, res.sectors.y_m])
        attribution = building_attribution(run.footprints)
        arrays = {"rsrp_dbm": res.rsrp_dbm, "sinr_db": res.sinr_db, "throughput_mbps": thr_mbps,
                  "best_sector": res.best_sector}
        if ul is not None:
            arrays.update({"ul_sinr_db": ul.sinr_db, "ul_throughput_mbps": (ul.throughput_bps / 1e6).astype(np.float32)})
        for name, arr in arrays.items():
            style = dict(MAP_STYLES[name])
            if name in ("throughput_mbps", "ul_throughput_mbps"):
                style["vmax"] = float(np.nanmax(arr)) if np.isfinite(arr).any() else 1.0
            if name == "best_sector":
                style["vmin"], style["vmax"] = -0.5, max(res.sectors.x_m.size - 0.5, 0.5)
            path = out / f"{name}.png"
            plot_map_png(path, arr, grid, sites_xy_m=sites_xy, sector_azimuth_deg=res.sectors.azimuth_deg,
                         categorical=name == "best_sector", footprints=run.footprints, attribution=attribution,
                         **style)
            written.append(path)
        path = out / "sinr_cdf.png"
        plot_cdf_png(path, {"all pixels": res.sinr_db.ravel(),
                            "outdoor": res.sinr_db[~res.indoor], "indoor": res.sinr_db[res.indoor]},
                     xlabel="SINR [dB]", title="Downlink SINR, CDF over map area")
        written.append(path)
        path = out / "rsrp_cdf.png"
        plot_cdf_png(path, {"all pixels": res.rsrp_dbm.ravel(),
                            "outdoor": res.rsrp_dbm[~res.indoor], "indoor": res.rsrp_dbm[res.indoor]},
                     xlabel="RSRP [dBm]", title="Best-server RSRP, CDF over map area")
        written.append(path)
        if los_table is not None:
            written.append(plot_los_probability_png(out / "los_probability.png", los_table))
    return written


# ---------------------------------------------------------------------------------------------
# what a map viewer needs: the scenario, the sites and the buildings


def _absolute_source(path: str) -> str:
    if path.startswith(BUILT_IN_SOURCE_PREFIXES):
        return path
    return os.fspath(Path(path).resolve())


def scenario_dict(scenario: Scenario) -> dict:
    """``scenario`` as a JSON-ready mapping (:func:`dataclasses.asdict` of the records), building
    and terrain file paths made absolute, under ``{"version": .., "scenario": ..}``."""
    data = dataclasses.asdict(scenario)
    if scenario.buildings is not None:
        data["buildings"]["path"] = _absolute_source(scenario.buildings.path)
    if scenario.terrain is not None:
        data["terrain"]["path"] = _absolute_source(scenario.terrain.path)
    return {"version": SCENARIO_JSON_VERSION, "scenario": data}


def write_scenario_json(path: str | os.PathLike, scenario: Scenario) -> Path:
    """Write the resolved scenario as JSON (:func:`scenario_dict`), atomically; read it back with
    :func:`read_scenario_json`."""
    return write_json_atomic(path, scenario_dict(scenario))


def scenario_from_dict(data: dict) -> Scenario:
    """Rebuild the :class:`~cellscape.scenario.records.Scenario` records from :func:`scenario_dict`.

    Raises
    ------
    ScenarioError
        If the mapping is not a scenario of this format version.
    """
    if not isinstance(data, dict) or data.get("version") != SCENARIO_JSON_VERSION or "scenario" not in data:
        got = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise ScenarioError(f"not a cellscape scenario.json of version {SCENARIO_JSON_VERSION} (got {got!r})")
    d = dict(data["scenario"])
    try:
        def sector(s):
            return Sector(**{**s, "antenna": AntennaSpec(**s["antenna"])})

        def site(s):
            return Site(**{**s, "sectors": tuple(sector(x) for x in s["sectors"])})

        d["area"] = Area(**{**d["area"], "bounds": tuple(d["area"]["bounds"])})
        d["carrier"] = Carrier(**d["carrier"])
        d["receiver"] = Receiver(**d["receiver"])
        if "uplink" in d:                    # absent in files written before the uplink map
            d["uplink"] = UplinkMapOptions(**d["uplink"])
        d["sites"] = tuple(site(s) for s in d["sites"])
        d["geometry"] = GeometryOptions(**d["geometry"])
        d["buildings"] = BuildingSource(**d["buildings"]) if d.get("buildings") else None
        d["terrain"] = TerrainSource(**d["terrain"]) if d.get("terrain") else None
        d["rsrp_thresholds_dbm"] = tuple(d["rsrp_thresholds_dbm"])
        if d.get("site_keys") is not None:
            d["site_keys"] = tuple(int(k) for k in d["site_keys"])
        return Scenario(**d)
    except (TypeError, KeyError) as exc:
        raise ScenarioError(f"scenario.json does not describe a scenario: {exc}") from None


def read_scenario_json(path: str | os.PathLike) -> Scenario:
    """The scenario a run folder's ``scenario.json`` holds (written by :func:`write_scenario_json`).

    Raises
    ------
    DataFileError
        If the file is missing or not JSON.
    ScenarioError
        If it does not describe a scenario.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"{path}: no scenario.json (written by `cellscape run`)") from None
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read scenario.json ({exc})") from None
    try:
        return scenario_from_dict(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def sector_wedge_xy_m(x_m: float, y_m: float, azimuth_deg: float, *, radius_m: float = WEDGE_RADIUS_M,
                      half_width_deg: float = WEDGE_HALF_WIDTH_DEG, n: int = 9) -> np.ndarray:
    """A closed wedge polygon around a sector's boresight (clockwise from north), shape (n + 2, 2) [m].

    >>> w = sector_wedge_xy_m(0.0, 0.0, 90.0, radius_m=10.0, n=3)
    >>> w.round(2).tolist()[:3], bool((w[0] == w[-1]).all())
    ([[0.0, 0.0], [8.66, 5.0], [10.0, 0.0]], True)
    """
    a = np.radians(np.linspace(azimuth_deg - half_width_deg, azimuth_deg + half_width_deg, n))
    xs = np.concatenate([[x_m], x_m + radius_m * np.sin(a), [x_m]])
    ys = np.concatenate([[y_m], y_m + radius_m * np.cos(a), [y_m]])
    return np.column_stack([xs, ys])


def sites_features(scenario: Scenario, result) -> dict:
    """Sites (points) and sector wedges (polygons) of a run as a GeoJSON FeatureCollection in WGS 84.

    Properties: ``layer`` ("site" or "sector"), ``site_id``; sites ``height_m``, ``environment``,
    ``sectors``; sectors ``sector_id``, ``index`` (the value of ``best_sector.tif``),
    ``azimuth_deg``, ``mech_tilt_deg``, ``elec_tilt_deg``, ``tx_power_dbm``.
    """
    grid, sec = result.grid, result.sectors
    site_of = {s.site_id: s for s in scenario.sites}
    feats = []
    seen = set()
    flat = [x for s in scenario.sites for x in s.sectors]
    for k in range(len(sec.sector_id)):
        site = site_of[sec.site_id[k]]
        x, y = float(sec.x_m[k]), float(sec.y_m[k])
        if site.site_id not in seen:
            seen.add(site.site_id)
            lon, lat = transform_xy([x], [y], src_crs=grid.crs, dst_crs="EPSG:4326")
            feats.append({"type": "Feature",
                          "geometry": {"type": "Point", "coordinates": [float(lon[0]), float(lat[0])]},
                          "properties": {"layer": "site", "site_id": site.site_id, "height_m": site.height_m,
                                         "environment": site.environment or scenario.environment,
                                         "sectors": len(site.sectors)}})
        wedge = sector_wedge_xy_m(x, y, float(sec.azimuth_deg[k]))
        lon, lat = transform_xy(wedge[:, 0], wedge[:, 1], src_crs=grid.crs, dst_crs="EPSG:4326")
        s = flat[k]
        feats.append({"type": "Feature",
                      "geometry": {"type": "Polygon", "coordinates": [np.column_stack([lon, lat]).tolist()]},
                      "properties": {"layer": "sector", "sector_id": sec.sector_id[k], "index": k,
                                     "site_id": site.site_id, "azimuth_deg": s.azimuth_deg,
                                     "mech_tilt_deg": s.mech_tilt_deg, "elec_tilt_deg": s.elec_tilt_deg,
                                     "tx_power_dbm": s.tx_power_dbm}})
    return {"type": "FeatureCollection", "name": f"{scenario.name} sites", "features": feats}


def buildings_geojson(footprints) -> str:
    """Building footprints (GeoDataFrame with ``height_m``) as GeoJSON text in WGS 84, with the
    data's credit line as the collection's ``attribution`` member."""
    gdf = footprints[["height_m", "geometry"]].to_crs("EPSG:4326")
    data = json.loads(gdf.to_json(drop_id=True))
    data["name"] = "buildings"
    data["attribution"] = building_attribution(footprints)
    return json.dumps(data)


def streets_geojson(scenario: Scenario, grid) -> str | None:
    """The OSM streets of the scenario's building extract inside the map (driving network, WGS 84)
    as GeoJSON text, for the web map's background; None when the buildings are not an OSM extract
    or it holds no streets there."""
    from cellscape.errors import CellscapeError
    from cellscape.geo.streets import load_streets

    if scenario.buildings is None or scenario.buildings.kind != "osm_pbf":
        return None
    try:
        lines = load_streets(scenario.buildings.path, crs=grid.crs, bounds_m=grid.bounds_m)
    except CellscapeError:
        return None
    data = json.loads(lines[["highway", "name", "length_m", "geometry"]].to_crs("EPSG:4326").to_json(drop_id=True))
    data["name"] = "streets"
    data["attribution"] = OSM_ATTRIBUTION.replace("Buildings", "Streets")
    return json.dumps(data)
