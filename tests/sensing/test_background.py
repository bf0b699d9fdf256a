"""Background channel of TRP-monostatic sensing as noise-like clutter (cellscape.sensing.background,
sensing.background: tr38901): Table 7.9.4.2-1's reference-point geometry and the NLOS path loss by
hand, the two-way gain, the noise rise, the SCNR maps against the SNR maps, and validation."""

import math

import numpy as np
import pytest

from cellscape.errors import OutOfValidityRangeError, ScenarioError
from cellscape.pipeline.sense import run_sense
from cellscape.scenario.records import AntennaSpec
from cellscape.sensing.background import (
    clutter_noise_rise_db,
    monostatic_background_per_re_dbm,
    reference_point_geometry_m,
    reference_point_path_loss_db,
    two_way_gain_db,
)

from .test_sense_pipeline import scenario_dict, sensing_of

NOISE_DBM = -174 + 10 * math.log10(30e3) + 5.0           # gNB noise figure 5 dB, 30 kHz


def test_reference_point_geometry_by_hand():
    """E[G(alpha, beta)] = alpha / beta (shape-rate) plus c; RMa's 0.05 m is clipped to RMa's 1 m."""
    d, h = reference_point_geometry_m("UMa")
    assert d == pytest.approx(10.3370 / 0.1317 + 68.7778) and h == pytest.approx(16.2253 / 1.9218 + 2.6142)
    d, h = reference_point_geometry_m("UMi")
    assert d == pytest.approx(6.1996 / 0.1558 + 15.2697) and h == pytest.approx(12.0487 / 2.3261 + 0.0157)
    d, h = reference_point_geometry_m("RMa")
    assert d == pytest.approx(6.2025 / 0.0391 + 1.2940) and h == 1.0
    with pytest.raises(Exception, match="environment"):
        reference_point_geometry_m("InF-SL")


def test_reference_point_path_loss_by_hand():
    """UMa NLOS (Table 7.4.1-1): 13.54 + 39.08 lg d3D + 20 lg fc - 0.6 (h_UT - 1.5), above the LOS law."""
    d, h = reference_point_geometry_m("UMa")
    d3 = math.hypot(d, 25.0 - h)
    ref = 13.54 + 39.08 * math.log10(d3) + 20 * math.log10(3.5) - 0.6 * (h - 1.5)
    assert reference_point_path_loss_db("UMa", 25.0, 3.5) == pytest.approx(ref, abs=1e-9)
    assert ref == pytest.approx(103.49, abs=0.01)


def test_two_way_gain_and_background_by_hand():
    iso = AntennaSpec(model="isotropic", max_gain_dbi=0.0)
    assert two_way_gain_db(97.0, azimuth_deg=0.0, mech_tilt_deg=0.0, elec_tilt_deg=0.0, antenna=iso) == \
        pytest.approx(10 * math.log10(3), abs=1e-12)
    iso8 = AntennaSpec(model="isotropic", max_gain_dbi=8.0)
    assert two_way_gain_db(97.0, azimuth_deg=0.0, mech_tilt_deg=0.0, elec_tilt_deg=0.0, antenna=iso8) == \
        pytest.approx(16 + 10 * math.log10(3), abs=1e-12)
    p_re = 46.0 - 10 * math.log10(3276)
    assert monostatic_background_per_re_dbm(p_re, "UMa", 25.0, 3.5) == pytest.approx(
        p_re + 10 * math.log10(3) - reference_point_path_loss_db("UMa", 25.0, 3.5), abs=1e-9)
    # a sector antenna: averaged over azimuth, below its two-way peak, and the same for any azimuth
    sec = AntennaSpec(model="tr38901", max_gain_dbi=8.0, n_rows=8)
    g = [two_way_gain_db(95.0, azimuth_deg=a, mech_tilt_deg=0.0, elec_tilt_deg=6.0, antenna=sec) for a in (0, 77, 200)]
    assert max(g) - min(g) < 0.05
    assert g[0] < 2 * (8.0 + 10 * math.log10(8)) + 10 * math.log10(3)


def test_clutter_noise_rise():
    assert float(clutter_noise_rise_db(-124.0, -124.0)) == pytest.approx(10 * math.log10(2))
    assert float(clutter_noise_rise_db(-300.0, -124.0)) == pytest.approx(0.0, abs=1e-12)
    r = clutter_noise_rise_db(-80.0, -124.0, np.array([0.0, 20.0, 40.0, 60.0]))
    assert np.all(np.diff(r) < 0) and r[0] == pytest.approx(44.0, abs=0.01)


