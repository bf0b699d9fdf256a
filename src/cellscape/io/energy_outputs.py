"""Files of ``cellscape energy`` (docs/energy.md), each written atomically.

- ``energy.json``: per policy the energy [kWh], % saved against always-on, users' throughput
  percentiles, coverage lost, wake-up violations and transitions; the power model, the settings
  and the forecast's error on the simulated days;
- ``energy_timeseries.parquet``: one row per policy, step and sector: ``step``, ``time``,
  ``policy``, ``sector``, ``sector_id``, ``state`` (code), ``state_name``, ``load`` (realised PRB
  load), ``power_w`` (mean power of the step, transition energy included), ``energy_j``;
  the energy of a policy in energy.json is the sum of its ``energy_j``;
- ``energy.png``: the network's power over the simulated period per policy, and the sectors asleep.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np

from cellscape.ai.forecast import forecast_errors
from cellscape.ai.power_model import SPEC, STATE_NAMES
from cellscape.io.atomic import write_atomic, write_json_atomic


def energy_json(run) -> dict:
    """The content of energy.json for a :class:`cellscape.pipeline.energy.EnergyRun`."""
    res = run.result
    fc = None
    if res.forecast is not None:
        err = forecast_errors(res.load.T, res.forecast.T)
        fc = {k: err[k] for k in ("mae", "mape_pct") if k in err}
    model = asdict(res.model)
    model.update({"idle_power_w": res.model.idle_power_w, "full_load_power_w": res.model.full_load_power_w,
                  "spec": SPEC})
    return {"meta": run.meta, "options": asdict(res.options), "power_model": model,
            "forecast_error": fc, "policies": res.summary}


def timeseries_columns(run) -> dict:
    """Columns of energy_timeseries.parquet (module docstring), policies one after the other."""
    res = run.result
    n_t, n_s = res.load.shape
    cols: dict[str, list] = {k: [] for k in ("step", "time", "policy", "sector", "sector_id", "state", "state_name",
                                             "load", "power_w", "energy_j")}
    names = np.asarray(STATE_NAMES)
    for name, pr in res.runs.items():
        cols["step"].append(np.repeat(np.arange(n_t, dtype=np.int32), n_s))
        cols["time"].append(np.repeat(run.timestamps, n_s))
        cols["policy"].append(np.full(n_t * n_s, name))
        cols["sector"].append(np.tile(np.arange(n_s, dtype=np.int32), n_t))
        cols["sector_id"].append(np.tile(run.sector_id, n_t))
        cols["state"].append(pr.states.ravel().astype(np.int8))
        cols["state_name"].append(names[pr.states.ravel()])
        cols["load"].append(pr.load.ravel())
        cols["power_w"].append(pr.account.power_w.ravel())
        cols["energy_j"].append(pr.account.energy_j.ravel())
    return {k: np.concatenate(v) for k, v in cols.items()}


def write_timeseries_parquet(path: Path, columns: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: (v.astype(str) if v.dtype.kind in "OU" else v) for k, v in columns.items()})
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def plot_energy_png(path: Path, run) -> Path:
    """Network power [kW] per policy over time (top) and sectors asleep (bottom)."""
    from matplotlib.figure import Figure

    from cellscape.io.plots import _save_png

    res = run.result
    hours = (run.timestamps - run.timestamps[0]).astype("timedelta64[s]").astype(float) / 3600.0
    fig = Figure(figsize=(7.5, 5.5))
    ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for name, pr in res.runs.items():
        s = res.summary[name]
        ax.step(hours, pr.account.power_w.sum(axis=1) / 1e3, where="post", lw=1.3,
                label=f"{name}: {s['energy_kwh']:.1f} kWh ({s['saved_pct']:.1f} % saved)")
        ax2.step(hours, (pr.states != 0).sum(axis=1), where="post", lw=1.2, label=name)
    ax.set_ylabel("network power [kW]")
    ax.set_title(f"{run.meta['simulation']}: {run.meta['n_sectors']} sectors from {run.meta['first_day']}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax2.set_ylabel("sectors asleep")
    ax2.set_xlabel("hours")
    ax2.grid(True, alpha=0.3)
    fig.tight_layout()
    return _save_png(fig, path)


def write_energy_outputs(run, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write energy.json, energy_timeseries.parquet and (with ``png``) energy.png into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_json_atomic(out / "energy.json", energy_json(run)),
               write_timeseries_parquet(out / "energy_timeseries.parquet", timeseries_columns(run))]
    if png:
        written.append(plot_energy_png(out / "energy.png", run))
    return written
