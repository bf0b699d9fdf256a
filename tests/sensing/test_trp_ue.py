"""TRP-UE sensing maps (sensing.mode: trp_ue, sensing.ues): the target -> UE segment in free space
by hand, the echo of a pixel from the engine's one-way map, the UE noise figure, monotonicity
(more UEs, larger share), TX/RX reciprocity of the RCS terms, tiling invariance with drawn RCS,
the block's validation, and the files of `cellscape sense`."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cellscape.pipeline.sense as sense_mod
from cellscape.errors import ScenarioError
from cellscape.pipeline.sense import (
    MIN_UE_TARGET_DISTANCE_M,
    bistatic_echo_per_re_dbm,
    run_sense,
    trp_ue_pairs,
    trp_ue_receive_db,
)
from cellscape.sensing.detection import detection_probability
from cellscape.sensing.rcs import RCS_MODEL_1
from cellscape.sensing.rcs_maps import RCS_SIGMA_S_TRP_UE, sigma_s_field_db

from .test_bistatic import APERTURE_DB, GAIN_DB, LAM, iso_site
from .test_sense_pipeline import X0, Y0, maps_of, scenario_dict, sensing_of

HUMAN = RCS_MODEL_1["human"].rcs_mean_dbsm
UE_NOISE_DBM = -174 + 10 * math.log10(30e3) + 9.0            # UE noise figure 9 dB (TR 38.901 Table 7.8-1)


def fspl(d):
    return 20 * math.log10(4 * math.pi * d / LAM)


def test_hand_worked_trp_ue_budget_in_free_space():
    """46 dBm over 3276 subcarriers, 0 dBi everywhere, 3.5 GHz, 1 m^2: TX 200 m and UE 300 m from the
    target. RSRP_A = P - FSPL(200) and the UE segment 0 - FSPL(300) (trp_ue_receive_db) in the one
    bistatic formula: the radar equation P lambda^2 sigma / ((4 pi)^3 R_t^2 R_r^2) per RE."""
    p = 46.0 - 10 * math.log10(3276)
    rx = float(trp_ue_receive_db([[300.0, 0.0, 1.5]], [0.0], np.array([0.0]), np.array([0.0]), 1.5, 3.5)[0, 0, 0])
    assert rx == pytest.approx(-fspl(300), abs=1e-4)                 # float32 map
    echo = float(bistatic_echo_per_re_dbm(p - fspl(200), rx, 0.0, 3.5, 0.0))
    radar = p + 10 * math.log10(LAM ** 2 / ((4 * math.pi) ** 3 * 200 ** 2 * 300 ** 2))
    assert echo == pytest.approx(radar, abs=1e-4)
    assert echo == pytest.approx(10.846 - 89.350 - 92.872 + 32.337, abs=3e-3)


def test_receive_term_geometry_and_gain():
    ue = [[0.0, 0.0, 10.0], [50.0, 0.0, 1.5]]
    r = trp_ue_receive_db(ue, [0.0, 3.0], np.array([0.0, 40.0]), np.array([0.0]), 1.5, 3.5)
    assert r.shape == (2, 1, 2) and r.dtype == np.float32
    assert r[0, 0, 0] == pytest.approx(-fspl(8.5), abs=1e-4)                       # straight up 8.5 m
    assert r[0, 0, 1] == pytest.approx(-fspl(math.hypot(40, 8.5)), abs=1e-4)
    assert r[1, 0, 1] == pytest.approx(3.0 - fspl(10.0), abs=1e-4)
    on_top = trp_ue_receive_db([[0.0, 0.0, 1.5]], [0.0], np.array([0.0]), np.array([0.0]), 1.5, 3.5)
    assert on_top[0, 0, 0] == pytest.approx(-fspl(MIN_UE_TARGET_DISTANCE_M), abs=1e-4)


@settings(max_examples=50, deadline=None)
@given(d1=st.floats(1.0, 5000.0), d2=st.floats(1.0, 5000.0))
def test_receive_term_decreases_with_distance(d1, d2):
    r = trp_ue_receive_db([[0.0, 0.0, 1.5]], [0.0], np.array([d1, d2]), np.array([0.0]), 1.5, 3.5)[0, 0]
    assert (r[0] >= r[1]) == (d1 <= d2) or abs(r[0] - r[1]) < 1e-4


def test_pairs():
    a, u, b = trp_ue_pairs([[0, 0], [1000, 0]], [[0, 300], [600, 0], [5000, 0]], 700.0)
    assert list(zip(a.tolist(), u.tolist())) == [(0, 0), (0, 1), (1, 1)]      # site 1 - UE 0: 1044 m
    np.testing.assert_allclose(b, [300, 600, 400])


def ue_scenario(ues, sensing=None, **over):
    """Two isotropic single-sector sites 300 m apart (test_bistatic.two_sites' map), NLOS, no shadow fading."""
    s = {"target": "human", "mode": "trp_ue", "ues": ues, **(sensing or {})}
    return scenario_dict(
        sensing=s, area={"crs": "EPSG:32635", "bounds": [X0, Y0, X0 + 610, Y0 + 400], "resolution_m": 10},
        sites=[iso_site("A", X0 + 155, Y0 + 195), iso_site("B", X0 + 455, Y0 + 195)],
        los_mode="nlos", shadow_fading=False, **over)


U1 = {"ue_id": "U1", "x": X0 + 305, "y": Y0 + 45, "height_m": 1.5}
U2 = {"ue_id": "U2", "x": X0 + 55, "y": Y0 + 355, "height_m": 5.0, "antenna_gain_dbi": 2.0}


@pytest.fixture(scope="module")
def one_ue():
    return run_sense(sensing_of(ue_scenario([U1])), backend="numpy")


def test_pixel_by_hand(one_ue):
    """Pixel (row 20, col 30), 150 m from both sites and 150 m from U1 (all at 1.5 m): the best of
    A -> U1 and B -> U1, RSRP from the engine's one-way map, free space to the UE, UE noise 9 dB.
    The rays target -> site (150 m along x, 23.5 m up) and target -> U1 (150 m along -y) are
    perpendicular: beta = 90 deg, and the human (RCS model 1) echoes -3 sin(45 deg) = -2.121 dB
    (eq. 7.9.2-2)."""
    t = one_ue.maps["trp_ue"]
    m = maps_of(one_ue, backend="numpy")
    row, col = 20, 30
    rsrp = max(float(m.rsrp_dbm[0, row, col]), float(m.rsrp_dbm[1, row, col]))
    echo = rsrp - fspl(150.0) + APERTURE_DB + HUMAN - 3.0 * math.sin(math.radians(45.0))
    snr = echo + GAIN_DB - UE_NOISE_DBM
    assert float(t.sensing_snr_db[row, col]) == pytest.approx(snr, abs=2e-3)
    assert float(t.detection_probability[row, col]) == pytest.approx(float(detection_probability(snr, 1e-6)), abs=1e-5)
    assert float(t.n_detecting[row, col]) == (2.0 if snr >= 21.1399 else 0.0)   # equidistant identical sites
    k = t.kpis
    assert k["n_pairs"] == 2 and k["n_ues"] == 1 and k["ue_noise_figure_db"] == 9.0
    assert k["noise_per_re_dbm"] == pytest.approx(UE_NOISE_DBM)
    assert "free space" in k["target_ue_segment"]
    assert one_ue.trp_ue_pairs[0].tolist() == [0, 1] and one_ue.trp_ue_pairs[1].tolist() == [0, 0]
    assert set(t.bands()) == {"sensing_snr_db", "detection_probability", "n_pairs_detecting", "range_resolution_m"}


def test_ue_noise_figure_shifts_only_the_trp_ue_maps(one_ue):
    d = ue_scenario([U1], sensing={"mode": ["monostatic", "trp_ue"]}, receiver={"noise_figure_db": 7.0})
    r = run_sense(sensing_of(d), backend="numpy")
    np.testing.assert_allclose(r.maps["trp_ue"].sensing_snr_db, one_ue.maps["trp_ue"].sensing_snr_db + 2.0,
                               atol=1e-4)
    mono = run_sense(sensing_of(ue_scenario([U1], sensing={"mode": "monostatic", "ues": []})), backend="numpy")
    np.testing.assert_array_equal(r.maps["monostatic"].sensing_snr_db, mono.maps["monostatic"].sensing_snr_db)


def test_more_ues_never_lose_area(one_ue):
    two = run_sense(sensing_of(ue_scenario([U1, U2])), backend="numpy").maps["trp_ue"]
    one = one_ue.maps["trp_ue"]
    ok = np.isfinite(one.sensing_snr_db)
    assert np.all(two.sensing_snr_db[ok] >= one.sensing_snr_db[ok] - 1e-4)
    assert np.all(two.n_detecting[ok] >= one.n_detecting[ok])
    assert two.kpis["sensed_area_km2"] >= one.kpis["sensed_area_km2"]
    assert np.all(np.diff(two.tradeoff["sensed_area_km2"]) >= 0)
    assert np.nanmax(two.n_detecting) <= 4


def test_draw_is_keyed_by_site_and_ue_and_tiling_free(monkeypatch):
    """rcs_random: draw: one draw per pixel and (site, UE) pair; two identical sites equidistant from
    the pixels of column 30 and U1: there the SNR moves by the larger of the two pairs' draws. The
    maps do not depend on the row bands they are computed in."""
    base = {"detector": "swerling0"}
    exp = run_sense(sensing_of(ue_scenario([U1], sensing=base)), backend="numba")
    s = sensing_of(ue_scenario([U1], sensing={**base, "rcs_random": "draw"}))
    drw = run_sense(s, backend="numba")
    f = sigma_s_field_db(3, [(RCS_SIGMA_S_TRP_UE, 0, 0), (RCS_SIGMA_S_TRP_UE, 1, 0)], 0, 40, 0, 61, 3.94)
    col = 30
    np.testing.assert_allclose(drw.maps["trp_ue"].sensing_snr_db[:, col] - exp.maps["trp_ue"].sensing_snr_db[:, col],
                               f[:, :, col].max(axis=0), atol=2e-3)
    monkeypatch.setattr(sense_mod, "RCS_BLOCK_PIXELS", 100)
    again = run_sense(s, backend="numba")
    for band, v in again.maps["trp_ue"].bands().items():
        np.testing.assert_array_equal(v, drw.maps["trp_ue"].bands()[band])


def test_heading_with_trp_ue_runs_and_is_bounded():
    r = run_sense(sensing_of(ue_scenario([U1], sensing={"target": "vehicle", "target_heading_deg": 45.0})),
                  backend="numpy")
    avg = run_sense(sensing_of(ue_scenario([U1], sensing={"target": "vehicle"})), backend="numpy")
    d = r.maps["trp_ue"].sensing_snr_db - avg.maps["trp_ue"].sensing_snr_db
    assert np.nanmax(d) <= 21.26 - 13.35 + 1e-3 and np.nanstd(d) > 0.5


def test_validation_messages():
    with pytest.raises(ScenarioError, match=r"^sensing.ues: mode trp_ue needs sensing UEs"):
        sensing_of(ue_scenario([]))
    with pytest.raises(ScenarioError, match=r"^sensing.ues: only read with mode trp_ue"):
        sensing_of(ue_scenario([U1], sensing={"mode": "both"}))
    with pytest.raises(ScenarioError, match=r"^sensing.ues: ue_id must be unique, repeated: U1"):
        sensing_of(ue_scenario([U1, U1]))
    with pytest.raises(ScenarioError, match=r"^sensing.ues\[0\].height_m: Input should be greater than 0"):
        sensing_of(ue_scenario([{**U1, "height_m": 0.0}]))
    with pytest.raises(ScenarioError, match=r"^sensing.ues\[0\].z: "):
        sensing_of(ue_scenario([{**U1, "z": 3.0}]))
    far = ue_scenario([{"ue_id": "F", "x": X0 + 305, "y": Y0 + 300}], sensing={"max_baseline_m": 100.0})
    with pytest.raises(ScenarioError, match=r"^sensing.max_baseline_m: no site within 100 m of a sensing UE"):
        run_sense(sensing_of(far), backend="numpy")


def test_pair_cap(monkeypatch):
    monkeypatch.setattr(sense_mod, "MAX_TRP_UE_PAIRS", 3)
    with pytest.raises(ScenarioError, match=r"^sensing.ues: 4 TRP-UE pairs within max_baseline_m 1000 m, more than 3"):
        run_sense(sensing_of(ue_scenario([U1, U2])), backend="numpy")


def test_cli_writes_the_trp_ue_files(tmp_path):
    import typer
    import yaml
    from typer.testing import CliRunner

    from cellscape.cli.sense_cmd import sense

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(ue_scenario([U1], sensing={"mode": ["monostatic", "trp_ue"]})))
    app = typer.Typer()
    app.command()(sense)
    res = CliRunner().invoke(app, [str(path), "-o", str(tmp_path / "out"), "--no-png", "--backend", "numpy"])
    assert res.exit_code == 0, res.output
    assert "trp_ue: Pd >= 0.9" in res.output and "2 TRP-UE pairs (1 UEs)" in res.output
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"sensing.tif", "sensing_trp_ue.tif", "sensing_tradeoff_trp_ue.csv", "sensing_kpis.json"} <= names
    k = json.loads((tmp_path / "out" / "sensing_kpis.json").read_text())
    assert k["mode"] == ["monostatic", "trp_ue"] and k["trp_ue"]["n_pairs"] == 2
    doc = json.loads((tmp_path / "out" / "scenario.json").read_text())
    assert doc["sensing"]["ues"][0]["ue_id"] == "U1"
