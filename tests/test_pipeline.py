"""The built-in example end to end: real Helsinki buildings, real site plan, maps and KPIs."""

from pathlib import Path

import numpy as np
import pytest

from cellscape.geo.buildings import GeometryRepairWarning
from cellscape.io.scenario_yaml import load_scenario
from cellscape.pipeline import check_scenario, localize, run_coverage

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "helsinki.yaml"


@pytest.fixture(scope="module")
def helsinki_run():
    sc = load_scenario(EXAMPLE)
    with pytest.warns(GeometryRepairWarning, match="repaired"):
        return run_coverage(sc)


def test_example_validates():
    summary = check_scenario(load_scenario(EXAMPLE))
    assert summary["crs"] == "EPSG:32635" and summary["n_prb"] == 273


def test_example_maps_are_complete_and_plausible(helsinki_run):
    res = helsinki_run.result
    assert res.rsrp_dbm.shape == res.grid.shape
    assert np.isfinite(res.rsrp_dbm).all() and np.isfinite(res.sinr_db).all()
    assert (res.best_sector >= 0).all()
    # a dense 3.5 GHz macro grid over ~1.6 km^2: almost everything above -120 dBm RSRP per RE
    assert helsinki_run.kpis["coverage"]["rsrp_dbm >= -120"]["outdoor"] > 0.95
    # indoor pixels pay the O2I loss: median indoor RSRP clearly below outdoor
    assert 0.2 < res.indoor.mean() < 0.8
    assert np.median(res.rsrp_dbm[res.indoor]) < np.median(res.rsrp_dbm[~res.indoor]) - 5.0
    # every sector serves some pixels
    served = np.bincount(res.best_sector.ravel(), minlength=res.sectors.x_m.size)
    assert (served > 0).mean() > 0.9


def test_sites_lie_on_the_map(helsinki_run):
    grid, xy = localize(helsinki_run.scenario)
    xmin, ymin, xmax, ymax = grid.bounds_m
    assert ((xy[:, 0] > xmin) & (xy[:, 0] < xmax) & (xy[:, 1] > ymin) & (xy[:, 1] < ymax)).all()


def test_example_is_site_specific(helsinki_run):
    k = helsinki_run.kpis
    assert k["meta"]["los_mode"] == "geometric" and k["meta"]["los_geometry"] == "buildings"
    los = k["line_of_sight"]
    # both layers see part of the city in LOS, far less than all of it
    assert 0.05 < los["UMa"]["los_fraction"] < 0.5 and 0.03 < los["UMi"]["los_fraction"] < 0.5
    # the empirical LOS probability has the shape of TR 38.901's (near 1 close in, falling with
    # distance); docs/validation.md says where and why it differs
    st = helsinki_run.result.los_statistics
    for env in ("UMa", "UMi"):
        c = st["environments"][env]
        los_n, total = np.asarray(c["los"], float), np.asarray(c["total"], float)
        near = los_n[2:5].sum() / total[2:5].sum()              # 20-50 m
        far = los_n[60:100].sum() / total[60:100].sum()         # 600-1000 m
        assert near > 0.6 and far < 0.15


MUNICH = EXAMPLE.with_name("munich.yaml")
needs_scenes = pytest.mark.skipif(__import__("importlib.util").util.find_spec("sionna") is None,
                                  reason="sionna-rt (its scene files) is not installed; make test installs it")


def test_munich_example_validates():
    summary = check_scenario(load_scenario(MUNICH))
    assert summary["crs"] == "EPSG:32632" and summary["sites"] == 10


@needs_scenes
@pytest.mark.slow
def test_munich_los_probability_follows_tr38901():
    # the second real city: 1,206 buildings of the sionna-rt Munich scene, 10 rooftop macros; its
    # geometry gives the TR 38.901 UMa LOS probability to within a few per cent (docs/validation.md)
    with pytest.warns(GeometryRepairWarning, match="dropped"):
        run = run_coverage(load_scenario(MUNICH))
    los = run.kpis["line_of_sight"]["UMa"]
    assert los["vs_tr38901_mean_abs_diff"] < 0.05 and abs(los["vs_tr38901_bias"]) < 0.03
    assert run.kpis["coverage"]["rsrp_dbm >= -110"]["all"] > 0.95
