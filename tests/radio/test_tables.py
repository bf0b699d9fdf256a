"""CQI and MCS tables of TS 38.214: spot rows typed from the standard, internal consistency."""

import numpy as np
import pytest

from cellscape.radio.tables import (
    CODE_RATE_X1024,
    CQI_TABLES,
    EFFICIENCY_BPS_HZ,
    INDEX,
    MCS_TABLES,
    MODULATION_ORDER,
    TABLE_SOURCES,
)

ALL_TABLES = [("cqi", k, t) for k, t in CQI_TABLES.items()] + [("mcs", k, t) for k, t in MCS_TABLES.items()]
IDS = [f"{kind}{k}" for kind, k, _ in ALL_TABLES]

# (kind, table, index) -> (Q_m, R x 1024, efficiency), read off TS 38.214 V18 Tables 5.2.2.1-2/-3/-4, 5.1.3.1-1/-2/-3
SPOT_ROWS = {
    ("cqi", 1, 1): (2, 78, 0.1523), ("cqi", 1, 7): (4, 378, 1.4766), ("cqi", 1, 10): (6, 466, 2.7305),
    ("cqi", 1, 15): (6, 948, 5.5547),
    ("cqi", 2, 2): (2, 193, 0.3770), ("cqi", 2, 12): (8, 711, 5.5547), ("cqi", 2, 15): (8, 948, 7.4063),
    ("cqi", 3, 1): (2, 30, 0.0586), ("cqi", 3, 9): (4, 378, 1.4766), ("cqi", 3, 15): (6, 772, 4.5234),
    ("mcs", 1, 0): (2, 120, 0.2344), ("mcs", 1, 10): (4, 340, 1.3281), ("mcs", 1, 17): (6, 438, 2.5664),
    ("mcs", 1, 28): (6, 948, 5.5547),
    ("mcs", 2, 5): (4, 378, 1.4766), ("mcs", 2, 20): (8, 682.5, 5.3320), ("mcs", 2, 26): (8, 916.5, 7.1602),
    ("mcs", 2, 27): (8, 948, 7.4063),
    ("mcs", 3, 0): (2, 30, 0.0586), ("mcs", 3, 5): (2, 99, 0.1934), ("mcs", 3, 15): (4, 340, 1.3281),
    ("mcs", 3, 28): (6, 772, 4.5234),
}

EXPECTED_ROWS = {("cqi", 1): 15, ("cqi", 2): 15, ("cqi", 3): 15, ("mcs", 1): 29, ("mcs", 2): 28, ("mcs", 3): 29}


@pytest.mark.parametrize(("key", "expected"), SPOT_ROWS.items(), ids=[f"{k[0]}{k[1]}-{k[2]}" for k in SPOT_ROWS])
def test_spot_rows_match_the_standard(key, expected):
    kind, number, index = key
    table = (CQI_TABLES if kind == "cqi" else MCS_TABLES)[number]
    row = table[table[:, INDEX] == index]
    assert row.shape == (1, 4)
    assert row[0, 1:].tolist() == list(map(float, expected))


@pytest.mark.parametrize(("kind", "number", "table"), ALL_TABLES, ids=IDS)
def test_shape_and_contiguous_indices(kind, number, table):
    assert table.shape == (EXPECTED_ROWS[(kind, number)], 4)
    first = 1 if kind == "cqi" else 0
    assert table[:, INDEX].tolist() == list(range(first, first + table.shape[0]))
    assert (kind, number) in TABLE_SOURCES


@pytest.mark.parametrize(("kind", "number", "table"), ALL_TABLES, ids=IDS)
def test_efficiency_is_qm_times_rate_rounded_to_four_decimals(kind, number, table):
    # the standard prints Q_m R / 1024 rounded to 4 decimals: half a unit of the last digit
    q_r = table[:, MODULATION_ORDER] * table[:, CODE_RATE_X1024] / 1024.0
    assert np.all(np.abs(q_r - table[:, EFFICIENCY_BPS_HZ]) <= 0.5e-4 + 1e-12)


@pytest.mark.parametrize(("kind", "number", "table"), ALL_TABLES, ids=IDS)
def test_modulation_orders_and_rates_are_plausible(kind, number, table):
    assert set(table[:, MODULATION_ORDER]) <= {2.0, 4.0, 6.0, 8.0}
    assert np.all(np.diff(table[:, MODULATION_ORDER]) >= 0)        # modulation order never drops
    assert np.all((table[:, CODE_RATE_X1024] > 0) & (table[:, CODE_RATE_X1024] <= 948))


@pytest.mark.parametrize("number", CQI_TABLES)
def test_cqi_efficiency_strictly_increases(number):
    # cqi_from_sinr relies on it (the MCS tables dip at the 16QAM -> 64QAM switch: 2.5703 -> 2.5664)
    assert np.all(np.diff(CQI_TABLES[number][:, EFFICIENCY_BPS_HZ]) > 0)


def test_tables_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        CQI_TABLES[1][0, EFFICIENCY_BPS_HZ] = 99.0
    with pytest.raises(ValueError, match="read-only"):
        MCS_TABLES[2][0, 0] = 99.0
