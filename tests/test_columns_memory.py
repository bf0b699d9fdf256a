"""A national network's columns in little memory, the same values and bits (issue 12): compact text
columns (cellscape.scenario.columns.TextColumn), the sector kinds coded column by column, the
journal's network key fed in blocks, the sites' gain sums computed block by block
(cellscape.pipeline.national), and the Arrow pool of a columnar read (cellscape.io.sites_file)."""

from dataclasses import replace
import hashlib
import pickle

import numpy as np
import pyarrow as pa
import pytest

from cellscape.coverage import cutoff, engine
from cellscape.io.sites_file import read_site_columns, write_site_columns
from cellscape.pipeline import national
from cellscape.pipeline.coverage import localize, site_positions_m
from cellscape.scenario.columns import SiteColumns, TextColumn
from cellscape.scenario.records import Area, Carrier, Receiver, Scenario, Sector, Site

X0, Y0 = 385_000.0, 6_671_000.0


# ---------------------------------------------------------------------------------------------
# TextColumn


def test_text_column_ascii_is_one_byte_per_character_and_reads_as_str():
    c = TextColumn(np.array(["S1", "S22", ""]))
    assert c.values.dtype == np.dtype("S3") and c.values.nbytes == 9          # U3 would be 36 bytes
    assert c[1] == "S22" and type(c[1]) is str and c[-1] == ""
    assert c[[2, 0]].tolist() == ["", "S1"] and c[1:].tolist() == ["S22", ""]
    assert list(c) == ["S1", "S22", ""] and len(c) == 3 and c.shape == (3,)
    assert (c == "").tolist() == [False, False, True] and (c != "S1").tolist() == [False, True, True]
    assert (c == "é").tolist() == [False, False, False]
    assert (c == np.array(["S1", "x", ""])).tolist() == [True, False, True]
    assert np.asarray(c).dtype == np.dtype("U3") and np.asarray(c, dtype=str).tolist() == ["S1", "S22", ""]
    assert pickle.loads(pickle.dumps(c)).tolist() == c.tolist()


def test_text_column_keeps_other_text_as_str():
    c = TextColumn(["Å1", "B"])
    assert c.values.dtype.kind == "U" and c[0] == "Å1" and (c == "B").tolist() == [False, True]
    assert (c == TextColumn(["Å1", "x"])).tolist() == [True, False]
    assert (TextColumn(["B", "Å1"]) == TextColumn(["B", "C"])).tolist() == [True, False]   # S vs U


def test_text_column_conversion_in_blocks_equals_whole():
    rng = np.random.default_rng(1)
    values = np.array([f"id{k}" for k in rng.integers(0, 10**6, 1000)])
    assert TextColumn(values, block=7).tolist() == values.tolist()
    odd = values.copy()
    odd[999] = "ü"                                   # non-ASCII in the last block: all U
    c = TextColumn(odd, block=7)
    assert c.values.dtype.kind == "U" and c.tolist() == odd.tolist()


def test_site_columns_hold_text_columns_with_the_same_records():
    sites = (Site("A", 1.0, 2.0, 30.0, (Sector(0.0, sector_id="A-1"), Sector(120.0))),
             Site("Bé", 3.0, 4.0, 20.0, (Sector(10.0),), environment="UMi"))
    cols = SiteColumns.from_records(sites)
    assert isinstance(cols.site_id, TextColumn) and isinstance(cols.sector_id, TextColumn)
    assert cols.records([0, 1]) == sites
    assert cols.take([1]).records(0) == sites[1:]
    assert cols.environment.tolist() == ["", "UMi"]


# ---------------------------------------------------------------------------------------------
# network_key, _sector_keys, SectorNames


def messy_columns(n: int = 300, seed: int = 0) -> SiteColumns:
    rng = np.random.default_rng(seed)
    ptr = np.concatenate([[0], np.cumsum(rng.integers(1, 4, n))])
    m = int(ptr[-1])
    return SiteColumns(
        site_id=np.array([f"S{i}é" if i % 7 == 0 else f"S{i}" for i in range(n)]),
        x=rng.normal(size=n), y=rng.normal(size=n), height_m=rng.choice([10.0, 20.0, 25.0], n),
        environment=rng.choice(["", "UMa", "RMa", "UMi"], n), sector_ptr=ptr,
        azimuth_deg=rng.uniform(0, 360, m), tx_power_dbm=rng.choice([40.0, 46.0, -0.0, 0.0], m),
        mech_tilt_deg=rng.choice([0.0, 2.0], m), elec_tilt_deg=np.broadcast_to(6.0, (m,)),
        sector_id=np.array([f"c{j}" for j in range(m)]), sector_antenna=rng.integers(0, 2, m).astype(np.int32))


