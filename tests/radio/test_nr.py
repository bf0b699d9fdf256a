"""NR numerology, frequency ranges and N_RB (TS 38.211 Table 4.2-1, TS 38.101-1/-2 Table 5.3.2-1)."""

import csv
from pathlib import Path

import pytest

from cellscape.errors import InvalidChoiceError, OutOfValidityRangeError
from cellscape.radio.nr import (
    N_RB_FR1,
    N_RB_FR2,
    frequency_range,
    max_n_rb,
    numerology,
    resolve_n_prb,
    symbols_per_second,
)
from cellscape.scenario.records import Carrier

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"


def load_reference(name):
    with open(REFERENCE_DIR / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


N_RB_ROWS = load_reference("radio_n_rb.csv")


@pytest.mark.parametrize("row", N_RB_ROWS, ids=lambda r: f"{r['frequency_range']}-{r['scs_khz']}-{r['bandwidth_mhz']}")
def test_max_n_rb_matches_table_5_3_2_1(row):
    got = max_n_rb(float(row["bandwidth_mhz"]), float(row["scs_khz"]), frequency_range=row["frequency_range"])
    assert got == int(row["n_rb"])


def test_reference_csv_covers_every_table_cell():
    n_cells = sum(len(r) for r in N_RB_FR1.values()) + sum(len(r) for r in N_RB_FR2.values())
    assert len(N_RB_ROWS) == n_cells


@pytest.mark.parametrize(("bw", "scs"), [(100, 30), (50, 15), (100, 60)])
def test_n_rb_fits_the_channel_with_a_guard_band(bw, scs):
    # 12 N_RB SCS must be below the channel bandwidth (TS 38.101-1 Table 5.3.3-1 minimum guard bands > 0)
    assert 12 * max_n_rb(bw, scs, frequency_range="FR1") * scs * 1e-3 < bw


@pytest.mark.parametrize(("scs", "mu"), [(15, 0), (30, 1), (60, 2), (120, 3), (240, 4), (480, 5), (960, 6),
                                         (30.0, 1)])
def test_numerology(scs, mu):
    assert numerology(scs) == mu


@pytest.mark.parametrize(("scs", "rate"), [(15, 14_000.0), (30, 28_000.0), (120, 112_000.0)])
def test_symbols_per_second_is_14_times_2_to_mu_per_ms(scs, rate):
    assert symbols_per_second(scs) == rate


@pytest.mark.parametrize(("fc", "fr"), [(0.41, "FR1"), (3.5, "FR1"), (7.125, "FR1"), (24.25, "FR2"),
                                        (28.0, "FR2"), (60.0, "FR2"), (71.0, "FR2")])
def test_frequency_range(fc, fr):
    assert frequency_range(fc) == fr


@pytest.mark.parametrize("fc", [0.3, 10.0, 24.0, 80.0])
def test_frequency_outside_fr1_and_fr2_raises(fc):
    with pytest.raises(OutOfValidityRangeError, match=rf"fc_ghz={fc:g} is in neither NR frequency range"):
        frequency_range(fc)


def test_resolve_n_prb_reads_the_table_or_the_override():
    assert resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0)) == 273
    assert resolve_n_prb(Carrier(fc_ghz=28.0, bandwidth_mhz=400.0, scs_khz=120.0)) == 264
    assert resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, n_prb=50)) == 50
    # an explicit n_prb needs no table (and no frequency range)
    assert resolve_n_prb(Carrier(fc_ghz=10.0, bandwidth_mhz=37.0, scs_khz=30.0, n_prb=100)) == 100

# ------------------------------------------------------------------------------------------ messages


def test_bandwidth_not_in_row_lists_the_allowed_bandwidths():
    with pytest.raises(InvalidChoiceError,
                       match=r"bandwidth_mhz=100 with scs_khz=15 is not in TS 38\.101-1 Table 5\.3\.2-1; "
                             r"allowed: 5, 10, 15, 20, 25, 30, 35, 40, 45, 50 MHz"):
        max_n_rb(100, 15, frequency_range="FR1")


def test_fractional_bandwidth_is_rejected():
    with pytest.raises(InvalidChoiceError, match=r"bandwidth_mhz=20\.5 with scs_khz=30"):
        max_n_rb(20.5, 30, frequency_range="FR1")


def test_scs_not_in_table_lists_the_allowed_spacings():
    with pytest.raises(InvalidChoiceError, match=r"scs_khz=15 is not one of 60, 120 kHz in TS 38\.101-2"):
        max_n_rb(100, 15, frequency_range="FR2")


def test_fr2_bandwidth_error_names_the_fr2_table():
    with pytest.raises(InvalidChoiceError, match=r"TS 38\.101-2 Table 5\.3\.2-1; allowed: 50, 100, 200 MHz"):
        max_n_rb(400, 60, frequency_range="FR2")


def test_unknown_frequency_range_lists_choices():
    with pytest.raises(InvalidChoiceError, match=r"frequency_range='FR3' is not one of 'FR1', 'FR2'"):
        max_n_rb(100, 30, frequency_range="FR3")


def test_unknown_numerology():
    with pytest.raises(InvalidChoiceError, match=r"scs_khz=45 is not one of 15, 30, 60, 120, 240, 480, 960"):
        numerology(45)


def test_resolve_n_prb_propagates_table_and_range_errors():
    with pytest.raises(InvalidChoiceError, match=r"allowed: 5, 10"):
        resolve_n_prb(Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=15.0))
    with pytest.raises(OutOfValidityRangeError, match=r"fc_ghz=10 is in neither.*give carrier\.n_prb"):
        resolve_n_prb(Carrier(fc_ghz=10.0, bandwidth_mhz=100.0, scs_khz=30.0))
    with pytest.raises(OutOfValidityRangeError, match=r"carrier\.n_prb=0 is outside \[1, 275\]"):
        resolve_n_prb(Carrier(fc_ghz=3.5, n_prb=0))
