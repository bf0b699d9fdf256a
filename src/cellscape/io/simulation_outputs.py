"""Files of ``cellscape simulate`` (docs/simulation.md), each written atomically.

``ue_kpis.parquet`` (one row per user), ``cell_kpis.parquet`` (one row per sector),
``timeseries.parquet`` (per sector and report period), ``events.parquet`` (handovers, ping-pongs,
radio-link failures), ``latency_hist.parquet`` (packet counts per latency bin and direction),
``summary.json``, ``simulation.json`` (the validated inputs) and, with ``png``, CDFs of user
throughput and latency, cell load over time and a map of the users coloured by throughput.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np

from cellscape.io.atomic import write_atomic, write_json_atomic


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


def write_simulation_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``run`` (a :class:`cellscape.pipeline.simulate.SimulationRun`) into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run.result
    m0 = next(iter(run.maps.values()))
    ue = dict(res.ue)
    ue["serving_sector_id"] = np.asarray(m0.sectors.sector_id, dtype=object)[ue["serving_sector"]]
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
                                       units_label="Mbit/s", sites_xy_m=site_xy, footprints=run.footprints))
    return written


__all__ = ["simulation_json", "write_simulation_outputs"]
