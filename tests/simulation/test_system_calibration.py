"""System-level calibration (cellscape.simulation.system_calibration): the wrap-around drop reaches
the simulator intact, the figures of merit add up, and (slow) the full-buffer run against the
published LTE Case 1 figures (docs/validation.md, "System level").

The reader of the published figures and the ``calibrate --system`` command are tested here too
(their own test modules belong to other owners for now)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from cellscape.cli.app import app
from cellscape.errors import DataFileError, InvalidChoiceError, OutOfValidityRangeError
from cellscape.io.system_calibration_report import (
    CDF_PNG_NAME,
    CSV_NAME,
    PERCENTILES_CSV_NAME,
    read_published_system_calibration,
    write_system_calibration,
)
from cellscape.radio.link_abstraction import mcs_sinr_thresholds_db
from cellscape.simulation.engine import run_simulation
from cellscape.simulation.system_calibration import (
    FIGURES,
    SystemCalibrationConfig,
    calibration_scenario,
    figure_gaps,
    full_buffer_simulation,
    run_system_calibration,
    wraparound_drop,
    wraparound_sector_maps,
)

N_SECTORS = 57


@pytest.fixture(scope="module")
def drop():
    return wraparound_drop("UMa", 6.0, n_ues=3 * N_SECTORS, rng=np.random.default_rng(5))


@pytest.fixture(scope="module")
def scenario():
    return calibration_scenario("UMa", 6.0)


@pytest.fixture(scope="module")
def small_run():
    """2 drops of 2 UEs per cell, 60 ms each, fading and uplink on: about a second."""
    cfg = SystemCalibrationConfig(ues_per_cell=2, n_drops=2, duration_s=0.06, warmup_s=0.01)
    return run_system_calibration(cfg, seed=3)


# --- the drop and its maps ----------------------------------------------------------------------

def test_drop_keeps_every_link_of_the_calibration(drop):
    cal, cl = drop.calibration, drop.link_coupling_loss_db
    ue = np.arange(cal.n_ues)
    assert cl.shape == (N_SECTORS, cal.n_ues)
    # the serving sector is the strongest (equal powers: the smallest coupling loss)
    np.testing.assert_array_equal(np.argmin(cl, axis=0), cal.serving_sector)
    np.testing.assert_allclose(cl[cal.serving_sector, ue], cal.coupling_loss_db, atol=1e-9)
    # the links reproduce the calibration's geometry (noise-free): S / sum of the other sectors
    g = 10.0 ** (-cl / 10.0)
    s = g[cal.serving_sector, ue]
    np.testing.assert_allclose(10.0 * np.log10(s / (g.sum(axis=0) - s)), cal.geometry_sir_db, atol=1e-9)


def test_maps_hold_one_ue_per_pixel(drop, scenario):
    maps = wraparound_sector_maps(drop, scenario)
    cal = drop.calibration
    n = cal.n_ues
    assert maps.rsrp_dbm.shape == (N_SECTORS, 1, n) and maps.los.shape == (19, 1, n) and maps.indoor.shape == (1, n)
    row, col = maps.pixel_index(np.arange(n) + 0.5, np.full(n, 0.5))
    np.testing.assert_array_equal(row, 0)
    np.testing.assert_array_equal(col, np.arange(n))
    # the maps' coupling loss (power per RE minus RSRP) is the drop's, to float32 rounding
    np.testing.assert_allclose(maps.tx_power_per_re_dbm[:, None] - maps.rsrp_dbm[:, 0, :], drop.link_coupling_loss_db,
                               atol=1e-4)
    site = cal.layout.sector_site[cal.serving_sector]
    np.testing.assert_array_equal(maps.los[site, 0, np.arange(n)], cal.serving_los)
    assert maps.los.sum() == cal.serving_los.sum()
    np.testing.assert_array_equal(maps.indoor[0], cal.indoor)
    assert maps.n_prb == 106                       # 20 MHz at 15 kHz, TS 38.101-1 Table 5.3.2-1


def test_scenario_is_the_table_7_8_1_network(scenario):
    assert len(scenario.sites) == 19 and scenario.n_sectors == N_SECTORS
    sec = scenario.sites[0].sectors[0]
    assert (sec.tx_power_dbm, sec.elec_tilt_deg, sec.antenna.n_rows) == (49.0, 12.0, 10)
    c, rx = scenario.carrier, scenario.receiver
    assert (c.fc_ghz, c.bandwidth_mhz, rx.noise_figure_db) == (6.0, 20.0, 9.0)


def test_every_ue_is_served_on_its_own_pixel_by_its_strongest_sector(small_run):
    r = small_run
    per_drop = 2 * N_SECTORS
    assert r.dl_user_se_bps_hz.shape == (2 * per_drop,) and r.users_per_sector.shape == (2, N_SECTORS)
    np.testing.assert_array_equal(r.users_per_sector.sum(axis=1), per_drop)       # 2 UEs per cell on average
    for d in range(2):
        sel = r.drop == d
        np.testing.assert_array_equal(np.bincount(r.serving_sector[sel], minlength=N_SECTORS), r.users_per_sector[d])
    # full load everywhere is the most interference a UE can see: never below the drop's geometry
    assert np.all(r.mean_sinr_db - r.geometry_sinr_db > -1e-4)


def test_simulator_sees_the_drops_wraparound_interference(drop, scenario):
    """The simulator's large-scale SINR of every UE is the drop's: serving RSRP over the RSRP of
    every other sector that transmits (full buffer: every sector with a user it can serve; a sector
    without users, or whose users cannot decode the lowest MCS, sends nothing) plus the noise per RE."""
    cfg = SystemCalibrationConfig(duration_s=0.04, warmup_s=0.01, fading=False, uplink=False)
    maps = wraparound_sector_maps(drop, scenario)
    sim, hotspots_m = full_buffer_simulation(scenario, drop.n_ues, cfg, seed=1)
    res = run_simulation(sim, {1.5: maps}, hotspots_m=hotspots_m)
    cal = drop.calibration
    np.testing.assert_array_equal(res.ue["serving_sector"], cal.serving_sector)
    rx_mw = 10.0 ** (maps.rsrp_dbm[:, 0, :].astype(float) / 10.0)                  # (n_sectors, n_ues)
    has_users = np.bincount(cal.serving_sector, minlength=N_SECTORS) > 0           # (n_sectors,)
    busy = res.cells["prb_utilisation_dl"] > 0                                      # (n_sectors,)
    assert np.all(has_users[busy]) and busy.sum() >= 0.9 * has_users.sum()
    ue = np.arange(drop.n_ues)
    s = rx_mw[cal.serving_sector, ue]
    i = (rx_mw * busy[:, None]).sum(axis=0) - s * busy[cal.serving_sector]
    expected_db = 10.0 * np.log10(s / (i + 10.0 ** (maps.noise_per_re_dbm / 10.0)))
    # a sector with users that sends nothing serves only users below the lowest MCS even with every
    # HARQ transmission combined (2 Rx, MRC): the scheduler's CQI-0 gate
    floor_db = mcs_sinr_thresholds_db(2)[0] - 10.0 * np.log10(4)
    idle = has_users & ~busy
    assert np.all(expected_db[np.isin(cal.serving_sector, np.flatnonzero(idle))] + 10 * np.log10(2) < floor_db + 1e-3)
    # 1e-3 dB: the maps hold float32 RSRPs
    np.testing.assert_allclose(res.ue["mean_sinr_db"], expected_db, atol=1e-3)


def test_figures_add_up(small_run):
    r = small_run
    assert set(r.figures()) == {(d, f) for d in ("dl", "ul") for f in FIGURES}
    for d in ("dl", "ul"):
        se = r.user_se_bps_hz(d)
        assert np.all(se >= 0.0)
        # bits are bits: a drop's users deliver what its cells deliver
        for k in range(2):
            cells = r.dl_cell_se_bps_hz[k] if d == "dl" else r.ul_cell_se_bps_hz[k]
            np.testing.assert_allclose(se[r.drop == k].sum(), cells.sum(), rtol=1e-9)
        assert 0.0 < r.cell_spectral_efficiency_bps_hz(d) < 7.4     # below MCS table 2's top efficiency
        assert r.user_spectral_efficiency_bps_hz(d, 5.0) <= r.user_spectral_efficiency_bps_hz(d, 50.0)
    assert r.n_prb == 106 and r.bandwidth_mhz == 20.0


def test_same_seed_same_figures():
    cfg = SystemCalibrationConfig(ues_per_cell=1, n_drops=1, duration_s=0.03, warmup_s=0.0, uplink=False)
    assert run_system_calibration(cfg, seed=9).figures() == run_system_calibration(cfg, seed=9).figures()


def test_options_are_checked():
    with pytest.raises(InvalidChoiceError, match=r"scheduler='max-ci' is not one of 'pf', 'rr'"):
        run_system_calibration(SystemCalibrationConfig(scheduler="max-ci"))
    with pytest.raises(OutOfValidityRangeError, match=r"warmup_s=3 is outside"):
        run_system_calibration(SystemCalibrationConfig(duration_s=2.0, warmup_s=3.0))


def test_no_cell_is_starved_by_an_undecodable_ue():
    # seed 1: the first drop holds a UE at -29 dB SINR; before the scheduler's CQI-0 gate it kept a zero
    # PF average, took every RBG of its cell and the whole cell delivered nothing. Now every cell with a
    # user that can decode the lowest MCS (2 Rx MRC, 4 HARQ transmissions combined) delivers.
    r = run_system_calibration(SystemCalibrationConfig(n_drops=1, duration_s=0.3, warmup_s=0.1, uplink=False), seed=1)
    floor_db = mcs_sinr_thresholds_db(2)[0] - 10.0 * np.log10(4) - 10.0 * np.log10(2)
    served = np.unique(r.serving_sector[r.mean_sinr_db >= floor_db + 0.5])
    assert served.size >= 50 and np.all(r.dl_cell_se_bps_hz.reshape(-1)[served] > 0.0)
    assert np.min(r.mean_sinr_db) < floor_db                     # the drop does hold an undecodable UE


# --- published figures, report, CLI -----------------------------------------------------------------

def test_published_figures_are_read_with_their_source(tmp_path):
    rows = read_published_system_calibration(reference="lte-rel8-case1")
    got = {(r.direction, r.metric): (r.value, r.antenna) for r in rows}
    assert got == {("dl", FIGURES[0]): (1.69, "2x2"), ("dl", FIGURES[1]): (0.05, "2x2"),
                   ("ul", FIGURES[0]): (0.735, "1x2"), ("ul", FIGURES[1]): (0.024, "1x2")}
    assert all("R1-07" in r.source and "ISD 500 m" in rows[0].conditions for r in rows)
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,direction,metric\nx,dl,y\n")
    with pytest.raises(DataFileError, match="lacks the column"):
        read_published_system_calibration(bad)


def test_report_writes_gaps(small_run, tmp_path):
    pub = read_published_system_calibration()
    gaps = figure_gaps(small_run, pub)
    assert len(gaps) == 4
    g = gaps[0]
    assert g.gap == pytest.approx(g.ours - g.published) and g.gap_relative == pytest.approx(g.gap / g.published)
    paths = write_system_calibration(small_run, tmp_path, published=pub)
    lines = paths["csv"].read_text().splitlines()
    assert lines[0].startswith("direction,metric,ours,published,gap,gap_percent") and len(lines) == 5
    assert paths["percentiles"].read_text().splitlines()[0] == ("percentile,dl_user_spectral_efficiency_bps_hz,"
                                                                "ul_user_spectral_efficiency_bps_hz")
    assert paths["cdf"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_calibrate_system(tmp_path):
    out = tmp_path / "sys"
    r = CliRunner().invoke(app, ["calibrate", "--system", "--drops", "1", "--duration-s", "0.03", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "dl cell_spectral_efficiency_bps_hz: ours" in r.output and "published 1.69" in r.output
    assert {p.name for p in out.iterdir()} == {CSV_NAME, PERCENTILES_CSV_NAME, CDF_PNG_NAME}


# --- the full configuration against the published figures (slow) ----------------------------------

@pytest.fixture(scope="module")
def full_run():
    """docs/validation.md's run: 20 drops x 570 UEs, 2 s each (under a minute on 2 cores)."""
    return run_system_calibration(SystemCalibrationConfig(), seed=1)