@pytest.fixture(scope="module")
def runs():
    base = {"target": "human", "mode": "both"}
    out = {"none": run_sense(sensing_of(scenario_dict(sensing=base)), backend="numpy")}
    for supp in (0.0, 40.0):
        s = {**base, "background": "tr38901", "background_suppression_db": supp}
        out[supp] = run_sense(sensing_of(scenario_dict(sensing=s)), backend="numpy")
    return out


def test_scnr_is_the_snr_less_the_noise_rise(runs):
    """Every sector of the tiny scenario has the same antenna, height and power: one rise for all, so
    SCNR = SNR - rise at every pixel; Pd and the counts follow; the bistatic maps are unchanged."""
    for supp in (0.0, 40.0):
        r = runs[supp]
        k = r.maps["monostatic"].kpis["background"]
        rise = k["noise_rise_db_min_median_max"][1]
        bg = k["background_per_re_dbm_min_median_max"][1]
        assert rise == pytest.approx(float(clutter_noise_rise_db(bg, NOISE_DBM, supp)), abs=1e-9)
        np.testing.assert_allclose(r.maps["monostatic"].sensing_snr_db,
                                   runs["none"].maps["monostatic"].sensing_snr_db - rise, atol=2e-3)
        np.testing.assert_array_equal(r.maps["bistatic"].sensing_snr_db, runs["none"].maps["bistatic"].sensing_snr_db)
        assert "not modelled" in r.maps["bistatic"].kpis["background"]
    assert runs[0.0].maps["monostatic"].kpis["background"]["noise_rise_db_min_median_max"][1] > 40
    a = [runs[x].maps["monostatic"].kpis["sensed_area_km2"] for x in (0.0, 40.0, "none")]
    assert a[0] <= a[1] <= a[2]
    assert "background" not in runs["none"].maps["monostatic"].kpis


def test_validation():
    with pytest.raises(ScenarioError, match=r"^sensing.background_suppression_db: only with background: tr38901"):
        sensing_of(scenario_dict(sensing={"target": "human", "background_suppression_db": 10}))
    with pytest.raises(ScenarioError, match=r"^sensing.background: Input should be 'none' or 'tr38901'"):
        sensing_of(scenario_dict(sensing={"target": "human", "background": "clutter"}))
    d = scenario_dict(sensing={"target": "human", "background": "tr38901"}, environment="InH-office-open")
    for site in d["sites"]:
        site["height_m"] = 3.0
    with pytest.raises((ScenarioError, OutOfValidityRangeError), match=r"sensing.background: 'tr38901' has outdoor "
                                                                       r"rows only"):
        run_sense(sensing_of(d), backend="numpy")


def test_sectors_with_different_backgrounds_reduce_per_sector():
    """Site A's sectors tilted differently: their backgrounds differ, so the run reduces sectors, not
    sites, and the monostatic SCNR is max over sectors of (2 RSRP - P + 10 lg(4 pi/lambda^2) + RCS -
    rise) + G - N, checked on every pixel against the engine's sector maps."""
    from cellscape.pipeline.sense import monostatic_background, monostatic_echo_per_re_dbm

    from .test_bistatic import APERTURE_DB, GAIN_DB
    from .test_sense_pipeline import maps_of

    d = scenario_dict(sensing={"target": "human", "background": "tr38901", "background_suppression_db": 45.0},
                      shadow_fading=False)
    for k, sec in enumerate(d["sites"][0]["sectors"]):
        sec["mech_tilt_deg"] = 8.0 * k
    s = sensing_of(d)
    r = run_sense(s, backend="numpy")
    assert r.kpis["meta"]["rsrp_units"] == "sectors"
    m = maps_of(r, backend="numpy")
    rise = monostatic_background(s, m.tx_power_per_re_dbm, NOISE_DBM)["noise_rise_db"]
    assert np.ptp(rise[:3]) > 0.01
    echo = np.stack([monostatic_echo_per_re_dbm(m.rsrp_dbm[k].astype(float), float(m.tx_power_per_re_dbm[k]), 3.5,
                                                -1.37) - rise[k] for k in range(m.n_sectors)])
    scnr = echo.max(axis=0) + GAIN_DB - NOISE_DBM
    got = r.maps["monostatic"].sensing_snr_db
    ok = np.isfinite(got)
    np.testing.assert_allclose(got[ok], scnr[ok], atol=2e-3)
    assert APERTURE_DB > 32
