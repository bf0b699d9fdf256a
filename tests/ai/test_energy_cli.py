"""``cellscape energy`` end to end on a tiny network: files, totals equal to the time series, one-line errors."""

import json

import numpy as np
import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from cellscape.cli.energy_cmd import energy

from ..cli.test_app import scenario_dict, write

runner = CliRunner()
app = typer.Typer()
app.command()(energy)
app.command(name="noop")(lambda: None)   # two commands: the energy command is then named on the line


def sim_file(tmp_path):
    write(tmp_path, scenario_dict(), "radio.yaml")
    block = {"users": [{"name": "phones", "count": 200},
                       {"name": "walkers", "count": 40, "mobility": {"model": "random_waypoint", "speed_kmh": [3, 5]}}]}
    return write(tmp_path, {"scenario": "radio.yaml", "name": "tiny-energy", "simulation": block}, "sim.yaml")


def test_energy_writes_everything_and_the_totals_add_up(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["energy", str(sim_file(tmp_path)), "-o", str(out), "--backend", "numpy",
                            "--step-min", "60", "--history-days", "7", "--points", "300",
                            "--forecast-model", "seasonal_naive", "--threshold", "0.2"])
    assert r.exit_code == 0, r.output
    assert "tiny-energy: 4 sectors, 300 demand points, 1 day(s)" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["energy.json", "energy.png", "energy_timeseries.parquet"]
    e = json.loads((out / "energy.json").read_text())
    assert set(e["policies"]) == {"always_on", "threshold", "forecast"}
    for s in e["policies"].values():
        assert set(s["user_throughput_mbps"]) == {"p5", "p50", "p95"}
        for key in ("energy_kwh", "saved_pct", "coverage_lost_pct", "wake_up_violations", "n_transitions"):
            assert key in s
    assert e["policies"]["always_on"]["saved_pct"] == 0.0
    assert e["power_model"]["spec"].startswith("3GPP TR 38.864")
    ts = pq.read_table(out / "energy_timeseries.parquet").to_pandas()
    assert len(ts) == 3 * 24 * 4
    assert {"step", "time", "policy", "sector", "sector_id", "state", "state_name", "load", "power_w",
            "energy_j"} <= set(ts.columns)
    for name, s in e["policies"].items():
        rows = ts[ts["policy"] == name]
        assert np.isclose(rows["energy_j"].sum() / 3.6e6, s["energy_kwh"], rtol=1e-12)
        assert np.isclose((rows["power_w"] * 3600.0).sum() / 3.6e6, s["energy_kwh"], rtol=1e-12)
    on = ts[ts["policy"] == "always_on"]
    assert (on["state_name"] == "active").all()
    assert not list(out.glob(".*partial"))


def test_bad_policy_is_one_line(tmp_path):
    r = runner.invoke(app, ["energy", str(sim_file(tmp_path)), "-o", str(tmp_path / "o"), "--policy", "sometimes"])
    assert r.exit_code == 1
    assert r.stderr.startswith("error: --policy='sometimes' is not one of 'all', 'always_on'")
    assert len(r.stderr.strip().splitlines()) == 1


def test_too_short_history_is_one_line(tmp_path):
    r = runner.invoke(app, ["energy", str(sim_file(tmp_path)), "-o", str(tmp_path / "o"), "--history-days", "3",
                            "--backend", "numpy"])
    assert r.exit_code == 1
    assert "history_days=3 must be an integer >= 7" in r.stderr
