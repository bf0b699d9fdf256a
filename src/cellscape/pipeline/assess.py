"""The resilience job (``cellscape assess``, docs/resilience.md): scenario + ``assess:`` block (+ a
plan's backhaul) -> geometry -> every sector's RSRP map (the map engine, once) -> N-1 / N-k outages,
backhaul outages, self-healing of the worst -> jammers' SINR degradation and denied area, downlink
and uplink -> rogue cells' camping area -> KPIs. No file is written here: ``cellscape.io`` writes
results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import time

import numpy as np

from cellscape.coverage.engine import Backend, sector_maps
from cellscape.coverage.result import SectorTable
from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize, site_positions_m
from cellscape.resilience import jamming, outage, rogue
from cellscape.resilience.outage import Backhaul, CoverageCriterion, HealResult, NetworkMaps, OutageRow
from cellscape.scenario.records import Scenario
from cellscape.scenario.resilience import Assess

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JammingMaps:
    """Maps (n_rows, n_cols) float32 of the jammers: ``jammer_dbm`` (their summed power per RE) [dBm],
    downlink and uplink SINR intact and jammed [dB], ``dl_denied`` / ``ul_denied`` (jammed SINR below
    the lowest CQI's, bool). ``gnb_jammer_per_prb_dbm``: (n_sectors,) the jammers' power per PRB at
    each sector's receiver [dBm]."""

    jammer_dbm: np.ndarray
    dl_sinr_db: np.ndarray
    dl_sinr_jammed_db: np.ndarray
    ul_sinr_db: np.ndarray
    ul_sinr_jammed_db: np.ndarray
    dl_denied: np.ndarray
    ul_denied: np.ndarray
    gnb_jammer_per_prb_dbm: np.ndarray
    xy_m: np.ndarray


@dataclass(frozen=True)
class RogueMaps:
    """``rogue_rsrp_dbm`` (the strongest rogue cell), ``margin_db`` (over the best real cell),
    ``camped`` (bool), ``which`` (index of the strongest rogue cell), (n_rows, n_cols) each."""

    rogue_rsrp_dbm: np.ndarray
    margin_db: np.ndarray
    camped: np.ndarray
    which: np.ndarray
    xy_m: np.ndarray


@dataclass(frozen=True)
class AssessRun:
    """A finished assessment: the outage table (``outages``, worst first within each kind), the lost
    masks of the worst cases (``worst_lost``: name -> (n_rows, n_cols) bool), self-healing per healed
    case (``heal``: name -> HealResult), the jamming and rogue maps (None without jammers / rogue
    cells), the intact best-server maps, the demand per pixel and the figures of ``assess.json``
    (``kpis``)."""

    assess: Assess
    scenario: Scenario
    grid: RasterGrid
    sectors: SectorTable
    criterion: CoverageCriterion
    demand: np.ndarray
    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray
    outages: list[OutageRow]
    worst_lost: dict
    heal: dict
    jamming: JammingMaps | None
    rogue: RogueMaps | None
    kpis: dict
    footprints: object | None = None
    notes: list[str] = field(default_factory=list)


def demand_per_pixel(assess: Assess, grid: RasterGrid, raster: np.ndarray | None) -> np.ndarray:
    """Users (= demand) per pixel: the raster read at the edge, else ``users_per_km2`` everywhere."""
    if raster is not None:
        r = np.asarray(raster, dtype=float)
        if r.shape != grid.shape:
            raise ScenarioError(f"assess.demand_raster: {r.shape} values, the map is {grid.shape}")
        return r
    return np.full(grid.shape, assess.users_per_km2 * grid.resolution_m ** 2 / 1e6)


def _heal_summary(h: HealResult) -> dict:
    return {"neighbours": list(h.neighbours), "sectors_tuned": int(h.sectors.size),
            "evaluations": h.tuning.evaluations, "stopped": h.tuning.stopped,
            "demand_intact": h.demand_intact, "demand_failed": h.demand_failed, "demand_healed": h.demand_healed,
            "recovered_share": h.recovered_share, "recovered_area_share": h.recovered_area_share,
            "changes": len(h.tuning.changes())}


def run_assess(scenario: Scenario, assess: Assess, *, backhaul: Backhaul | None = None,
               demand_raster: np.ndarray | None = None, terrain: Terrain | None = None, backend: Backend = "numba",
               progress: Progress | None = None) -> AssessRun:
    """Run the assessment (module docstring).

    ``backhaul``: the plan's fibre (:class:`cellscape.resilience.outage.Backhaul`, read at the edge);
    its site ids must be the scenario's. ``demand_raster``: users per pixel on the scenario's grid.

    Raises
    ------
    ScenarioError
        For a jammer or rogue cell the engine cannot model (height outside the TR 38.901 BS range of
        its environment), or a jammer outside the map (its uplink links need its pixel).
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        seconds[name] = round(now - t0, 3)
        t0 = now

    grid, xy = localize(scenario)
    footprints = load_footprints(scenario, grid)
    maps = sector_maps(scenario, grid, xy, footprints=footprints, terrain=terrain, backend=backend, progress=progress)
    site_ids = [s.site_id for s in scenario.sites]
    net = NetworkMaps.from_sector_maps(maps, load_factor=scenario.carrier.dl_load_factor, site_ids=site_ids)
    lap("sector_maps")
    crit = CoverageCriterion(assess.rsrp_min_dbm, outage.lowest_cqi_sinr_db() if assess.sinr_min_db is None
                             else assess.sinr_min_db)
    demand = demand_per_pixel(assess, grid, demand_raster)
    d = demand.ravel()
    base = outage.serving(net)
    base_cov = crit.covered(base.rsrp_dbm, base.sinr_db)
    notes: list[str] = []

    # N-1, then the k worst together
    table = outage.n_minus_1(net, crit, d, base=base)
    rows = outage.n1_rows(net, table)
    lap("n_minus_1")
    worst_lost: dict[str, np.ndarray] = {}
    for r in rows[:assess.worst_maps]:
        if r.demand_lost > 0 or r.area_lost_km2 > 0:
            _, lost = outage.outage_row(net, crit, d, base_cov, [net.site_index(r.name)], kind="site", name=r.name)
            worst_lost[r.name] = lost.reshape(grid.shape)
    for r, lost in outage.n_minus_k(net, crit, d, table, assess.k, base=base):
        rows.append(r)
        if r.name == f"N-{min(assess.k, net.n_sites)}" and assess.worst_maps > 0:
            worst_lost[r.name] = lost.reshape(grid.shape)
    lap("n_minus_k")

    # backhaul of a plan
    if backhaul is not None:
        known = set(site_ids)
        unknown = sorted(set(backhaul.site_nodes) - known)
        if unknown:
            notes.append(f"{len(unknown)} backhauled site(s) of the plan are not in the network (first: {unknown[0]}); "
                         f"left out")
        bh_rows = []
        for kind, name, lost_sites, detail in outage.backhaul_outages(backhaul):
            idx = [net.site_index(s) for s in lost_sites if s in known]
            row, _ = outage.outage_row(net, crit, d, base_cov, idx, kind=kind, name=name, detail=detail)
            bh_rows.append(row)
        bh_rows.sort(key=lambda r: (-r.demand_lost, -r.area_lost_km2))
        rows += bh_rows
        lap("backhaul")

    # self-healing of the worst single-site outages
    heal: dict[str, HealResult] = {}
    if assess.self_heal and assess.self_heal_cases > 0:
        geom = _geometry(scenario, grid, xy)
        for r in [r for r in rows if r.kind == "site" and r.demand_lost > 0][:assess.self_heal_cases]:
            h = outage.self_heal(net, geom, crit, d, [net.site_index(r.name)], neighbours=assess.neighbours,
                                 max_power_boost_db=assess.max_power_boost_db, max_evaluations=assess.max_evaluations,
                                 base=base)
            if h is not None:
                heal[r.name] = h
        lap("self_heal")

    jam = _jamming(scenario, assess, grid, xy, net, maps, base, footprints, terrain, backend) if assess.jammers else None
    if jam is not None:
        lap("jamming")
    rog = _rogue(scenario, assess, grid, net, base, footprints, terrain, backend) if assess.rogue_cells else None
    if rog is not None:
        lap("rogue")

    px_km2 = net.pixel_area_km2
    kpis: dict = {
        "name": scenario.name, "sites": net.n_sites, "sectors": int(maps.rsrp_dbm.shape[0]),
        "grid": {"n_rows": grid.n_rows, "n_cols": grid.n_cols, "resolution_m": grid.resolution_m, "crs": grid.crs},
        "coverage": {"rsrp_min_dbm": crit.rsrp_min_dbm, "sinr_min_db": crit.sinr_min_db,
                     "covered_area_km2": float(base_cov.sum()) * px_km2, "covered_fraction": float(base_cov.mean()),
                     "users": float(d.sum()), "covered_users": float(d[base_cov].sum()),
                     "demand": "raster" if demand_raster is not None else f"uniform {assess.users_per_km2:g} users/km2"},
        "n_minus_1": {"worst": [_row_dict(r) for r in rows if r.kind == "site"][:10],
                      "sites_losing_nothing": int(sum(1 for r in rows if r.kind == "site" and r.area_lost_km2 == 0))},
        "n_minus_k": [_row_dict(r) for r in rows if r.kind == "n-k"],
        "backhaul": ([_row_dict(r) for r in rows if r.kind in ("fiber", "data_center")] if backhaul is not None
                     else None),
        "self_heal": {name: _heal_summary(h) for name, h in heal.items()},
        "jamming": _jamming_kpis(jam, assess, base_cov, d, px_km2) if jam is not None else None,
        "rogue": _rogue_kpis(rog, assess, d, px_km2) if rog is not None else None,
        "notes": notes,
        "seconds": seconds,
        "meta": {**maps.meta, "n_prb": maps.n_prb},
    }
    return AssessRun(assess=assess, scenario=scenario, grid=grid, sectors=maps.sectors, criterion=crit, demand=demand,
                     rsrp_dbm=base.rsrp_dbm.reshape(grid.shape).astype(np.float32),
                     sinr_db=base.sinr_db.reshape(grid.shape).astype(np.float32), outages=rows, worst_lost=worst_lost,
                     heal=heal, jamming=jam, rogue=rog, kpis=kpis, footprints=footprints, notes=notes)


def _row_dict(r: OutageRow) -> dict:
    return {"kind": r.kind, "name": r.name, "sites": list(r.sites), "area_lost_km2": r.area_lost_km2,
            "area_gained_km2": r.area_gained_km2, "demand_lost": r.demand_lost,
            "demand_lost_fraction": r.demand_lost_fraction, "covered_fraction_after": r.covered_fraction_after,
            "detail": r.detail}


def _geometry(scenario: Scenario, grid: RasterGrid, xy: np.ndarray) -> outage.SectorGeometry:
    secs = [(i, s) for i, site in enumerate(scenario.sites) for s in site.sectors]
    return outage.SectorGeometry(
        x_m=np.array([xy[i, 0] for i, _ in secs]), y_m=np.array([xy[i, 1] for i, _ in secs]),
        height_m=np.array([scenario.sites[i].height_m for i, _ in secs], dtype=float),
        azimuth_deg=np.array([s.azimuth_deg for _, s in secs], dtype=float),
        mech_tilt_deg=np.array([s.mech_tilt_deg for _, s in secs], dtype=float),
        elec_tilt_deg=np.array([s.elec_tilt_deg for _, s in secs], dtype=float),
        tx_power_dbm=np.array([s.tx_power_dbm for _, s in secs], dtype=float),
        antennas=tuple(s.antenna for _, s in secs), h_ut_m=scenario.receiver.height_m,
        x_centers_m=grid.x_centers_m(), y_centers_m=grid.y_centers_m())


def _jamming(scenario, assess, grid, xy, net, maps, base, footprints, terrain, backend) -> JammingMaps:
    js = assess.jammers
    jxy = site_positions_m([j.x for j in js], [j.y for j in js], scenario, grid)
    jmaps = jamming.transmitter_maps(jamming.jammer_scenario(scenario, js), grid, jxy, what="assess.jammers",
                                     footprints=footprints, terrain=terrain, backend=backend)
    j_mw = np.power(10.0, jmaps.astype(np.float64) / 10.0).sum(axis=0)      # (n_rows, n_cols)
    with np.errstate(divide="ignore"):
        j_dbm = 10.0 * np.log10(j_mw)
    dl = base.sinr_db.reshape(grid.shape)
    dl_jam = jamming.jammed_sinr_db(base.rsrp_dbm.reshape(grid.shape), dl, j_dbm)
    # uplink: each jammer's power per PRB at every sector's receiver
    sec_xy = np.column_stack([maps.sectors.x_m, maps.sectors.y_m])
    gnb_mw = np.zeros(sec_xy.shape[0])
    x0, y0, x1, y1 = grid.bounds_m
    for j, (jx, jy) in zip(js, jxy):
        if not (x0 <= jx <= x1 and y0 <= jy <= y1):
            raise ScenarioError(f"assess.jammers: {j.name} lies outside the map; its uplink links are computed at "
                                f"its pixel (move it inside the area)")
        cl = jamming.sector_coupling_loss_db(scenario, grid, xy, float(jx), float(jy), j.height_m,
                                             footprints=footprints, terrain=terrain)
        gain = jamming.jammer_gain_towards_dbi(j, (jx, jy), sec_xy, maps.sectors.height_m)
        p_in = jamming.in_band_power_dbm(j.tx_power_dbm, j.bandwidth_mhz, scenario.carrier.bandwidth_mhz,
                                         offset_mhz=j.offset_mhz)
        gnb_mw += 10.0 ** (jamming.jammer_at_gnb_per_prb_dbm(p_in, maps.n_prb, gain, cl) / 10.0)
    with np.errstate(divide="ignore"):
        gnb_dbm = 10.0 * np.log10(gnb_mw)
    ul, ul_jam = jamming.uplink_sinr_maps(scenario, maps.tx_power_per_re_dbm, base.best_sector.reshape(grid.shape),
                                          base.rsrp_dbm.reshape(grid.shape), maps.n_prb, gnb_dbm)
    floor = outage.lowest_cqi_sinr_db()
    with np.errstate(invalid="ignore"):
        return JammingMaps(jammer_dbm=j_dbm.astype(np.float32), dl_sinr_db=dl.astype(np.float32),
                           dl_sinr_jammed_db=dl_jam.astype(np.float32), ul_sinr_db=ul.astype(np.float32),
                           ul_sinr_jammed_db=ul_jam.astype(np.float32), dl_denied=~(dl_jam >= floor),
                           ul_denied=~(ul_jam >= floor), gnb_jammer_per_prb_dbm=gnb_dbm, xy_m=jxy)


def _jamming_kpis(jam: JammingMaps, assess: Assess, base_cov: np.ndarray, d: np.ndarray, px_km2: float) -> dict:
    floor = outage.lowest_cqi_sinr_db()
    out = {"sinr_floor_db": floor, "jammers": [j.name for j in assess.jammers]}
    for link, intact, jammed, denied in (("downlink", jam.dl_sinr_db, jam.dl_sinr_jammed_db, jam.dl_denied),
                                         ("uplink", jam.ul_sinr_db, jam.ul_sinr_jammed_db, jam.ul_denied)):
        with np.errstate(invalid="ignore"):
            was = ~(intact >= floor)
        newly = (denied & ~was).ravel()
        drop = (intact - jammed)[np.isfinite(intact - jammed)]
        out[link] = {"denied_area_km2": float(denied.sum()) * px_km2,
                     "newly_denied_area_km2": float(newly.sum()) * px_km2,
                     "newly_denied_covered_users": float(d[newly & base_cov].sum()),
                     "sinr_drop_median_db": float(np.median(drop)) if drop.size else None,
                     "sinr_drop_max_db": float(drop.max()) if drop.size else None}
    return out


def _rogue(scenario, assess, grid, net, base, footprints, terrain, backend) -> RogueMaps:
    rs = assess.rogue_cells
    rxy = site_positions_m([r.x for r in rs], [r.y for r in rs], scenario, grid)
    rmaps = jamming.transmitter_maps(rogue.rogue_scenario(scenario, rs), grid, rxy, what="assess.rogue_cells",
                                     footprints=footprints, terrain=terrain, backend=backend)
    which = np.argmax(rmaps, axis=0)
    strongest = np.take_along_axis(rmaps, which[None], axis=0)[0].astype(float)
    real = base.rsrp_dbm.reshape(grid.shape)
    camped = rogue.camped_mask(strongest, real, offset_db=assess.reselection_offset_db, rsrp_min_dbm=assess.rsrp_min_dbm)
    return RogueMaps(rogue_rsrp_dbm=strongest.astype(np.float32),
                     margin_db=rogue.rogue_margin_db(strongest, real).astype(np.float32), camped=camped,
                     which=which.astype(np.int32), xy_m=rxy)


def _rogue_kpis(rog: RogueMaps, assess: Assess, d: np.ndarray, px_km2: float) -> dict:
    c = rog.camped.ravel()
    per = {}
    for k, r in enumerate(assess.rogue_cells):
        m = c & (rog.which.ravel() == k)
        per[r.name] = {"camped_area_km2": float(m.sum()) * px_km2, "users_exposed": float(d[m].sum())}
    return {"reselection_offset_db": assess.reselection_offset_db, "camped_area_km2": float(c.sum()) * px_km2,
            "users_exposed": float(d[c].sum()), "demand_exposed_fraction": float(d[c].sum() / d.sum()) if d.sum() > 0 else None,
            "per_cell": per}


__all__ = ["AssessRun", "JammingMaps", "RogueMaps", "demand_per_pixel", "run_assess"]
