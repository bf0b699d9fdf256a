import json

import numpy as np

from cellscape.io.kpi_report import write_kpis


def test_kpis_round_trip_as_strict_json(tmp_path):
    kpis = {"n_pixels": np.int64(6), "coverage": {"rsrp_dbm >= -110": {"all": 0.5, "indoor": float("nan")}},
            "sinr_db_percentiles": {"5": -3.25}}
    path = write_kpis(tmp_path / "kpis.json", kpis)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert json.loads(text) == {"n_pixels": 6, "coverage": {"rsrp_dbm >= -110": {"all": 0.5, "indoor": None}},
                                "sinr_db_percentiles": {"5": -3.25}}
    assert [p.name for p in tmp_path.iterdir()] == ["kpis.json"]
