"""Calibration report: calibration.csv (metric, percentile, value) and CDF PNGs, written atomically."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cellscape.errors import DataFileError
from cellscape.io.calibration_report import CSV_NAME, read_published_calibration, write_calibration
from cellscape.simulation.calibration import METRICS, run_calibration

from cellscape.io.calibration_report import PUBLISHED_CSV as REFERENCE


@pytest.fixture(scope="module")
def result():
    return run_calibration("UMi", 6.0, n_drops=400, rng=np.random.default_rng(3))


def test_csv_has_the_percentiles_of_every_metric(tmp_path, result):
    paths = write_calibration(result, tmp_path / "out")
    with paths["csv"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["metric", "percentile", "value"]
    assert {r["metric"] for r in rows} == set(METRICS)
    assert len(rows) == 19 * len(METRICS)
    median = [float(r["value"]) for r in rows if r["metric"] == "coupling_loss_db" and r["percentile"] == "50"]
    assert median == pytest.approx([np.median(result.coupling_loss_db)], abs=5e-4)


def test_pngs_are_written_and_no_partial_file_is_left(tmp_path, result):
    published = read_published_calibration(REFERENCE, scenario="UMi", fc_ghz=6.0)
    paths = write_calibration(result, tmp_path, published=published)
    for metric in METRICS:
        assert paths[metric].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CSV_NAME] + [f"{m}.png" for m in METRICS])


def test_published_reader_filters_scenario_and_frequency():
    rows = read_published_calibration(REFERENCE, scenario="UMa", fc_ghz=30)
    assert len(rows) == 2 * 19
    assert {r.metric for r in rows} == {"coupling_loss_db", "geometry_sir_db"}
    cl = sorted(r.value for r in rows if r.metric == "coupling_loss_db")
    assert cl[0] == 102.0 and cl[-1] == 172.0        # R1-165974 median, UMa 30 GHz, 5 % and 95 %
    assert read_published_calibration(REFERENCE, scenario="RMa", fc_ghz=6) == []


def test_missing_published_file_raises_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match=r"cannot read published calibration .*nope\.csv"):
        read_published_calibration(tmp_path / "nope.csv", scenario="UMa", fc_ghz=6)
