"""TR 38.901 7.9.6.1 large-scale ISAC calibration with a UAV target (cellscape.sensing.calibration):
hand-worked coupling losses, the frequency shift, the drop geometry, the pair selection, the
report writer and the command through a throwaway Typer app.

No published Rel-19 percentiles (R1-2509126) were available where this was written, so these are
sanity and property tests, not a comparison with the 3GPP company curves (docs/validation.md)."""

import csv
import math
from dataclasses import replace

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cellscape.cli.isac_calibrate_cmd import isac_calibrate
from cellscape.errors import DataFileError, InvalidChoiceError, OutOfValidityRangeError
from cellscape.io.isac_calibration_report import (
    CSV_NAME,
    NO_PUBLISHED_NOTE,
    percentile_gaps,
    read_published_isac_calibration,
    write_isac_calibration,
)
from cellscape.scenario.layouts import hexagonal_site_positions_m
from cellscape.sensing.calibration import (
    LINKS,
    METRICS,
    PERCENTILES,
    best_pairs,
    draw_points_in_centre_cell_m,
    isac_calibration_assumptions,
    monostatic_reference_point_segment,
    run_isac_calibration,
    trp_target_segment,
    ue_target_segment,
)
from cellscape.sensing.radar import target_coupling_loss_db

C = 299_792_458.0


class NoFading(np.random.Generator):
    """A Generator whose normal draws are all zero: shadow fading off, every other draw intact."""

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return np.zeros(() if size is None else size)


def no_fading(seed):
    return NoFading(np.random.PCG64(seed))


def scatter_term_db(fc_ghz):
    """10 lg(c^2 / (4 pi f^2)) by hand."""
    return 10 * math.log10(C ** 2 / (4 * math.pi * (fc_ghz * 1e9) ** 2))


def uma_av_los_pl_db(d3d_m, fc_ghz):
    """TR 36.777 Table B-2, UMa-AV LOS: 28 + 22 lg d3D + 20 lg fc."""
    return 28.0 + 22.0 * np.log10(d3d_m) + 20.0 * math.log10(fc_ghz)


# --- assumptions ------------------------------------------------------------------------------


def test_assumptions_follow_table_7_9_6_1_1():
    a6, a30 = isac_calibration_assumptions(6), isac_calibration_assumptions(30.0)
    assert (a6.bs_tx_power_dbm, a6.bandwidth_mhz, a6.bs_noise_figure_db, a6.ue_noise_figure_db) == (56, 100, 5, 9)
    assert (a30.bs_tx_power_dbm, a30.bandwidth_mhz, a30.bs_noise_figure_db, a30.ue_noise_figure_db) == (41, 400, 7, 10)
    for a in (a6, a30):
        assert (a.isd_m, a.h_bs_m, a.n_ues, a.h_ue_m, a.target_height_m) == (500, 25, 30, 1.5, 200)
        assert (a.rcs_mean_dbsm, a.min_target_d3d_m, a.n_best_pairs) == (-12.81, 10, 4)
        assert "Table 7.9.6.1-1" in a.source


def test_unknown_frequency_lists_the_choices():
    with pytest.raises(InvalidChoiceError, match="6, 30"):
        isac_calibration_assumptions(3.5)
    with pytest.raises(InvalidChoiceError, match="differs"):
        run_isac_calibration(6.0, 5, 0, assumptions=isac_calibration_assumptions(30))


def test_bad_drop_count_and_heights_raise():
    with pytest.raises(OutOfValidityRangeError):
        run_isac_calibration(6.0, 0, 0)
    for h in (10.0, 301.0, (20.0, 100.0)):
        with pytest.raises(OutOfValidityRangeError, match="target_height_m"):
            run_isac_calibration(6.0, 5, 0, assumptions=replace(isac_calibration_assumptions(6), target_height_m=h))
    with pytest.raises(InvalidChoiceError, match="empty"):
        run_isac_calibration(6.0, 5, 0, assumptions=replace(isac_calibration_assumptions(6),
                                                             target_height_m=(200.0, 100.0)))