# Tolerance of the average cell spectral efficiency against the published LTE Case 1 value. It is a
# budget for the assumptions that differ (docs/validation.md lists them), not a published spread,
# which we do not have. Downlink, +-25 %: NR carries 17 % more data REs per Hz than LTE (132 of 168
# REs per PRB and 95 % of the channel in PRBs, against about 120 and 90 %); the Table 7.8-1 channel
# is noise-limited in its tail where Case 1 is not (-13 %: 1.92 with the noise removed, 1.67 with
# it); a single layer with 2-branch MRC against 2x2 SU-MIMO with rank adaptation (a few to 20 % for
# the latter in macro cells). Uplink, +-35 %: on top of the channel, our uplink has no PUCCH region
# (LTE Case 1 set 4 to 6 of 50 PRBs aside: +8 to +12 %) and one DM-RS symbol of 14 (LTE two: +8 %),
# and the PRBs a power-limited UE cannot fill go to the others (the companies' uplink schedulers and
# power control differ and are not published). Today's run: -1 % downlink, +31 % uplink.
CELL_SE_TOLERANCE = {"dl": 0.25, "ul": 0.35}


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["dl", "ul"])
def test_cell_spectral_efficiency_is_near_published(full_run, direction):
    pub = {(p.direction, p.metric): p.value for p in read_published_system_calibration(reference="lte-rel8-case1")}
    ours = full_run.cell_spectral_efficiency_bps_hz(direction)
    assert ours == pytest.approx(pub[(direction, FIGURES[0])], rel=CELL_SE_TOLERANCE[direction])