def key_of_whole_strings(columns: SiteColumns) -> str:
    """The network key as one byte string per column (the definition a journal was tied to)."""
    h = hashlib.sha256()
    for name in ("x", "y", "height_m", "sector_ptr", "azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "elec_tilt_deg"):
        h.update(np.ascontiguousarray(getattr(columns, name)).tobytes())
    for name in ("site_id", "environment", "sector_id"):
        h.update("\x1f".join(map(str, np.asarray(getattr(columns, name)))).encode())
    return h.hexdigest()


@pytest.mark.parametrize("block", [1, 13, 1 << 20])
def test_network_key_in_blocks_is_the_whole_strings_digest(block):
    cols = messy_columns()
    assert national.network_key(cols, block=block) == key_of_whole_strings(cols)
    assert national.network_key(cols.take(np.arange(5)), block=block) == key_of_whole_strings(cols.take(np.arange(5)))


def test_network_key_changes_with_a_sector_id():
    cols = messy_columns()
    ids = np.asarray(cols.sector_id).copy()
    ids[-1] = "other"
    assert national.network_key(replace(cols, sector_id=ids)) != national.network_key(cols)


def sector_keys_by_rows(columns: SiteColumns) -> np.ndarray:
    """The sector kinds as np.unique of the (n_sectors, 6) rows (the definition)."""
    sec_site = columns.sector_site
    _, env_code = np.unique(np.asarray(columns.environment, dtype=str), return_inverse=True)
    antenna = np.zeros(columns.n_sectors) if columns.sector_antenna is None else columns.sector_antenna
    key = np.column_stack([env_code[sec_site].astype(float), columns.height_m[sec_site], np.asarray(antenna, float),
                           columns.tx_power_dbm, columns.mech_tilt_deg, columns.elec_tilt_deg])
    return np.unique(key, axis=0, return_inverse=True)[1].ravel()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sector_keys_column_by_column_equal_the_rows_unique(seed):
    cols = messy_columns(seed=seed)
    np.testing.assert_array_equal(national._sector_keys(cols), sector_keys_by_rows(cols))
    plain = replace(cols, sector_antenna=None, tx_power_dbm=np.broadcast_to(46.0, (cols.n_sectors,)))
    np.testing.assert_array_equal(national._sector_keys(plain), sector_keys_by_rows(plain))


@pytest.mark.parametrize("block", [5, 1 << 20])
def test_kinds_are_the_sites_of_each_codes_first_sector(monkeypatch, block):
    monkeypatch.setattr(national, "_BLOCK", block)
    cols = messy_columns(seed=3)
    code = sector_keys_by_rows(cols)
    np.testing.assert_array_equal(national._sector_keys(cols), code)
    expected = np.unique(cols.sector_site[np.unique(code, return_index=True)[1]])
    np.testing.assert_array_equal(national._kinds(cols), expected)
    np.testing.assert_array_equal(national._kinds(cols, code), expected)


def test_sector_names_look_sites_up_by_sector():
    cols = messy_columns(50)
    names = national.SectorNames(cols)
    site_of = cols.sector_site
    assert [names.site_id[j] for j in range(cols.n_sectors)] == [cols.site_id[i] for i in site_of]
    assert names.site_id[-1] == cols.site_id[cols.n_sites - 1] and names.sector_id[3] == cols.sector_id[3]
    with pytest.raises(IndexError):
        names.site_id[cols.n_sectors]


# ---------------------------------------------------------------------------------------------
# site gain sums block by block


def small_network(n_sites: int = 60, seed: int = 4) -> tuple[Scenario, SiteColumns]:
    rng = np.random.default_rng(seed)
    sites = tuple(
        Site(site_id=f"S{i}", x=X0 + rng.uniform(0, 4000), y=Y0 + rng.uniform(0, 3000),
             height_m=float(rng.choice([20.0, 30.0])),
             sectors=tuple(Sector(azimuth_deg=float(rng.uniform(0, 360)), tx_power_dbm=float(rng.choice([43.0, 46.0])),
                                  elec_tilt_deg=6.0) for _ in range(int(rng.integers(1, 4)))))
        for i in range(n_sites))
    sc = Scenario(name="net", area=Area(bounds=(X0, Y0, X0 + 4000, Y0 + 3000), resolution_m=100.0, crs="EPSG:32635"),
                  carrier=Carrier(fc_ghz=3.5, bandwidth_mhz=100.0, scs_khz=30.0, dl_load_factor=0.7), sites=sites,
                  environment="UMa", receiver=Receiver(height_m=1.5), los_mode="nlos", seed=seed,
                  interference_cutoff_db=0.1)
    return sc, SiteColumns.from_records(sites)


@pytest.mark.parametrize("max_signatures", [cutoff.MAX_SITE_SIGNATURES, 5])
def test_site_gain_sums_in_blocks_are_the_whole_networks_bits(monkeypatch, max_signatures):
    monkeypatch.setattr(cutoff, "MAX_SITE_SIGNATURES", max_signatures)   # 5: every site its peak sum
    sc, cols = small_network()
    grid, _ = localize(sc)
    xy = site_positions_m(cols.x, cols.y, sc, grid)
    code = national._sector_keys(cols)
    idx = national._kinds(cols, code)
    run = engine.prepare(national._with_sites(sc, cols, idx), grid, xy[idx])
    st = run.static
    pattern, p_re = national._sector_patterns(cols, idx, run, code)
    whole = cutoff.site_gain_sum_mw(st.gain_lin, st.phi_step_deg, cols.sector_site, pattern, p_re,
                                    90.0 - cols.azimuth_deg, cols.n_sites)
    pattern_of, p_of = national._sector_tables(cols, idx, run, code)
    for block in (7, 16, 1000):
        got = national._site_gain_sums(run, cols, code, pattern_of, p_of, block_sites=block)
        np.testing.assert_array_equal(got, whole)
    starts = range(0, cols.n_sites, 7)

    def block(a, b):
        lo, hi = int(cols.sector_ptr[a]), int(cols.sector_ptr[b])
        return (np.repeat(np.arange(b - a), np.diff(cols.sector_ptr[a:b + 1])), pattern_of[code[lo:hi]],
                p_of[code[lo:hi]], 90.0 - cols.azimuth_deg[lo:hi])
    n_sig = national._signature_count(st.phi_step_deg, p_of, starts, cols.n_sites, block)
    assert (n_sig > max_signatures) == (max_signatures == 5)


# ---------------------------------------------------------------------------------------------
# the columnar reader


def test_read_site_columns_gives_compact_text_and_restores_the_arrow_pool(tmp_path):
    pool = pa.default_memory_pool()
    path = write_site_columns(tmp_path / "s.parquet", site_id=["A1", "B22"], x=[24.9, 25.0], y=[60.2, 60.3],
                              height_m=[30.0, 25.0], azimuth_deg=[[0.0, 120.0], [10.0, 200.0]],
                              environment=["UMa", "UMi"])
    raw = read_site_columns(path)
    assert pa.default_memory_pool().backend_name == pool.backend_name
    assert raw.site_id.values.dtype == np.dtype("S3") and raw.site_id.tolist() == ["A1", "B22"]
    assert raw.environment.tolist() == ["UMa", "UMi"]


@pytest.mark.slow
def test_china_network_driver_stays_under_2_gib(tmp_path):
    """benchmarks/national_memory.py on the 4.4 M-site synthetic China network (generated here,
    ~100 MB): reading it, building every column NationalTiles holds and the streamed run of a
    small window each peak under 2 GiB (issue 12). Minutes."""
    import json
    from pathlib import Path
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "national_memory.py"
    done = subprocess.run([sys.executable, str(script), "--work", str(tmp_path), "--limit-gib", "2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["under_limit"] and set(summary["peak_rss_gib"]) == {"read", "build", "run"}