# --- hand-worked coupling losses -------------------------------------------------------------------


def test_monostatic_target_straight_above_a_trp_by_hand():
    # Target 200 m high right above a 25 m TRP: d3D = 175 m, LOS for sure (h > 100 m), SF = 0.
    pl, sf, los = trp_target_segment(np.array([0.0]), 200.0, 6.0, rng=no_fading(0))
    pl_hand = 28 + 22 * math.log10(175.0) + 20 * math.log10(6.0)             # 92.910 dB
    assert bool(los[0]) and float(sf[0]) == 0.0
    assert float(pl[0]) == pytest.approx(pl_hand, abs=1e-9)
    cl = target_coupling_loss_db(pl, pl, -12.81, 6.0)
    # 2 x 92.910 - 37.020 + 12.81 = 161.611 dB
    assert float(cl[0]) == pytest.approx(2 * pl_hand + scatter_term_db(6.0) + 12.81, abs=1e-9)
    assert float(cl[0]) == pytest.approx(161.61, abs=0.01)


@pytest.mark.parametrize("fc_ghz", [6.0, 30.0])
def test_monostatic_and_trp_trp_samples_equal_the_geometry_without_fading(fc_ghz):
    # Above 100 m every TRP-target segment is LOS (Table B-1), so without shadow fading the best
    # monostatic pairs are the 4 nearest TRPs in 3D and the best TRP-TRP pairs the 4 smallest PL sums.
    a = replace(isac_calibration_assumptions(fc_ghz), target_height_m=250.0)
    r = run_isac_calibration(fc_ghz, 30, no_fading(3), assumptions=a)
    sx, sy = hexagonal_site_positions_m(500.0)
    d3d = np.sqrt((r.target_x_m[:, None] - sx) ** 2 + (r.target_y_m[:, None] - sy) ** 2 + (250.0 - 25.0) ** 2)
    pl = uma_av_los_pl_db(d3d, fc_ghz)                                       # (n, 19)
    const = scatter_term_db(fc_ghz) + 12.81
    mono = np.sort(2 * pl + const, axis=1)[:, :4].ravel()
    np.testing.assert_allclose(r.samples[("trp_monostatic", "target_coupling_loss_db")], mono, atol=1e-9)
    i, j = np.triu_indices(19, k=1)
    bi = np.sort(pl[:, i] + pl[:, j] + const, axis=1)[:, :4].ravel()
    np.testing.assert_allclose(r.samples[("trp_trp_bistatic", "target_coupling_loss_db")], bi, atol=1e-9)
    assert r.los_fraction[("trp_monostatic", "trp_target")] == 1.0
    # a bistatic pair never beats the monostatic link of its better TRP: best bistatic >= best monostatic
    assert np.all(bi.reshape(-1, 4)[:, 0] >= mono.reshape(-1, 4)[:, 0] - 1e-9)


def test_target_coupling_losses_shift_by_20_lg_fc_ratio():
    # Every aerial segment carries 20 lg fc once and the scatter term -20 lg fc once: a two-segment
    # target loss moves by 20 lg(30/6) = 13.98 dB between FR1 and FR2, draw by draw (same seed).
    r6, r30 = run_isac_calibration(6.0, 40, 11), run_isac_calibration(30.0, 40, 11)
    for link in LINKS:
        key = (link, "target_coupling_loss_db")
        np.testing.assert_allclose(r30.samples[key] - r6.samples[key], 20 * math.log10(5.0), atol=1e-9)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b, c = run_isac_calibration(6.0, 25, 5), run_isac_calibration(6.0, 25, 5), run_isac_calibration(6.0, 25, 6)
    for key in a.samples:
        np.testing.assert_array_equal(a.samples[key], b.samples[key])
    assert not np.array_equal(a.samples[("trp_monostatic", "target_coupling_loss_db")],
                              c.samples[("trp_monostatic", "target_coupling_loss_db")])


