"""CQI and MCS tables of TS 38.214 (V17/V18), as read-only numpy arrays.

Each table is an (n, 4) float array with the columns named by :data:`COLUMNS`: index, modulation
order Q_m, target code rate R x 1024, spectral efficiency [bit/s/Hz] (= Q_m R, rounded to four
decimals as the table prints it). CQI 0 ("out of range") is not a row, so row k - 1 is CQI k. The
reserved MCS indices at the end of each MCS table (which only signal a modulation order for
retransmissions) are not rows either, so row i is MCS index i.

>>> CQI_TABLE_1[CQI_TABLE_1[:, INDEX] == 15][0].tolist()
[15.0, 6.0, 948.0, 5.5547]
"""

from __future__ import annotations

import numpy as np

SPEC = "3GPP TS 38.214 V18"

COLUMNS: tuple[str, ...] = ("index", "modulation_order", "code_rate_x1024", "efficiency_bps_hz")
INDEX, MODULATION_ORDER, CODE_RATE_X1024, EFFICIENCY_BPS_HZ = range(4)
"""Column numbers of every table."""


def _table(rows) -> np.ndarray:
    arr = np.array(rows, dtype=float)
    arr.setflags(write=False)       # shared module constants: nobody may edit them in place
    return arr


CQI_TABLE_1 = _table([  # TS 38.214 Table 5.2.2.1-2: 4-bit CQI Table 1 (up to 64QAM)
    [1, 2, 78, 0.1523], [2, 2, 120, 0.2344], [3, 2, 193, 0.3770], [4, 2, 308, 0.6016], [5, 2, 449, 0.8770],
    [6, 2, 602, 1.1758], [7, 4, 378, 1.4766], [8, 4, 490, 1.9141], [9, 4, 616, 2.4063], [10, 6, 466, 2.7305],
    [11, 6, 567, 3.3223], [12, 6, 666, 3.9023], [13, 6, 772, 4.5234], [14, 6, 873, 5.1152], [15, 6, 948, 5.5547],
])

CQI_TABLE_2 = _table([  # TS 38.214 Table 5.2.2.1-3: 4-bit CQI Table 2 (up to 256QAM)
    [1, 2, 78, 0.1523], [2, 2, 193, 0.3770], [3, 2, 449, 0.8770], [4, 4, 378, 1.4766], [5, 4, 490, 1.9141],
    [6, 4, 616, 2.4063], [7, 6, 466, 2.7305], [8, 6, 567, 3.3223], [9, 6, 666, 3.9023], [10, 6, 772, 4.5234],
    [11, 6, 873, 5.1152], [12, 8, 711, 5.5547], [13, 8, 797, 6.2266], [14, 8, 885, 6.9141], [15, 8, 948, 7.4063],
])

CQI_TABLE_3 = _table([  # TS 38.214 Table 5.2.2.1-4: 4-bit CQI Table 3 (low spectral efficiency, URLLC)
    [1, 2, 30, 0.0586], [2, 2, 50, 0.0977], [3, 2, 78, 0.1523], [4, 2, 120, 0.2344], [5, 2, 193, 0.3770],
    [6, 2, 308, 0.6016], [7, 2, 449, 0.8770], [8, 2, 602, 1.1758], [9, 4, 378, 1.4766], [10, 4, 490, 1.9141],
    [11, 4, 616, 2.4063], [12, 6, 466, 2.7305], [13, 6, 567, 3.3223], [14, 6, 666, 3.9023], [15, 6, 772, 4.5234],
])

MCS_TABLE_1 = _table([  # TS 38.214 Table 5.1.3.1-1: MCS index table 1 for PDSCH (up to 64QAM); 29-31 reserved
    [0, 2, 120, 0.2344], [1, 2, 157, 0.3066], [2, 2, 193, 0.3770], [3, 2, 251, 0.4902], [4, 2, 308, 0.6016],
    [5, 2, 379, 0.7402], [6, 2, 449, 0.8770], [7, 2, 526, 1.0273], [8, 2, 602, 1.1758], [9, 2, 679, 1.3262],
    [10, 4, 340, 1.3281], [11, 4, 378, 1.4766], [12, 4, 434, 1.6953], [13, 4, 490, 1.9141], [14, 4, 553, 2.1602],
    [15, 4, 616, 2.4063], [16, 4, 658, 2.5703], [17, 6, 438, 2.5664], [18, 6, 466, 2.7305], [19, 6, 517, 3.0293],
    [20, 6, 567, 3.3223], [21, 6, 616, 3.6094], [22, 6, 666, 3.9023], [23, 6, 719, 4.2129], [24, 6, 772, 4.5234],
    [25, 6, 822, 4.8164], [26, 6, 873, 5.1152], [27, 6, 910, 5.3320], [28, 6, 948, 5.5547],
])