# The 5th percentile is noise-limited in the Table 7.8-1 channel (6 GHz, 80 % indoor, half of them
# behind high-loss walls: geometry p5 -9.2 dB with noise, -0.9 dB without), which Case 1 (2 GHz,
# 20 dB penetration for all) is not: with the noise removed the same simulator gives 0.057 bit/s/Hz
# (0.05 published), with it 0.017, 3.4x less. Hence the bound: a quarter of the published value.
# The uplink misses even that: its 23 dBm UEs beyond about 145 dB of coupling loss reach the lowest
# MCS on one PRB only, so the 5th percentile is 0.0001 bit/s/Hz (docs/validation.md).
P5_FRACTION = 0.25


@pytest.mark.slow
@pytest.mark.parametrize("direction", [
    "dl", pytest.param("ul", marks=pytest.mark.xfail(strict=True, reason="noise-limited uplink tail of the 6 GHz "
                                                                       "Table 7.8-1 channel (docs/validation.md)"))])
def test_cell_edge_spectral_efficiency_reaches_a_quarter_of_published(full_run, direction):
    pub = {(p.direction, p.metric): p.value for p in read_published_system_calibration(reference="lte-rel8-case1")}
    assert full_run.user_spectral_efficiency_bps_hz(direction, 5.0) >= P5_FRACTION * pub[(direction, FIGURES[1])]
