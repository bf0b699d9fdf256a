"""The slot loop never indexes outside its arrays: a mixed network (two slices with their own
uplink, a user that needs one RBG next to full-buffer users, RedCap, mobility, fading, TDD) run with
numba's bounds checking on, in a fresh process (the checked code is compiled there, into its own
cache). An out-of-bounds write in compiled code corrupts memory silently; here it raises."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    from cellscape.scenario.model import parse_scenario
    from cellscape.scenario.simulation import parse_simulation
    from cellscape.pipeline import localize
    from cellscape.coverage.engine import sector_maps
    from cellscape.simulation.engine import run_simulation
    X0, Y0 = 385_000.0, 6_671_000.0
    sites = [{"site_id": f"S{i}", "x": X0 + 150 + 300 * i, "y": Y0 + 200, "height_m": 25,
              "sectors": [{"azimuth_deg": a, "tx_power_dbm": 46} for a in (0, 120, 240)]} for i in range(2)]
    sc = parse_scenario({"name": "b", "seed": 3, "environment": "UMa",
        "area": {"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 600, Y0 + 400], "resolution_m": 10},
        "carrier": {"fc_ghz": 3.5, "bandwidth_mhz": 100, "scs_khz": 30}, "sites": sites})
    users = [
        {"name": "sensor", "count": 6, "slice": "urllc", "device": "redcap",
         "traffic": {"model": "urllc", "packet_size_bytes": 32, "arrival_rate_per_s": 1000, "periodic": True,
                     "direction": "both"}},
        {"name": "fb", "count": 12, "traffic": {"model": "full_buffer", "direction": "both"}},
        {"name": "ftp", "count": 12, "traffic": {"model": "ftp3", "arrival_rate_per_s": 5, "direction": "both"},
         "mobility": {"model": "random_waypoint", "speed_kmh": [3, 60]}},
    ]
    for kind in ("pf", "rr"):
        sim = parse_simulation({"simulation": {"duration_s": 0.3, "warmup_s": 0.02, "users": users,
            "slices": [{"name": "embb", "prb_share": 0.7}, {"name": "urllc", "prb_share": 0.3, "priority": 0,
                                                            "latency_budget_ms": 5}],
            "scheduler": {"kind": kind}, "duplex": {"mode": "tdd", "pattern": "DSUUU"}}}, sc)
        grid, xy = localize(sc)
        res = run_simulation(sim, {1.5: sector_maps(sc, grid, xy)})
        assert (res.cells["prb_utilisation_ul"] <= 1 + 1e-12).all()
    print("bounds ok")
''')


def test_slot_loop_stays_in_bounds(tmp_path):
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    p = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and "bounds ok" in p.stdout, p.stderr[-3000:]