def test_medians_are_plausible_and_ordered():
    r = run_isac_calibration(6.0, 400, 2)
    med = {k: float(np.median(v)) for k, v in r.samples.items()}
    assert set(r.samples) == {(lk, "target_coupling_loss_db") for lk in LINKS} | {
        ("trp_monostatic", "background_coupling_loss_db"), ("trp_ue_bistatic", "background_coupling_loss_db")}
    # monostatic: between the straight-above bound (161.61 dB) and a TRP one ring away (~190 dB)
    assert 161.5 < med[("trp_monostatic", "target_coupling_loss_db")] < 190.0
    # a UE below the UAV is nearer than any TRP: the UE-UE and TRP-UE modes beat the TRP-TRP mode
    assert (med[("ue_ue_bistatic", "target_coupling_loss_db")] < med[("trp_ue_bistatic", "target_coupling_loss_db")]
            < med[("trp_trp_bistatic", "target_coupling_loss_db")])
    # background: one-way terrestrial losses, far below any two-way target loss, in the range of the
    # TR 38.901 7.8 UMa calibration (published median coupling loss at 6 GHz: 120.3 dB, with antennas and O2I)
    for link in ("trp_monostatic", "trp_ue_bistatic"):
        assert 90.0 < med[(link, "background_coupling_loss_db")] < 135.0
    assert 0.0 <= r.los_fraction[("trp_ue_bistatic", "trp_ue")] <= 1.0


def test_percentile_rows_are_monotone_and_span_min_to_max():
    r = run_isac_calibration(30.0, 60, 4)
    rows = r.percentiles()
    assert len(rows) == 6 * len(PERCENTILES)
    for (link, metric), values in r.samples.items():
        got = [row.value for row in rows if (row.link, row.metric) == (link, metric)]
        assert np.all(np.diff(got) >= 0)
        assert got[0] == pytest.approx(values.min()) and got[-1] == pytest.approx(values.max())


# --- pieces -----------------------------------------------------------------------------------------


def test_centre_cell_points_are_uniform_over_the_hexagon():
    sx, sy = hexagonal_site_positions_m(500.0)
    x, y = draw_points_in_centre_cell_m(20_000, 500.0, rng=np.random.default_rng(0))
    d2 = (x[:, None] - sx) ** 2 + (y[:, None] - sy) ** 2
    assert np.all(np.argmin(d2, axis=1) == 0)
    # share inside the inscribed circle (radius = apothem = ISD/2): pi / (2 sqrt 3) = 0.9069
    assert np.mean(np.hypot(x, y) <= 250.0) == pytest.approx(math.pi / (2 * math.sqrt(3)), abs=0.01)
    assert abs(np.mean(x)) < 3.0 and abs(np.mean(y)) < 3.0


def test_ue_target_segment_is_los_close_below_and_can_be_nlos_far_and_low():
    pl, sf, los = ue_target_segment(np.array([5.0, 5.0]), np.array([200.0, 300.0]), 6.0, rng=no_fading(0))
    assert los.all()
    d3d = np.hypot(5.0, np.array([198.5, 298.5]))
    fspl = 20 * np.log10(40 * np.pi * d3d * 6.0 / 3.0)
    umi_los = 30.9 + (22.25 - 0.5 * np.log10([200.0, 300.0])) * np.log10(d3d) + 20 * math.log10(6.0)
    np.testing.assert_allclose(pl, np.maximum(fspl, umi_los), atol=1e-9)
    _, _, los_far = ue_target_segment(np.full(4000, 3000.0), 30.0, 6.0, rng=np.random.default_rng(1))
    assert 0.0 < los_far.mean() < 1.0


