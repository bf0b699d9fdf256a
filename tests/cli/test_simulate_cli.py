"""``cellscape simulate`` end to end on a tiny network: files, summary keys, one-line errors."""

import json

import numpy as np

import pyarrow.parquet as pq
from typer.testing import CliRunner

from cellscape.cli.app import app

from .test_app import scenario_dict, write

runner = CliRunner()


def sim_file(tmp_path, **over):
    write(tmp_path, scenario_dict(), "radio.yaml")
    block = {"duration_s": 0.2, "warmup_s": 0.02,
             "slices": [{"name": "embb", "prb_share": 0.8}, {"name": "urllc", "prb_share": 0.2, "priority": 0,
                                                              "latency_budget_ms": 5}],
             "users": [{"name": "phones", "count": 12, "traffic": {"model": "full_buffer", "direction": "both"}},
                       {"name": "walkers", "count": 4, "mobility": {"model": "random_waypoint", "speed_kmh": [3, 30]},
                        "traffic": {"model": "ftp3", "arrival_rate_per_s": 5}},
                       {"name": "sensors", "count": 4, "slice": "urllc", "device": "redcap",
                        "traffic": {"model": "urllc", "arrival_rate_per_s": 100, "periodic": True}}]}
    block.update(over)
    return write(tmp_path, {"scenario": "radio.yaml", "name": "tiny-sim", "simulation": block}, "sim.yaml")


def test_simulate_writes_everything(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["simulate", str(sim_file(tmp_path)), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "tiny-sim: 20 users, 4 sectors" in r.output
    for name in ("ue_kpis.parquet", "cell_kpis.parquet", "timeseries.parquet", "events.parquet", "summary.json",
                 "simulation.json", "user_throughput_cdf.png", "cell_load.png", "users.png", "latency_hist.parquet"):
        assert (out / name).is_file(), name
    s = json.loads((out / "summary.json").read_text())
    for key in ("cell_spectral_efficiency_bps_hz", "user_throughput_mbps", "user_spectral_efficiency_p5_bps_hz",
                "slices", "handover_rate_per_user_s", "ping_pong_rate", "rlf_rate_per_user_s"):
        assert key in s
    assert set(s["user_throughput_mbps"]) == {"p5", "p50", "p95"}
    ue = pq.read_table(out / "ue_kpis.parquet").to_pandas()
    assert len(ue) == 20 and {"serving_sector_id", "dl_throughput_mbps", "latency_p99_ms", "handovers",
                              "rlfs", "indoor", "device", "slice"} <= set(ue.columns)
    cells = pq.read_table(out / "cell_kpis.parquet").to_pandas()
    assert len(cells) == 4 and (cells["prb_utilisation_dl"] <= 1).all()
    assert not list(out.glob(".*partial"))
    rep = runner.invoke(app, ["report", str(out)])
    assert rep.exit_code == 0, rep.output
    html = (out / "report.html").read_text()
    assert "System-level simulation: tiny-sim" in html and "cell spectral efficiency" in html
    assert ">urllc<" in html and ">walkers<" in html and html.count("data:image/png;base64") >= 4


def test_bad_simulation_file_is_one_line(tmp_path):
    p = sim_file(tmp_path, users=[{"name": "x", "count": 1, "slice": "nope"}])
    r = runner.invoke(app, ["simulate", str(p), "-o", str(tmp_path / "o")])
    assert r.exit_code != 0
    lines = [ln for ln in r.output.strip().splitlines() if ln]
    assert len(lines) == 1 and "simulation.users[0].slice: no slice 'nope'" in lines[0]
    assert not (tmp_path / "o").exists()


def test_run_with_a_device_writes_the_uplink_map(tmp_path):
    import rasterio

    p = write(tmp_path, scenario_dict(), "radio.yaml")
    r = runner.invoke(app, ["run", str(p), "-o", str(tmp_path / "o"), "--device", "redcap", "--no-png"])
    assert r.exit_code == 0, r.output
    assert "device redcap" in r.output and "uplink (51 PRB)" in r.output
    with rasterio.open(tmp_path / "o" / "uplink.tif") as ds:
        assert ds.descriptions == ("ul_sinr_db", "ul_throughput_mbps", "ul_tx_power_dbm", "coupling_loss_db")
    k = json.loads((tmp_path / "o" / "kpis.json").read_text())
    assert k["uplink"]["n_prb"] == 51 and k["meta"]["device"] == "redcap"
    bad = runner.invoke(app, ["run", str(p), "-o", str(tmp_path / "o2"), "--device", "toaster"])
    assert bad.exit_code != 0 and len(bad.output.strip().splitlines()) == 1 and "toaster" in bad.output


def test_simulate_with_the_iot_evaluation(tmp_path):
    out = tmp_path / "out"
    p = sim_file(tmp_path, users=[{"name": "phones", "count": 4}],
                 iot={"enabled": True, "density_per_km2": 5e5, "fc_ghz": 0.8, "indoor_extra_loss_db": 20})
    r = runner.invoke(app, ["simulate", str(p), "-o", str(out), "--no-png"])
    assert r.exit_code == 0, r.output
    assert "NB-IoT at 0.8 GHz: CE0/CE1/CE2/beyond MCL" in r.output and "connection density" in r.output
    s = json.loads((out / "summary.json").read_text())
    assert 0.0 <= s["iot_access_success_rate"] <= 1.0
    iot = s["iot"]
    assert iot["fc_ghz"] == 0.8 and iot["imt2020_requirement_per_km2"] == 1e6
    assert iot["meets_imt2020_connection_density"] == (iot["connection_density_per_km2"] >= 1e6)
    import rasterio

    with rasterio.open(out / "iot_coverage.tif") as f:
        assert f.descriptions == ("coupling_loss_db", "ce_level") and f.crs is not None
        ce = f.read(2)
    assert set(np.unique(ce)) <= {0, 1, 2, 3}
    rows = (out / "iot_density.csv").read_text().splitlines()
    assert rows[0].startswith("density_per_km2,packets,packet_outage_rate") and len(rows) >= 3
    assert sum(line.endswith(",True") for line in rows[1:]) == 1
    rep = runner.invoke(app, ["report", str(out)])
    assert rep.exit_code == 0, rep.output
    html = (out / "report.html").read_text()
    assert "<h3>Massive IoT</h3>" in html and "connection density at 1 % outage" in html


def test_calibrate_iot_in_the_m2412_test_environment(tmp_path):
    r = runner.invoke(app, ["calibrate", "--iot", "--n-drops", "2000", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if ln.startswith("ITU-R M.2412 Urban Macro-mMTC configuration")]
    assert len(lines) == 2 and all("connection density" in ln for ln in lines)
    s = json.loads((tmp_path / "iot_m2412.json").read_text())
    assert set(s) == {"A", "B"} and s["B"]["area_km2"] > s["A"]["area_km2"]
    csv_rows = (tmp_path / "iot_m2412_density.csv").read_text().splitlines()
    assert csv_rows[0].startswith("config,density_per_km2") and {ln[0] for ln in csv_rows[1:]} == {"A", "B"}
