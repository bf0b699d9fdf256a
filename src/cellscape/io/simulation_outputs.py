"""Files of ``cellscape simulate`` (docs/simulation.md), each written atomically.

``ue_kpis.parquet`` (one row per user), ``cell_kpis.parquet`` (one row per sector),
``timeseries.parquet`` (per sector and report period), ``events.parquet`` (handovers, ping-pongs,
radio-link failures), ``latency_hist.parquet`` (packet counts per latency bin and direction),
``summary.json``, ``simulation.json`` (the validated inputs) and, with ``png``, CDFs of user
throughput and latency, cell load over time and a map of the users coloured by throughput.

For the web map (``cellscape serve``, docs/webmap.md) the folder also gets GeoJSON in WGS 84
(RFC 7946): ``users.geojson`` (:func:`users_geojson`), ``events.geojson`` (:func:`events_geojson`),
and what a ``cellscape run`` folder gives the map: ``sites.geojson``, ``buildings.geojson``,
``streets.geojson``, ``scenario.json`` (the radio scenario on the simulation's grid: link budgets on
click) and ``simulation_coverage.tif`` (:func:`coverage_bands`: best-server RSRP and SINR of the
maps the users were simulated on) with ``best_sector.tif``.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass, replace
import json
from pathlib import Path

import numpy as np

from cellscape.geo.grid import transform_xy
from cellscape.io.atomic import write_atomic, write_json_atomic, write_text_atomic
from cellscape.io.coverage_outputs import buildings_geojson, sites_features, streets_geojson, write_scenario_json
from cellscape.io.geotiff import write_geotiff
from cellscape.radio.link_budget import best_server_sinr_db

USER_STYLE = dict(property="dl_throughput_mbps", units_label="Mbit/s", cmap="viridis")
"""How users are coloured in ``users.png`` and on the web map: by ``property`` (the web map also
offers the other throughputs of :data:`USER_COLOUR_PROPERTIES`), colour map ``cmap``."""

USER_COLOUR_PROPERTIES = {
    "dl_throughput_mbps": "downlink throughput",
    "user_throughput_mbps": "user throughput (per file or burst)",
    "ul_throughput_mbps": "uplink throughput",
}
"""Properties of ``users.geojson`` the web map can colour users by, with their titles [Mbit/s]."""

EVENT_STYLES = {
    "handover": dict(label="handover", colour="#1f78b4", symbol="triangle"),
    "ping_pong": dict(label="ping-pong handover", colour="#ff7f00", symbol="diamond"),
    "rlf": dict(label="radio-link failure", colour="#e31a1c", symbol="cross"),
}
"""Symbol and colour of each event kind (``kind`` of events.parquet) on the web map."""

USER_PROPERTIES = ("ue_id", "group", "device", "slice", "indoor", "dl_throughput_mbps", "ul_throughput_mbps",
                   "user_throughput_mbps", "mean_sinr_db", "serving_sector_id", "handovers", "ping_pongs", "rlfs")
"""Columns of ue_kpis.parquet that ``users.geojson`` carries as properties."""

EVENT_PROPERTIES = ("time_s", "user", "kind", "from_sector", "to_sector")
"""Columns of events.parquet that ``events.geojson`` carries as properties."""

_BLOCK_VALUES = 4_000_000
"""Sector-pixel values per block of :func:`coverage_bands` (bounds its float64 temporaries)."""


def _write_parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: (v.astype(str) if v.dtype == object else v) for k, v in
                      ((k, np.asarray(v)) for k, v in columns.items())})
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def _record(obj):
    if is_dataclass(obj):
        return {k: _record(v) for k, v in asdict(obj).items()}
    return obj


def simulation_json(sim) -> dict:
    """The validated simulation as plain data (without the radio scenario, written beside)."""
    return {"name": sim.name, "scenario": sim.scenario.name, "duration_s": sim.duration_s, "warmup_s": sim.warmup_s,
            "resolution_m": sim.resolution_m, "seed": sim.seed,
            "users": [_record(g) for g in sim.users], "slices": [_record(s) for s in sim.slices],
            "devices": {k: _record(v) for k, v in sim.devices.items()},
            **{k: _record(getattr(sim, k)) for k in ("scheduler", "fading", "uplink", "duplex", "handover", "rlf")}}


def _points(x_m, y_m, crs: str, properties: dict, order: tuple[str, ...], name: str) -> dict:
    """Points at (x_m, y_m) in ``crs`` as a WGS 84 FeatureCollection, one property per column of ``order``."""
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    if x.size:
        lon, lat = transform_xy(x, y, src_crs=crs, dst_crs="EPSG:4326")
    else:
        lon = lat = np.zeros(0)
    cols = {k: np.asarray(properties[k]).tolist() for k in order}    # numpy scalars -> Python, NaN stays float
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
              "properties": {k: cols[k][i] for k in order}} for i in range(x.size)]
    return {"type": "FeatureCollection", "name": name, "features": feats}


def users_geojson(ue: dict, crs: str) -> dict:
    """The users as a GeoJSON FeatureCollection in WGS 84: one Point per user at its position at the
    end of the simulation, properties :data:`USER_PROPERTIES` (NaN written as null).

    ``ue``: the per-user columns (:attr:`SimulationResult.ue` with ``serving_sector_id``);
    ``crs``: the CRS of ``x_m``, ``y_m`` (the grid's).
    """
    return _points(ue["x_m"], ue["y_m"], crs, ue, USER_PROPERTIES, "users")


def events_geojson(events: dict, crs: str) -> dict:
    """Handovers, ping-pongs and radio-link failures as a GeoJSON FeatureCollection in WGS 84: one
    Point per event where the user was at ``time_s``, properties :data:`EVENT_PROPERTIES`."""
    return _points(events["x_m"], events["y_m"], crs, events, EVENT_PROPERTIES, "events")


def coverage_bands(maps, *, load_factor: float) -> dict[str, np.ndarray]:
    """Best-server maps of a simulation's per-sector maps (:class:`~cellscape.coverage.engine.SectorMaps`):
    ``rsrp_dbm``, ``sinr_db`` (float32; the other sectors interfere at ``load_factor``, the
    carrier's ``dl_load_factor`` gives ``cellscape run``'s coverage.tif) and ``best_sector``
    (int32, -1 where no sector is usable).

    Computed in row blocks with :func:`cellscape.radio.link_budget.best_server_sinr_db`.
    """
    n_sec, n_rows, n_cols = maps.rsrp_dbm.shape
    load = float(load_factor)
    rsrp = np.full((n_rows, n_cols), np.nan, dtype=np.float32)
    sinr = np.full((n_rows, n_cols), np.nan, dtype=np.float32)
    best = np.full((n_rows, n_cols), -1, dtype=np.int32)
    step = max(1, _BLOCK_VALUES // max(n_sec * n_cols, 1))
    for r0 in range(0, n_rows, step):
        rows = slice(r0, min(r0 + step, n_rows))
        stack = maps.rsrp_dbm[:, rows, :]                                            # (n_sec, rows, cols)
        b, s = best_server_sinr_db(stack, maps.noise_per_re_dbm, load_factor=load)   # (rows, cols)
        ok = np.isfinite(s)
        rsrp[rows] = np.where(ok, np.take_along_axis(stack, b[None], axis=0)[0], np.nan)
        sinr[rows] = np.where(ok, s, np.nan)
        best[rows] = np.where(ok, b, -1)
    return {"rsrp_dbm": rsrp, "sinr_db": sinr, "best_sector": best}


def map_of_receiver(run):
    """The per-sector maps at the scenario receiver's height (else the lowest device height)."""
    h = run.simulation.scenario.receiver.height_m
    return run.maps[h] if h in run.maps else run.maps[min(run.maps)]


def simulation_scenario(run):
    """The radio scenario on the grid the simulation ran on (its ``resolution_m`` when it sets one)."""
    sim = run.simulation
    sc = sim.scenario
    if sim.resolution_m is None or sim.resolution_m == sc.area.resolution_m:
        return sc
    return replace(sc, area=replace(sc.area, resolution_m=float(sim.resolution_m)))


def ue_columns(run) -> dict:
    """The per-user columns of ue_kpis.parquet: the result's, plus ``serving_sector_id``."""
    m0 = next(iter(run.maps.values()))
    ue = dict(run.result.ue)
    ue["serving_sector_id"] = np.asarray(m0.sectors.sector_id, dtype=object)[ue["serving_sector"]]
    return ue


def write_map_layers(run, out_dir: str | Path, *, ue: dict | None = None) -> list[Path]:
    """What ``cellscape serve`` shows of a simulation: users, events, sites, buildings, streets, the
    scenario and the best-server maps (see the module docstring); return the paths.

    ``ue``: the columns of :func:`ue_columns`, when the caller has them already.
    """
    out = Path(out_dir)
    res = run.result
    crs = res.grid.crs
    m0 = next(iter(run.maps.values()))
    ue = ue_columns(run) if ue is None else ue
    scenario = simulation_scenario(run)
    written = [write_json_atomic(out / "users.geojson", users_geojson(ue, crs), indent=None),
               write_json_atomic(out / "events.geojson", events_geojson(res.events, crs), indent=None),
               write_scenario_json(out / "scenario.json", scenario),
               write_text_atomic(out / "sites.geojson", json.dumps(sites_features(scenario, m0)))]
    if run.footprints is not None:
        written.append(write_text_atomic(out / "buildings.geojson", buildings_geojson(run.footprints)))
    streets = streets_geojson(scenario, res.grid)
    if streets is not None:
        written.append(write_text_atomic(out / "streets.geojson", streets))
    bands = coverage_bands(map_of_receiver(run), load_factor=scenario.carrier.dl_load_factor)
    best = bands.pop("best_sector")
    written.append(write_geotiff(out / "simulation_coverage.tif", bands, res.grid))
    written.append(write_geotiff(out / "best_sector.tif", {"best_sector": best}, res.grid, nodata=-1))
    return written


def write_simulation_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.simulate.SimulationRun`) into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run.result
    m0 = next(iter(run.maps.values()))
    ue = ue_columns(run)
    written = [_write_parquet(out / "ue_kpis.parquet", ue), _write_parquet(out / "cell_kpis.parquet", res.cells),
               _write_parquet(out / "timeseries.parquet", res.timeseries),
               _write_parquet(out / "events.parquet", res.events)]
    n_u = res.latency_hist.shape[0]
    bins = res.latency_hist.shape[2]
    edges = res.latency_edges_s
    written.append(_write_parquet(out / "latency_hist.parquet", {
        "ue_id": np.repeat(np.arange(n_u), 2 * bins), "direction": np.tile(np.repeat(np.array(["dl", "ul"], dtype=object),
                                                                                     bins), n_u),
        "latency_low_ms": np.tile(1e3 * edges[:-1], 2 * n_u), "latency_high_ms": np.tile(1e3 * edges[1:], 2 * n_u),
        "packets": res.latency_hist.reshape(-1)}))
    written.append(write_json_atomic(out / "summary.json", {**res.summary, "meta": res.meta}))
    written.append(write_json_atomic(out / "simulation.json", simulation_json(run.simulation)))
    written.extend(write_map_layers(run, out, ue=ue))
    if png:
        from cellscape.io.plots import plot_cdf_png, plot_points_png, plot_timeseries_png

        written.append(plot_cdf_png(out / "user_throughput_cdf.png",
                                    {"downlink": ue["dl_throughput_mbps"], "uplink": ue["ul_throughput_mbps"]},
                                    xlabel="user throughput [Mbit/s]", title=f"{run.simulation.name}: user throughput"))
        lat = {f"slice {s}": ue["latency_mean_ms"][ue["slice"] == s] for s in np.unique(ue["slice"].astype(str))}
        written.append(plot_cdf_png(out / "latency_cdf.png", lat, xlabel="mean packet latency per user [ms]",
                                    title=f"{run.simulation.name}: packet latency"))
        ts = res.timeseries
        if ts["time_s"].size:
            times = np.unique(ts["time_s"])
            load = ts["load"].reshape(times.size, -1)
            thr = ts["dl_throughput_mbps"].reshape(times.size, -1)
            written.append(plot_timeseries_png(out / "cell_load.png", times, {
                "mean load": load.mean(axis=1), "busiest sector load": load.max(axis=1)},
                ylabel="downlink PRB utilisation", title=f"{run.simulation.name}: cell load"))
            written.append(plot_timeseries_png(out / "cell_throughput.png", times, {
                "mean over sectors": thr.mean(axis=1), "busiest sector": thr.max(axis=1)},
                ylabel="downlink cell throughput [Mbit/s]", title=f"{run.simulation.name}: cell throughput"))
        site_xy = np.column_stack([m0.sectors.x_m, m0.sectors.y_m])
        written.append(plot_points_png(out / "users.png", ue["x_m"], ue["y_m"], ue["dl_throughput_mbps"], res.grid,
                                       title=f"{run.simulation.name}: users by downlink throughput",
                                       units_label=USER_STYLE["units_label"], cmap=USER_STYLE["cmap"],
                                       sites_xy_m=site_xy, footprints=run.footprints))
    return written


__all__ = ["EVENT_PROPERTIES", "EVENT_STYLES", "USER_COLOUR_PROPERTIES", "USER_PROPERTIES", "USER_STYLE",
           "coverage_bands", "events_geojson", "map_of_receiver", "simulation_json", "simulation_scenario",
           "ue_columns", "users_geojson", "write_map_layers", "write_simulation_outputs"]