def test_reference_points_follow_the_gamma_law_and_are_nlos():
    pl, sf, d, h = monostatic_reference_point_segment(40_000, 6.0, rng=np.random.default_rng(0))
    assert np.mean(d) == pytest.approx(10.3370 / 0.1317 + 68.7778, rel=0.01)
    assert np.var(d) == pytest.approx(10.3370 / 0.1317 ** 2, rel=0.05)
    assert np.mean(h) == pytest.approx(16.2253 / 1.9218 + 2.6142, rel=0.01)
    assert np.std(sf) == pytest.approx(6.0, rel=0.03)                        # UMa NLOS sigma_SF
    assert np.all(d >= 68.7778) and np.all(pl > 90.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=30), st.integers(1, 30))
def test_best_pairs_are_the_n_smallest_in_order(values, n):
    n = min(n, len(values))
    idx = best_pairs(np.array([values]), n)[0]
    assert sorted(np.array(values)[idx].tolist()) == np.array(values)[idx].tolist()
    assert np.array(values)[idx].tolist() == sorted(values)[:n]


# --- report and command -------------------------------------------------------------------------------


def test_report_writes_csv_and_plots_and_says_when_nothing_is_published(tmp_path):
    r = run_isac_calibration(6.0, 20, 0)
    paths = write_isac_calibration(r, tmp_path)
    assert set(paths) == {"csv", *LINKS}
    with open(paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["link", "metric", "percentile", "value"]
    assert len(rows) == 6 * len(PERCENTILES)
    assert {row["metric"] for row in rows} == set(METRICS)
    for link in LINKS:
        assert paths[link].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert NO_PUBLISHED_NOTE == "no published numbers available in this workplace"


def test_published_rows_are_read_filtered_and_compared(tmp_path):
    p = tmp_path / "pub.csv"
    p.write_text("link,metric,percentile,value,source,fc_ghz\n"
                 "trp_monostatic,target_coupling_loss_db,50,170.0,company X,6\n"
                 "trp_monostatic,target_coupling_loss_db,50,184.0,company X,30\n")
    pub = read_published_isac_calibration(p, fc_ghz=6.0)
    assert [(x.link, x.percentile, x.value) for x in pub] == [("trp_monostatic", 50, 170.0)]
    r = run_isac_calibration(6.0, 20, 0)
    ours = {(x.link, x.metric, x.percentile): x.value for x in r.percentiles()}
    (gap,) = percentile_gaps(r.percentiles(), pub)
    assert gap[-1] == pytest.approx(ours[("trp_monostatic", "target_coupling_loss_db", 50)] - 170.0)
    write_isac_calibration(r, tmp_path / "o", published=pub)
    bad = tmp_path / "bad.csv"
    bad.write_text("link,metric,percentile,value,source\nnope,target_coupling_loss_db,5,1,x\n")
    with pytest.raises(DataFileError, match="unknown link"):
        read_published_isac_calibration(bad, fc_ghz=6.0)
    with pytest.raises(DataFileError, match="lacks"):
        (tmp_path / "cols.csv").write_text("link,value\n")
        read_published_isac_calibration(tmp_path / "cols.csv", fc_ghz=6.0)


def test_run_isac_calibration_through_a_typer_app(tmp_path):
    app = typer.Typer()
    app.command()(isac_calibrate)
    app.command(name="noop")(lambda: None)                                   # keep subcommand mode
    runner = CliRunner()
    out = tmp_path / "cal"
    res = runner.invoke(app, ["isac-calibrate", "--fc-ghz", "30", "--n-drops", "15", "--seed", "2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / CSV_NAME).exists() and (out / "isac_ue_ue_bistatic.png").exists()
    assert "trp_monostatic target_coupling_loss_db" in res.output and NO_PUBLISHED_NOTE in res.output
    bad = runner.invoke(app, ["isac-calibrate", "--fc-ghz", "3.5", "--n-drops", "5", "-o", str(out)])
    assert bad.exit_code == 1 and "error:" in bad.output and "6, 30" in bad.output
