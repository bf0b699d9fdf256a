"""TR 38.901 Section 7.4 (cellscape.propagation.tr38901): reference values, properties, errors.

Reference values live in tests/reference/tr38901_path_loss.csv and tr38901_los_probability.csv,
each row with its working and a tolerance justified in the file header. One published value from
outside 3GPP is checked below (MathWorks nrPathLoss documentation example).
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.propagation import tr38901

REF_DIR = Path(__file__).resolve().parents[1] / "reference"

# (scenario, h_bs_m, h_ut_m, fc range [GHz]) used by the property tests: nominal heights of Tables 7.2-1..7.2-4
NOMINAL = [
    ("RMa", 35.0, 1.5, (0.5, 30.0)), ("UMa", 25.0, 1.5, (0.5, 100.0)), ("UMi", 10.0, 1.5, (0.5, 100.0)),
    ("InH-office-mixed", 3.0, 1.0, (0.5, 100.0)), ("InH-office-open", 3.0, 1.0, (0.5, 100.0)),
    ("InF-SL", 1.5, 1.5, (0.5, 100.0)), ("InF-DL", 1.5, 1.5, (0.5, 100.0)), ("InF-SH", 8.0, 1.5, (0.5, 100.0)),
    ("InF-DH", 8.0, 1.5, (0.5, 100.0)), ("InF-HH", 8.0, 6.0, (0.5, 100.0)),
]


def _read(name):
    with (REF_DIR / name).open() as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _options(text):
    return {k: float(v) for k, v in (item.split("=") for item in text.split(";") if item)}


# --------------------------------------------------------------------------- reference values

@pytest.mark.parametrize("row", _read("tr38901_path_loss.csv"),
                         ids=lambda r: f"{r['function']}-{r['scenario']}-{r['los']}-{r['d2d_m']}-{r['fc_ghz']}")
def test_path_loss_and_breakpoints_match_worked_values(row):
    opts = _options(row["options"])
    h_bs, h_ut, fc = float(row["h_bs_m"]), float(row["h_ut_m"]), float(row["fc_ghz"])
    if row["function"] == "path_loss_db":
        got = tr38901.path_loss_db(row["scenario"], float(row["d2d_m"]), h_bs, h_ut, fc, row["los"] == "1", **opts)
    elif row["function"] == "breakpoint_distance_m":
        got = tr38901.breakpoint_distance_m(h_bs, h_ut, fc, **opts)
    else:
        got = tr38901.rma_breakpoint_distance_m(h_bs, h_ut, fc)
    assert float(got) == pytest.approx(float(row["expected"]), abs=float(row["tolerance"]))


def test_per_row_functions_agree_with_dispatch():
    # the reference CSV goes through path_loss_db; the row functions it calls must be the same numbers
    d = np.array([20.0, 300.0, 2000.0])
    for row_function, scenario, h_bs, los in ((tr38901.uma_nlos_path_loss_db, "UMa", 25.0, False),
                                              (tr38901.umi_los_path_loss_db, "UMi", 10.0, True),
                                              (tr38901.rma_nlos_path_loss_db, "RMa", 35.0, False)):
        assert_allclose(row_function(d, h_bs, 1.5, 3.5), tr38901.path_loss_db(scenario, d, h_bs, 1.5, 3.5, los))
    assert_allclose(tr38901.inf_nlos_path_loss_db(d / 10, 8.0, 1.5, 3.5, subscenario="DH"),
                    tr38901.path_loss_db("InF-DH", d / 10, 8.0, 1.5, 3.5, False))


def test_rma_matches_published_mathworks_example():
    # MathWorks 5G Toolbox, nrPathLoss documentation, first example: RMa LOS, h = 7 m, W = 25 m,
    # fc = 3.5 GHz, BS at (0, 0, 30) m, UE at (1000, 1000, 1.5) m -> "pathloss = 110.1615" (4 decimals
    # printed, exact c as here): tolerance 1e-4 dB.
    got = tr38901.rma_los_path_loss_db(np.hypot(1000.0, 1000.0), 30.0, 1.5, 3.5,
                                       building_height_m=7.0, street_width_m=25.0)
    assert float(got) == pytest.approx(110.1615, abs=1e-4)


@pytest.mark.parametrize("row", _read("tr38901_los_probability.csv"),
                         ids=lambda r: f"{r['scenario']}-{r['d2d_m']}-{r['h_ut_m']}")
def test_los_probability_matches_worked_values(row):
    h_bs = float(row["h_bs_m"]) if row["h_bs_m"] else None
    got = tr38901.los_probability(row["scenario"], float(row["d2d_m"]), float(row["h_ut_m"]), h_bs_m=h_bs,
                                  **_options(row["options"]))
    assert float(got) == pytest.approx(float(row["expected"]), abs=float(row["tolerance"]))


def test_shadow_fading_std_table_values():
    # Table 7.4.1-1, column "Shadow fading std [dB]" (InF-HH NLOS: no row, the LOS value by design)
    expected = {"UMa": (4.0, 6.0), "UMi": (4.0, 7.82), "InH-office-mixed": (3.0, 8.03), "InH-office-open": (3.0, 8.03),
                "InF-SL": (4.3, 5.7), "InF-DL": (4.3, 7.2), "InF-SH": (4.3, 5.9), "InF-DH": (4.3, 4.0),
                "InF-HH": (4.3, 4.3)}
    for scenario, (s_los, s_nlos) in expected.items():
        assert float(tr38901.shadow_fading_std_db(scenario, True)) == s_los
        assert float(tr38901.shadow_fading_std_db(scenario, False)) == s_nlos
    # RMa: 4 dB up to d_BP = 3851.1 m (h_BS 35 m, h_UT 1.5 m, 3.5 GHz), 6 dB beyond, 8 dB NLOS
    got = tr38901.shadow_fading_std_db("RMa", [[True], [False]], d2d_m=[3850.0, 3852.0], h_bs_m=35.0,
                                       h_ut_m=1.5, fc_ghz=3.5)
    assert got.tolist() == [[4.0, 6.0], [8.0, 8.0]]
    assert float(tr38901.shadow_fading_std_db("RMa", False)) == 8.0      # NLOS needs no geometry
    assert tr38901.shadow_fading_std_db("UMa", True, d2d_m=np.zeros((2, 3))).shape == (2, 3)


def test_decorrelation_distances_table_values():
    # Table 7.5-6 (SF, horizontal plane) and Table 7.6.3.1-2 (LOS state)
    sf = {"RMa": (37.0, 120.0), "UMa": (37.0, 50.0), "UMi": (10.0, 13.0), "InH-office-mixed": (10.0, 6.0),
          "InH-office-open": (10.0, 6.0), "InF-SL": (10.0, 10.0), "InF-DH": (10.0, 10.0)}
    for scenario, (d_los, d_nlos) in sf.items():
        assert tr38901.sf_decorrelation_distance_m(scenario, True) == d_los
        assert tr38901.sf_decorrelation_distance_m(scenario, False) == d_nlos
    los_state = {"RMa": 60.0, "UMa": 50.0, "UMi": 50.0, "InH-office-open": 10.0, "InF-SL": 5.0, "InF-DL": 1.0}
    for scenario, d in los_state.items():
        assert tr38901.los_decorrelation_distance_m(scenario) == d
    assert tr38901.los_decorrelation_distance_m("InF-SH", clutter_size_m=8.0) == 4.0     # d_clutter / 2


# --------------------------------------------------------------------------- properties

@settings(max_examples=40, deadline=None)
@given(u_a=st.floats(0.0, 1.0), u_b=st.floats(0.0, 1.0), u_f=st.floats(0.0, 1.0))
def test_path_loss_never_decreases_with_distance(u_a, u_b, u_f):
    for scenario, h_bs, h_ut, (f_lo, f_hi) in NOMINAL:
        fc = f_lo + u_f * (f_hi - f_lo)
        for los in (True, False):
            lo, hi = tr38901.d2d_range_m(scenario, los, h_bs_m=h_bs, h_ut_m=h_ut)
            near, far = sorted((lo + u_a * (hi - lo), lo + u_b * (hi - lo)))
            pl = tr38901.path_loss_db(scenario, np.array([near, far]), h_bs, h_ut, fc, los)
            assert pl[1] >= pl[0] - 1e-9, (scenario, los, near, far, fc)


@settings(max_examples=40, deadline=None)
@given(u_d=st.floats(0.0, 1.0), u_f=st.floats(0.0, 1.0))
def test_nlos_is_never_below_los(u_d, u_f):
    for scenario, h_bs, h_ut, (f_lo, f_hi) in NOMINAL:
        fc = f_lo + u_f * (f_hi - f_lo)
        lo, hi = tr38901.d2d_range_m(scenario, False, h_bs_m=h_bs, h_ut_m=h_ut)
        d = lo + u_d * (hi - lo)
        assert tr38901.path_loss_db(scenario, d, h_bs, h_ut, fc, False) >= tr38901.path_loss_db(
            scenario, d, h_bs, h_ut, fc, True) - 1e-9


@settings(max_examples=60, deadline=None)
@given(fc=st.floats(0.5, 100.0), h_ut=st.floats(1.5, 22.5), h_bs=st.floats(25.0, 50.0), h_e_index=st.integers(0, 4))
def test_uma_umi_los_is_continuous_at_the_breakpoint(fc, h_ut, h_bs, h_e_index):
    # At d2D = d'_BP: PL2 - PL1 = (40 - 22) log10 d3D - 9 log10(d'_BP^2 + dh^2) = 0 since d3D^2 = d'_BP^2 + dh^2
    # (UMi: 40 - 21 = 2 * 9.5). Any admissible h_E.
    h_e = [1.0, 12.0, 15.0, 18.0, 21.0][h_e_index]
    if h_e > h_ut - 1.5:
        h_e = 1.0
    d_bp = float(tr38901.breakpoint_distance_m(h_bs, h_ut, fc, h_e_m=h_e))
    if 10.0 < d_bp < 5000.0:
        below = tr38901.uma_los_path_loss_db(d_bp * (1 - 1e-12), h_bs, h_ut, fc, h_e_m=h_e)
        above = tr38901.uma_los_path_loss_db(d_bp * (1 + 1e-12), h_bs, h_ut, fc, h_e_m=h_e)
        assert abs(float(above - below)) < 1e-6
    h_bs_umi = min(h_bs - 15.0, 25.0)
    d_bp = float(tr38901.breakpoint_distance_m(h_bs_umi, h_ut, fc))
    if 10.0 < d_bp < 5000.0:
        below = tr38901.umi_los_path_loss_db(d_bp * (1 - 1e-12), h_bs_umi, h_ut, fc)
        above = tr38901.umi_los_path_loss_db(d_bp * (1 + 1e-12), h_bs_umi, h_ut, fc)
        assert abs(float(above - below)) < 1e-6


@settings(max_examples=60, deadline=None)
@given(fc=st.floats(0.5, 30.0), h_ut=st.floats(1.0, 10.0), h_bs=st.floats(10.0, 150.0), h=st.floats(5.0, 50.0))
def test_rma_los_step_at_the_breakpoint_is_as_the_formula_implies(fc, h_ut, h_bs, h):
    # PL2 = PL1(d_BP) + 40 log10(d3D/d_BP) evaluates PL1 at d_BP, not at the d3D of d2D = d_BP, so the
    # table's formula steps there by PL2 - PL1 = PL1(d_BP) - PL1(d3D) + 40 log10(d3D/d_BP), which we
    # compute independently here: the implementation must follow the table, step included.
    d_bp = float(tr38901.rma_breakpoint_distance_m(h_bs, h_ut, fc))
    if not 10.0 < d_bp < 10_000.0:
        return
    below = float(tr38901.rma_los_path_loss_db(d_bp, h_bs, h_ut, fc, building_height_m=h))
    above = float(tr38901.rma_los_path_loss_db(d_bp * (1 + 1e-12), h_bs, h_ut, fc, building_height_m=h))
    d3d = np.hypot(d_bp, h_bs - h_ut)

    def pl1(d):
        return (20 * np.log10(40 * np.pi * d * fc / 3) + min(0.03 * h ** 1.72, 10) * np.log10(d)
                - min(0.044 * h ** 1.72, 14.77) + 0.002 * np.log10(h) * d)

    assert above - below == pytest.approx(pl1(d_bp) - pl1(d3d) + 40 * np.log10(d3d / d_bp), abs=1e-6)
    assert abs(above - below) < 0.05        # small for every height in the table's range


@settings(max_examples=30, deadline=None)
@given(d=st.lists(st.floats(10.0, 5000.0), min_size=1, max_size=6), los_bits=st.integers(0, 63),
       fc=st.floats(0.5, 30.0))
def test_vectorised_equals_scalar_calls(d, los_bits, fc):
    d = np.array(d)
    los = np.array([(los_bits >> i) & 1 == 1 for i in range(d.size)])
    for scenario, h_bs in (("RMa", 35.0), ("UMa", 25.0), ("UMi", 10.0)):
        vec = tr38901.path_loss_db(scenario, d, h_bs, 1.5, fc, los)
        one = [float(tr38901.path_loss_db(scenario, di, h_bs, 1.5, fc, bool(li))) for di, li in zip(d, los)]
        assert_allclose(vec, one, rtol=0, atol=1e-12)
        p = tr38901.los_probability(scenario, d, 1.5)
        assert_allclose(p, [float(tr38901.los_probability(scenario, di, 1.5)) for di in d], rtol=0, atol=0)


def test_broadcasting_over_sites_and_pixels():
    d = np.linspace(10.0, 4000.0, 7)                       # (n_pixels,)
    h_bs = np.array([[20.0], [25.0], [35.0]])              # (n_sites, 1)
    pl = tr38901.path_loss_db("UMa", d, h_bs, 1.5, 3.5, False)
    assert pl.shape == (3, 7)
    for i in range(3):
        assert_allclose(pl[i], tr38901.uma_nlos_path_loss_db(d, float(h_bs[i, 0]), 1.5, 3.5))


@settings(max_examples=40, deadline=None)
@given(d_a=st.floats(0.0, 50_000.0), d_b=st.floats(0.0, 50_000.0), h_ut=st.floats(1.5, 22.5))
def test_los_probability_is_a_non_increasing_probability(d_a, d_b, h_ut):
    near, far = sorted((d_a, d_b))
    for scenario, h_bs, h_ut_nominal, _ in NOMINAL:
        h = h_ut if scenario in ("UMa", "UMi", "RMa") else h_ut_nominal
        p = tr38901.los_probability(scenario, np.array([0.0, near, far]), h, h_bs_m=h_bs)
        assert p[0] == 1.0
        assert np.all((p >= 0.0) & (p <= 1.0))
        # the open-office row steps up at 49 m: exp(-44/70.8) = 0.5372 below, 0.54 above (table as written)
        step = 0.0029 if scenario == "InH-office-open" and near <= 49.0 < far else 0.0
        assert p[2] <= p[1] + step + 1e-12


def test_los_probability_accepts_the_engine_grid_without_warnings():
    d = (np.arange(0, 4000) * 0.05) ** 2                     # 0 m to 40 km, as coverage.tables builds it
    for scenario, h_bs, h_ut, _ in NOMINAL:
        p = tr38901.los_probability(scenario, d, h_ut, h_bs_m=h_bs)
        assert np.all(np.isfinite(p)) and p[0] == 1.0


def test_inf_high_bs_ut_above_clutter_sees_los():
    # SH/DH assume h_UT < h_c; a UT at or above the clutter sees the high BS: probability 1
    p = tr38901.inf_los_probability([5.0, 50.0], 8.0, 3.0, subscenario="SH")     # h_c = 2 m
    assert p.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("scenario,h_bs,h_ut", [("InH-office-mixed", 3.0, 1.0), ("InF-SL", 1.5, 1.5),
                                                 ("InF-SH", 8.0, 1.5)])
def test_d2d_range_is_what_the_function_enforces(scenario, h_bs, h_ut):
    for los in (True, False):
        lo, hi = tr38901.d2d_range_m(scenario, los, h_bs_m=h_bs, h_ut_m=h_ut)
        tr38901.path_loss_db(scenario, [lo, hi * (1 - 1e-12)], h_bs, h_ut, 3.5, los)         # no error
        with pytest.raises(OutOfValidityRangeError, match=r"d3d_m="):
            tr38901.path_loss_db(scenario, hi * 1.001, h_bs, h_ut, 3.5, los)
    for scenario, los, rng in (("UMa", True, (10.0, 5000.0)), ("RMa", True, (10.0, 10_000.0)),
                               ("RMa", False, (10.0, 5000.0))):
        assert tr38901.d2d_range_m(scenario, los) == rng


def test_d2d_range_without_heights_is_safe_at_the_low_end():
    # the map engine clips below the low bound: d2D >= 1 m gives d3D >= 1 m, never log10(0)
    for scenario in ("InH-office-open", "InF-DL", "InF-HH"):
        lo, _ = tr38901.d2d_range_m(scenario, True)
        assert lo == 1.0
        assert np.isfinite(tr38901.path_loss_db(scenario, lo, 1.5, 1.5, 3.5, True))


# --------------------------------------------------------------------------- out-of-range policies

def test_distance_policies():
    assert np.isnan(tr38901.uma_nlos_path_loss_db(6.0, 25.0, 1.5, 3.5, out_of_range="nan"))
    clipped = tr38901.uma_nlos_path_loss_db([6.0, 9000.0], 25.0, 1.5, 3.5, out_of_range="clip")
    assert_allclose(clipped, tr38901.uma_nlos_path_loss_db([10.0, 5000.0], 25.0, 1.5, 3.5))
    far = tr38901.uma_nlos_path_loss_db(8000.0, 25.0, 1.5, 3.5, out_of_range="extrapolate")
    # beyond 5 km the NLOS' formula as written: 13.54 + 39.08 log10(8000.03) + 20 log10(3.5)
    assert float(far) == pytest.approx(13.54 + 39.08 * np.log10(np.hypot(8000.0, 23.5)) + 20 * np.log10(3.5))
    inh = tr38901.inh_los_path_loss_db(0.0, 1.5, 1.0, 3.5, out_of_range="clip")     # d3D = 0.5 m -> 1 m
    assert float(inh) == pytest.approx(32.4 + 20 * np.log10(3.5))


def test_each_link_is_checked_against_its_own_state():
    # RMa LOS is valid to 10 km, NLOS to 5 km: a 7 km LOS link next to NLOS links must not raise
    pl = tr38901.path_loss_db("RMa", [7000.0, 3000.0], 35.0, 1.5, 3.5, [True, False])
    assert_allclose(pl, [tr38901.rma_los_path_loss_db(7000.0, 35.0, 1.5, 3.5),
                         tr38901.rma_nlos_path_loss_db(3000.0, 35.0, 1.5, 3.5)])
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_m=7000 is outside \[10, 5000\]"):
        tr38901.path_loss_db("RMa", [7000.0, 3000.0], 35.0, 1.5, 3.5, [False, True])


def test_inf_hh_nlos_gets_the_los_path_loss():
    d = np.array([5.0, 100.0])
    assert_allclose(tr38901.path_loss_db("InF-HH", d, 8.0, 6.0, 28.0, False),
                    tr38901.inf_los_path_loss_db(d, 8.0, 6.0, 28.0))


# --------------------------------------------------------------------------- error messages

def test_out_of_range_distance_names_parameter_range_and_table():
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_m=6 is outside \[10, 5000\].*Table 7\.4\.1-1"):
        tr38901.uma_los_path_loss_db(6.0, 25.0, 1.5, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_m=12000 is outside \[10, 10000\].*Table 7\.4\.1-1"):
        tr38901.rma_los_path_loss_db(12_000.0, 35.0, 1.5, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"d3d_m=700\.\d* is outside \[1, 600\].*Table 7\.4\.1-1"):
        tr38901.inf_nlos_path_loss_db(700.0, 8.0, 1.5, 3.5, subscenario="SH")


def test_frequency_and_heights_always_raise():
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=120 is outside \[0\.5, 100\]"):
        tr38901.path_loss_db("UMa", 100.0, 25.0, 1.5, 120.0, True, out_of_range="clip")
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=40 is outside \[0\.5, 30\]"):
        tr38901.path_loss_db("RMa", 100.0, 35.0, 1.5, 40.0, True)
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=30 is outside \[1\.5, 22\.5\]"):
        tr38901.path_loss_db("UMi", 100.0, 10.0, 30.0, 3.5, False)
    with pytest.raises(OutOfValidityRangeError, match=r"h_bs_m=60 is outside \[10, 50\].*UMa, nominal h_BS extended"):
        tr38901.uma_los_path_loss_db(100.0, 60.0, 1.5, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=12 is outside \[1, 10\]"):
        tr38901.rma_nlos_path_loss_db(100.0, 35.0, 12.0, 3.5)
    with pytest.raises(OutOfValidityRangeError, match=r"street_width_m=60 is outside \[5, 50\]"):
        tr38901.rma_nlos_path_loss_db(100.0, 35.0, 1.5, 3.5, street_width_m=60.0)
    with pytest.raises(OutOfValidityRangeError, match=r"h_e_m=15 is not below both antenna heights"):
        tr38901.uma_los_path_loss_db(100.0, 25.0, 10.0, 3.5, h_e_m=15.0)
    # 30 m rooftop UMa sites are accepted (documented extension of the nominal 25 m)
    assert np.isfinite(tr38901.uma_los_path_loss_db(100.0, 30.0, 1.5, 3.5))


def test_unknown_choices_list_the_valid_ones():
    with pytest.raises(InvalidChoiceError, match=r"scenario='UMA' is not one of 'RMa', 'UMa', 'UMi'"):
        tr38901.path_loss_db("UMA", 100.0, 25.0, 1.5, 3.5, True)
    with pytest.raises(InvalidChoiceError, match=r"subscenario='HH' is not one of 'SL', 'DL', 'SH', 'DH'"):
        tr38901.inf_nlos_path_loss_db(10.0, 8.0, 1.5, 3.5, subscenario="HH")
    with pytest.raises(InvalidChoiceError, match=r"out_of_range='ignore' is not one of 'raise', 'nan'"):
        tr38901.umi_los_path_loss_db(100.0, 10.0, 1.5, 3.5, out_of_range="ignore")
    with pytest.raises(InvalidChoiceError, match=r"scenario='SMa'"):
        tr38901.los_probability("SMa", 10.0, 1.5)


def test_los_probability_errors():
    with pytest.raises(OutOfValidityRangeError, match=r"d2d_out_m=-1 is outside \[0, inf\].*Table 7\.4\.2-1"):
        tr38901.umi_los_probability(-1.0)
    with pytest.raises(OutOfValidityRangeError, match=r"h_ut_m=30 is outside \[0, 23\]"):
        tr38901.uma_los_probability(50.0, 30.0)
    with pytest.raises(OutOfValidityRangeError, match=r"clutter_density=0\.6 is outside \[0, 0\.4\].*InF-SL"):
        tr38901.los_probability("InF-SL", 10.0, 1.5, clutter_density=0.6)
    with pytest.raises(OutOfValidityRangeError, match=r"h_bs_m=1\.5 is not above the clutter height.*InF-SL or InF-DL"):
        tr38901.los_probability("InF-DH", 10.0, 1.5, h_bs_m=1.5)
    with pytest.raises(OutOfValidityRangeError, match=r"clutter_size_m=0 is not positive"):
        tr38901.los_probability("InF-DL", 10.0, 1.5, clutter_size_m=0.0)
    with pytest.raises(TypeError, match=r"needs h_bs_m"):
        tr38901.los_probability("InF-SH", 10.0, 1.5)


def test_rma_los_shadow_fading_needs_the_geometry():
    with pytest.raises(TypeError, match=r"needs d2d_m, h_bs_m, h_ut_m and fc_ghz"):
        tr38901.shadow_fading_std_db("RMa", True)


# --------------------------------------------------------------------------- random helpers

def test_effective_environment_height_distribution():
    # h_UT = 22.5 m, d2D = 100 m: g = 5/4 exp(-2/3) = 0.641713, C = (0.95)^1.5 g = 0.594187,
    # P(h_E = 1) = 1/(1 + C) = 0.627277; otherwise uniform over {12, 15, 18, 21}.
    n = 40_000
    h_e = tr38901.uma_effective_environment_height_m(np.full(n, 100.0), 22.5, rng=np.random.default_rng(7))
    p_one = 1.0 / (1.0 + 0.95 ** 1.5 * 1.25 * np.exp(-2.0 / 3.0))
    sigma = np.sqrt(p_one * (1 - p_one) / n)                                   # binomial std, 0.0024
    assert np.mean(h_e == 1.0) == pytest.approx(p_one, abs=5 * sigma)
    for v in (12.0, 15.0, 18.0, 21.0):
        q = (1 - p_one) / 4
        assert np.mean(h_e == v) == pytest.approx(q, abs=5 * np.sqrt(q * (1 - q) / n))
    assert set(np.unique(h_e)) == {1.0, 12.0, 15.0, 18.0, 21.0}
    # C = 0 for h_UT < 13 m and g = 0 for d2D <= 18 m: always 1 m
    rng = np.random.default_rng(8)
    assert np.all(tr38901.uma_effective_environment_height_m(np.full(1000, 100.0), 12.9, rng=rng) == 1.0)
    assert np.all(tr38901.uma_effective_environment_height_m(np.full(1000, 18.0), 22.5, rng=rng) == 1.0)


def test_effective_environment_height_is_reproducible():
    a = tr38901.uma_effective_environment_height_m(np.full(100, 200.0), 19.5, rng=np.random.default_rng(1))
    b = tr38901.uma_effective_environment_height_m(np.full(100, 200.0), 19.5, rng=np.random.default_rng(1))
    assert np.array_equal(a, b)


def test_indoor_ut_height_distribution():
    # n_fl ~ U{1..N_fl}, N_fl ~ U{4..8}: P(n_fl = k) = (1/5) sum_{N=max(k,4)}^{8} 1/N
    n = 50_000
    h = tr38901.indoor_ut_height_m(n, rng=np.random.default_rng(3))
    for k in range(1, 9):
        p = sum(1.0 / N for N in range(max(k, 4), 9)) / 5.0
        assert np.mean(h == 3.0 * (k - 1) + 1.5) == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / n))
    assert set(np.unique(tr38901.indoor_ut_height_m(2000, rng=np.random.default_rng(4), n_floors_low=1,
                                                    n_floors_high=1))) == {1.5}
    with pytest.raises(OutOfValidityRangeError, match=r"n_floors_high=9 is outside \[4, 8\]"):
        tr38901.indoor_ut_height_m(10, rng=np.random.default_rng(0), n_floors_high=9)