MCS_TABLE_2 = _table([  # TS 38.214 Table 5.1.3.1-2: MCS index table 2 for PDSCH (up to 256QAM); 28-31 reserved
    [0, 2, 120, 0.2344], [1, 2, 193, 0.3770], [2, 2, 308, 0.6016], [3, 2, 449, 0.8770], [4, 2, 602, 1.1758],
    [5, 4, 378, 1.4766], [6, 4, 434, 1.6953], [7, 4, 490, 1.9141], [8, 4, 553, 2.1602], [9, 4, 616, 2.4063],
    [10, 4, 658, 2.5703], [11, 6, 466, 2.7305], [12, 6, 517, 3.0293], [13, 6, 567, 3.3223], [14, 6, 616, 3.6094],
    [15, 6, 666, 3.9023], [16, 6, 719, 4.2129], [17, 6, 772, 4.5234], [18, 6, 822, 4.8164], [19, 6, 873, 5.1152],
    [20, 8, 682.5, 5.3320], [21, 8, 711, 5.5547], [22, 8, 754, 5.8906], [23, 8, 797, 6.2266],
    [24, 8, 841, 6.5703], [25, 8, 885, 6.9141], [26, 8, 916.5, 7.1602], [27, 8, 948, 7.4063],
])

MCS_TABLE_3 = _table([  # TS 38.214 Table 5.1.3.1-3: MCS index table 3 for PDSCH (low SE); 29-31 reserved
    [0, 2, 30, 0.0586], [1, 2, 40, 0.0781], [2, 2, 50, 0.0977], [3, 2, 64, 0.1250], [4, 2, 78, 0.1523],
    [5, 2, 99, 0.1934], [6, 2, 120, 0.2344], [7, 2, 157, 0.3066], [8, 2, 193, 0.3770], [9, 2, 251, 0.4902],
    [10, 2, 308, 0.6016], [11, 2, 379, 0.7402], [12, 2, 449, 0.8770], [13, 2, 526, 1.0273], [14, 2, 602, 1.1758],
    [15, 4, 340, 1.3281], [16, 4, 378, 1.4766], [17, 4, 434, 1.6953], [18, 4, 490, 1.9141], [19, 4, 553, 2.1602],
    [20, 4, 616, 2.4063], [21, 6, 438, 2.5664], [22, 6, 466, 2.7305], [23, 6, 517, 3.0293], [24, 6, 567, 3.3223],
    [25, 6, 616, 3.6094], [26, 6, 666, 3.9023], [27, 6, 719, 4.2129], [28, 6, 772, 4.5234],
])

CQI_TABLES = {1: CQI_TABLE_1, 2: CQI_TABLE_2, 3: CQI_TABLE_3}
"""CQI table number (RRC cqi-Table: table1, table2, table3) -> array."""

MCS_TABLES = {1: MCS_TABLE_1, 2: MCS_TABLE_2, 3: MCS_TABLE_3}
"""PDSCH MCS table number (RRC mcs-Table: qam64 = 1, qam256 = 2, qam64LowSE = 3) -> array."""

TABLE_SOURCES = {
    ("cqi", 1): f"{SPEC} Table 5.2.2.1-2", ("cqi", 2): f"{SPEC} Table 5.2.2.1-3",
    ("cqi", 3): f"{SPEC} Table 5.2.2.1-4", ("mcs", 1): f"{SPEC} Table 5.1.3.1-1",
    ("mcs", 2): f"{SPEC} Table 5.1.3.1-2", ("mcs", 3): f"{SPEC} Table 5.1.3.1-3",
}
"""(kind, number) -> the table it was copied from."""
