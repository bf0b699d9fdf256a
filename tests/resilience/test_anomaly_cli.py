"""``cellscape anomalies`` end to end on tiny series: a KPI table (Parquet and CSV) with an outage,
a synthetic history with injected truth, and one-line errors on bad input."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from cellscape.ai.loadgen import generate_load_history
from cellscape.cli.anomaly_cmd import anomalies
from cellscape.io.anomaly_io import ANOMALY_COLUMNS, kpi_frame, read_kpi_table, write_kpi_table
from cellscape.resilience.anomaly import KpiSeries, adjacency_from_positions, kpis_from_load

app = typer.Typer(pretty_exceptions_enable=False)
app.command()(anomalies)
app.command(name="noop")(lambda: None)            # two commands: the app keeps the command name
runner = CliRunner()

N_DAYS = 21
STEP_S = 3600
OUT_CELL, OUT_DAY, OUT_HOURS = 2, 18, (9, 15)        # an outage: day 18 (Friday), 9:00 to 15:00


def tiny_series(with_outage=True) -> KpiSeries:
    x = np.repeat([0.0, 800.0], 3)
    y = np.zeros(6)
    h = generate_load_history(np.full(6, 0.7), ["business", "residential", "transport"] * 2, n_days=N_DAYS,
                              step_s=STEP_S, seed=4, cell_id=[f"cell{i}" for i in range(6)])
    off = np.zeros(h.load.shape, bool)
    if with_outage:
        off[OUT_CELL, OUT_DAY * 24 + OUT_HOURS[0]:OUT_DAY * 24 + OUT_HOURS[1]] = True
    k = kpis_from_load(h.load, adjacency_from_positions(x, y), rng=np.random.default_rng(4), off=off)
    return KpiSeries(tuple(h.cell_id), h.start, STEP_S, k)


def invoke(*args):
    return runner.invoke(app, ["anomalies", *map(str, args)])


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_kpi_table_end_to_end(tmp_path, suffix):
    series = tiny_series()
    path = tmp_path / f"kpis.{suffix}"
    df = kpi_frame(series).rename(columns={"prb_utilisation": "load"})          # the alias is read too
    df = df.sample(frac=1.0, random_state=0)                                    # row order does not matter
    df.to_parquet(path) if suffix == "parquet" else df.to_csv(path, index=False)
    out = tmp_path / "out"
    r = invoke(path, "-o", out)
    assert r.exit_code == 0, r.output
    assert "6 cells x 168 steps of 3600 s" in r.output
    for name in ("anomalies.parquet", "anomaly_metrics.json", "anomalies.png"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*partial"))
    found = pd.read_parquet(out / "anomalies.parquet")
    assert list(found.columns[:len(ANOMALY_COLUMNS)]) == list(ANOMALY_COLUMNS)
    hit = found[(found.cell_id == f"cell{OUT_CELL}") & (found.kind == "outage")]
    assert len(hit) == 1
    t0 = pd.Timestamp("2026-01-05") + pd.Timedelta(days=OUT_DAY, hours=OUT_HOURS[0])
    assert hit.start.iloc[0] == t0 and hit.end.iloc[0] == t0 + pd.Timedelta(hours=OUT_HOURS[1] - OUT_HOURS[0])
    m = json.loads((out / "anomaly_metrics.json").read_text())
    assert m["cells"] == 6 and m["train_window"] == ["2026-01-05T00:00:00", "2026-01-19T00:00:00"]
    assert m["detected_events"] == len(found) and "synthetic" not in m


X0, Y0 = 385_000.0, 6_671_000.0


def sim_file(tmp_path):
    """Three three-sector sites on a 20 m grid, 60 phones: a tiny simulation file."""
    sites = [{"site_id": s, "x": X0 + x, "y": Y0 + y, "height_m": 25,
              "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]}
             for s, x, y in (("A", 200, 200), ("B", 700, 250), ("C", 450, 550))]
    radio = {"name": "tiny", "seed": 3, "environment": "UMa",
             "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 900, Y0 + 700], "resolution_m": 20},
             "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites}
    (tmp_path / "radio.yaml").write_text(yaml.safe_dump(radio))
    sim = {"scenario": "radio.yaml", "name": "tiny-sim",
           "simulation": {"duration_s": 1.0, "users": [{"name": "phones", "count": 60,
                                                        "traffic": {"model": "full_buffer"}}]}}
    p = tmp_path / "sim.yaml"
    p.write_text(yaml.safe_dump(sim))
    return p


def test_synthesize_end_to_end(tmp_path):
    out = tmp_path / "out"
    r = invoke("--synthesize", sim_file(tmp_path), "-o", out, "--days", 21, "--seed", 7, "--runs", 2,
               "--backend", "numpy")
    assert r.exit_code == 0, r.output
    assert "tiny-sim: " in r.output and "vs injected truth (2 histories of 21 days" in r.output
    for name in ("anomalies.parquet", "anomaly_metrics.json", "anomalies.png", "kpis.parquet",
                 "injected_events.parquet"):
        assert (out / name).is_file(), name
    m = json.loads((out / "anomaly_metrics.json").read_text())
    syn = m["synthetic"]
    assert syn["seeds"] == [7, 8] and syn["n_days"] == 21
    assert syn["event"]["injected"] == 12 and set(syn["event"]["confusion"]) == {"outage", "jamming", "surge", "none"}
    assert syn["event"]["recall"] >= 0.5 and syn["point"]["precision"] >= 0.5
    truth = pd.read_parquet(out / "injected_events.parquet")
    assert sorted(truth.kind) == ["jamming", "jamming", "outage", "outage", "surge", "surge"]
    assert (truth.start >= pd.Timestamp("2026-01-19")).all()                     # only in the evaluation week
    # the written history runs through the detector again with the same events (same baseline, same data;
    # without a neighbour file no incidents: a cell's kind can only be weaker than in its incident,
    # outage > jamming > surge > other)
    again = tmp_path / "again"
    r2 = invoke(out / "kpis.parquet", "-o", again, "--no-png")
    assert r2.exit_code == 0, r2.output
    a = pd.read_parquet(out / "anomalies.parquet")
    b = pd.read_parquet(again / "anomalies.parquet")
    same = [c for c in ANOMALY_COLUMNS if c != "kind"]
    pd.testing.assert_frame_equal(a[same], b[same])
    strength = {"other": 0, "surge": 1, "jamming": 2, "outage": 3}
    assert (a.kind.map(strength) >= b.kind.map(strength)).all()


def test_read_back_what_was_written(tmp_path):
    s = tiny_series(with_outage=False)
    back = read_kpi_table(write_kpi_table(tmp_path / "k.parquet", s))
    assert back.cell_id == s.cell_id and back.step_s == STEP_S and back.start == s.start
    for k, v in s.values.items():
        np.testing.assert_array_equal(back.values[k], v)


def test_missing_rows_are_not_reported(tmp_path):
    df = kpi_frame(tiny_series(with_outage=False))
    df = df.drop(index=[5, 6]).iloc[:, :3]
    df.to_csv(tmp_path / "k.csv", index=False)
    s = read_kpi_table(tmp_path / "k.csv")
    assert np.isnan(s.values["prb_utilisation"][0, 5:7]).all() and s.n_steps == N_DAYS * 24


def test_neighbour_file_joins_the_outage_incident(tmp_path):
    write_kpi_table(tmp_path / "k.parquet", tiny_series())
    pd.DataFrame({"cell_id": ["cell0", "cell1"], "neighbour_id": ["cell1", "cell2"]}).to_csv(tmp_path / "n.csv",
                                                                                              index=False)
    r = invoke(tmp_path / "k.parquet", "-o", tmp_path / "o", "--neighbours", tmp_path / "n.csv", "--no-png")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "o" / "anomaly_metrics.json").read_text())["detector"]["neighbours"] is True
    assert not (tmp_path / "o" / "anomalies.png").exists()


def _bad_tables(tmp_path):
    good = kpi_frame(tiny_series(with_outage=False))
    yield "missing column(s) timestamp", good.drop(columns=["timestamp"])
    yield "two rows at", pd.concat([good, good.iloc[:1]])
    shifted = good.copy()
    shifted.loc[0, "timestamp"] = shifted.loc[0, "timestamp"] + pd.Timedelta(minutes=20)
    yield "not on one regular step", shifted
    text = good.copy()
    text["sinr_db"] = "x"
    yield "are not numeric", text
    yield "under the 14 days", good[good.timestamp < pd.Timestamp("2026-01-17")]


def test_bad_input_is_one_line(tmp_path):
    for i, (message, df) in enumerate(_bad_tables(tmp_path)):
        p = tmp_path / f"bad{i}.parquet"
        df.to_parquet(p)
        r = invoke(p, "-o", tmp_path / "o")
        assert r.exit_code == 1, (message, r.output)
        assert r.stderr.startswith("error: ") and message in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    for args, message in [((tmp_path / "nope.parquet",), "does not exist"),
                          ((), "either a KPI table"),
                          ((tmp_path / "bad0.parquet", "--synthesize", tmp_path / "s.yaml"), "either a KPI table")]:
        r = invoke(*args, "-o", tmp_path / "o")
        assert r.exit_code == 1 and message in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    (tmp_path / "k.txt").write_text("x")
    r = invoke(tmp_path / "k.txt")
    assert r.exit_code == 1 and "must be .parquet or .csv" in r.stderr
