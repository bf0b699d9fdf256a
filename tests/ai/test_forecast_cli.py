"""``cellscape forecast`` end to end on tiny files, the history reader, and one-line errors."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cellscape.ai.forecast import evaluate_holdout
from cellscape.ai.loadgen import generate_load_history
from cellscape.cli.forecast_cmd import forecast
from cellscape.errors import DataFileError
from cellscape.io.forecast_outputs import read_load_history, write_load_history

STEP_S = 3600


@pytest.fixture
def app():
    a = typer.Typer()
    a.command()(forecast)
    return a


def _frame(n_days=10, load_name="load"):
    h = generate_load_history([0.7, 0.4, 0.6], ["business", "residential", "transport"], n_days=n_days,
                              step_s=STEP_S, seed=4, cell_id=["A", "B", "C"])
    n_t = h.n_steps
    return h, pd.DataFrame({
        "cell_id": np.repeat(h.cell_id, n_t),
        "timestamp": np.tile(h.timestamps().astype(str), 3),
        load_name: h.load.ravel(),
    })


def _run(app, *args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_end_to_end_on_tiny_csv(app, tmp_path):
    h, df = _frame()
    path = tmp_path / "hist.csv"
    df.sample(frac=1.0, random_state=0).to_csv(path, index=False)  # row order must not matter
    out = tmp_path / "out"
    r = _run(app, path, "-o", out, "--holdout-days", 2, "--model", "seasonal_es")
    assert r.exit_code == 0, r.output
    assert "seasonal naive (weekly)" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["accuracy.csv", "accuracy.json", "forecast.parquet",
                                                     "forecast.png"]
    acc = json.loads((out / "accuracy.json").read_text())
    assert acc["model"] == "seasonal_es" and acc["n_cells"] == 3
    assert acc["train"]["n_steps"] == 8 * 24 and acc["holdout"]["n_steps"] == 2 * 24
    assert acc["holdout"]["start"] == "2026-01-13T00:00:00"
    # the CLI's numbers are those of the library on the same split
    ev = evaluate_holdout(h.load, step_s=STEP_S, holdout_steps=48, model="seasonal_es")
    assert acc["overall"]["model"]["mae"] == pytest.approx(ev.errors["mae"])
    assert acc["overall"]["baseline"]["mape_pct"] == pytest.approx(ev.baseline_errors["mape_pct"])
    fc = pd.read_parquet(out / "forecast.parquet")
    assert list(fc.columns) == ["cell_id", "timestamp", "actual", "forecast", "baseline"]
    assert len(fc) == 3 * 48 and fc["timestamp"].min() == pd.Timestamp("2026-01-13")
    np.testing.assert_allclose(fc["actual"].to_numpy().reshape(3, 48), h.load[:, -48:])
    per_cell = pd.read_csv(out / "accuracy.csv")
    assert per_cell["cell_id"].tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(per_cell["baseline_mae"], ev.baseline_errors["per_cell"]["mae"], rtol=1e-5)


def test_reader_accepts_prb_utilisation_and_parquet(tmp_path):
    h, df = _frame(load_name="prb_utilisation")
    df.to_parquet(tmp_path / "h.parquet")
    got = read_load_history(tmp_path / "h.parquet")
    assert got.step_s == STEP_S and got.cell_id.tolist() == ["A", "B", "C"]
    np.testing.assert_allclose(got.load, h.load)
    assert str(got.start) == "2026-01-05T00:00:00"


def test_history_round_trip(tmp_path):
    h, _ = _frame(n_days=2)
    write_load_history(tmp_path / "x.parquet", h)
    got = read_load_history(tmp_path / "x.parquet")
    np.testing.assert_allclose(got.load, h.load)
    assert got.cell_type.tolist() == h.cell_type.tolist()


def _error_line(app, tmp_path, df, *extra):
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    r = _run(app, path, "-o", tmp_path / "out", *extra)
    assert r.exit_code == 1
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


def test_error_lines(app, tmp_path):
    _, df = _frame()
    assert "missing column(s) load (or prb_utilisation)" in _error_line(app, tmp_path, df.rename(columns={"load": "x"}))
    bad_ts = df.copy()
    bad_ts.loc[5, "timestamp"] = "not-a-time"
    assert "unparsable timestamps" in _error_line(app, tmp_path, bad_ts)
    gap = df.drop(index=df.index[(df["timestamp"] == "2026-01-06T03:00:00")])
    assert "irregular step: 7200 s" in _error_line(app, tmp_path, gap)
    hole = df.drop(index=[7])
    assert "missing samples, e.g. cell A" in _error_line(app, tmp_path, hole)
    pct = df.assign(load=df["load"] * 100)
    assert "percentages" in _error_line(app, tmp_path, pct)
    assert "too short" in _error_line(app, tmp_path, df, "--holdout-days", 4)
    assert "3600 s apart, not --step-s 900" in _error_line(app, tmp_path, df, "--step-s", 900)
    assert "'prophet' is not one of" in _error_line(app, tmp_path, df, "--model", "prophet")


def test_error_without_input(app, tmp_path):
    r = _run(app, "-o", tmp_path / "out")
    assert r.exit_code == 1 and "exactly one" in r.output


def test_missing_file_raises(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_load_history(tmp_path / "nope.csv")


def test_cli_synthesize_from_a_tiny_simulation(app, tmp_path):
    import yaml

    x0, y0 = 385_000.0, 6_671_000.0
    sites = [{"site_id": f"S{i}", "x": x0 + 150 + 300 * i, "y": y0 + 200, "height_m": 25,
              "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]} for i in range(2)]
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump({
        "name": "tiny", "seed": 3, "environment": "UMa",
        "area": {"crs": "EPSG:32635", "bounds": [x0, y0, x0 + 600, y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites}))
    (tmp_path / "sim.yaml").write_text(yaml.safe_dump({
        "scenario": "tiny.yaml", "name": "tiny-sim",
        "simulation": {"seed": 5, "users": [{"name": "phones", "count": 60}]}}))
    out = tmp_path / "out"
    r = _run(app, "--synthesize", tmp_path / "sim.yaml", "--days", 9, "--holdout-days", 2, "--step-s", 3600,
             "--shift-day", 8, "--backend", "numpy", "--no-png", "-o", out)
    assert r.exit_code == 0, r.output
    assert "tiny-sim: 6 sectors" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["accuracy.csv", "accuracy.json", "forecast.parquet",
                                                     "load_history.parquet"]
    hist = read_load_history(out / "load_history.parquet")
    assert hist.load.shape == (6, 9 * 24) and hist.step_s == 3600
    acc = json.loads((out / "accuracy.json").read_text())
    assert len(acc["cells_from_simulation"]) == 6
    assert sum(c["users"] for c in acc["cells_from_simulation"]) == pytest.approx(60.0)
    assert acc["train"]["days"] == 7 and acc["holdout"]["days"] == 2
    # the same history and seed give the same file
    r2 = _run(app, "--synthesize", tmp_path / "sim.yaml", "--days", 9, "--holdout-days", 2, "--step-s", 3600,
              "--shift-day", 8, "--backend", "numpy", "--no-png", "-o", tmp_path / "out2")
    assert r2.exit_code == 0
    np.testing.assert_array_equal(read_load_history(tmp_path / "out2" / "load_history.parquet").load, hist.load)


@pytest.mark.slow
def test_cli_synthesize_helsinki(app, tmp_path):
    from pathlib import Path

    sim = Path(__file__).resolve().parents[2] / "examples" / "helsinki-sim.yaml"
    out = tmp_path / "out"
    r = _run(app, "--synthesize", sim, "--days", 35, "--holidays", "2026-01-06", "-o", out)
    assert r.exit_code == 0, r.output
    acc = json.loads((out / "accuracy.json").read_text())
    assert acc["n_cells"] == 32 and acc["model"] == "profile"
    assert acc["overall"]["model"]["mae"] < acc["overall"]["baseline"]["mae"]
    assert {c["cell_type"] for c in acc["per_cell"]} == {"business", "residential", "transport"}
