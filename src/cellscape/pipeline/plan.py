"""The planning job (``cellscape plan``): candidates -> per-candidate coverage -> site selection ->
rollout -> re-measurement -> tuning -> fibre. No file is written here: ``cellscape.io`` writes results.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from cellscape.coverage.engine import Backend, compute_coverage
from cellscape.coverage.result import CoverageResult
from cellscape.errors import GeometryError
from cellscape.geo.grid import RasterGrid, transform_xy
from cellscape.geo.surface import Terrain
from cellscape.pipeline.coverage import load_footprints, localize, rooftop_candidates
from cellscape.scenario.records import Scenario


@dataclass(frozen=True)
class Candidates:
    """Every site the planner may use, existing ones first. ``sites``: Site records (area CRS);
    ``xy_m``: (n, 2) positions in the grid CRS; ``kind``: "existing", "file", "rooftop" or "grid";
    ``cost``: build or upgrade cost; ``fixed``: standing sites (always in the plan)."""

    sites: tuple
    xy_m: np.ndarray
    kind: tuple[str, ...]
    cost: np.ndarray
    fixed: np.ndarray


@dataclass(frozen=True)
class PlanRun:
    """A finished plan: what was chosen, in which order, what it measures, how it is connected."""

    plan: object                    # scenario.plan.Plan
    grid: RasterGrid
    candidates: Candidates
    users: np.ndarray               # (n_rows, n_cols) users per pixel
    n_classes: int
    selection: object               # planning.selection.Selection (MILP)
    greedy: object                  # planning.selection.Selection (greedy baseline)
    rollout: object                 # planning.rollout.Rollout
    phases: list[dict]              # re-measured after each phase
    capacity_rounds: list[dict]     # interference-aware capacity rounds (empty without a load target)
    before: dict | None             # measure() of the standing network, None when greenfield
    after: dict                     # measure() of the planned network (after tuning when enabled)
    after_untuned: dict | None
    targets_after: list[dict]
    targets_before: list[dict] | None
    result_before: CoverageResult | None
    result_after: CoverageResult
    tuning: object | None           # planning.tuning.TuningResult
    network: Scenario               # the planned network as a scenario (tuned settings)
    fiber: dict
    footprints: object | None
    seconds: dict


class PlanError(GeometryError):
    """A plan that cannot be set up as written (e.g. a candidate outside the map)."""


def plan_candidates(plan, grid: RasterGrid, footprints) -> Candidates:
    """Existing sites (per ``plan.existing``), then the file, rooftop and grid candidates."""
    import dataclasses

    from cellscape.scenario.records import Sector, Site

    sc = plan.scenario
    tpl = plan.candidates.sectors

    def new_site(site_id: str, x: float, y: float, height_m: float) -> Site:
        secs = tuple(Sector(azimuth_deg=a, tx_power_dbm=tpl.tx_power_dbm, mech_tilt_deg=tpl.mech_tilt_deg,
                            elec_tilt_deg=tpl.elec_tilt_deg, antenna=tpl.antenna, sector_id=f"{site_id}-{k + 1}")
                     for k, a in enumerate(tpl.azimuths_deg))
        return Site(site_id=site_id, x=float(x), y=float(y), height_m=float(height_m), sectors=secs)

    sites, kind, cost = [], [], []
    standing = [s for s in sc.sites if plan.existing_sites is None or s.site_id in plan.existing_sites]
    if plan.existing != "ignore":
        sites += standing
        kind += ["existing"] * len(standing)
        cost += [plan.costs.upgrade if plan.existing == "upgrade" else 0.0] * len(standing)
    if plan.existing_sites is not None:     # the scenario's other sites: candidates (site sharing)
        others = [s for s in sc.sites if s.site_id not in plan.existing_sites]
        sites += others
        kind += ["scenario"] * len(others)
        cost += [plan.costs.new_site] * len(others)
    taken = {s.site_id for s in sites}
    for s in plan.candidates.file_sites:
        if s.site_id in taken:
            raise PlanError(f"plan.candidates.file: candidate {s.site_id!r} has the id of an existing site")
        sites.append(s)
        kind.append("file")
        cost.append(plan.costs.new_site)
    xs = np.array([s.x for s in sites], dtype=float)
    ys = np.array([s.y for s in sites], dtype=float)
    xm, ym = transform_xy(xs, ys, src_crs=sc.area.crs, dst_crs=grid.crs) if sites else (xs, ys)
    xy = [np.column_stack([xm, ym])]
    x0, y0, x1, y1 = grid.bounds_m
    for s, k, px, py in zip(sites, kind, xm, ym):
        if k in ("file", "scenario") and not (x0 <= px <= x1 and y0 <= py <= y1):
            where = "plan.candidates.file" if k == "file" else "plan.existing_sites"
            raise PlanError(f"{where}: candidate {s.site_id!r} at ({s.x:g}, {s.y:g}) lies outside "
                            f"the map area {list(sc.area.bounds)}; candidates must lie inside it")
    extra_xy, extra_sites = [], []
    if plan.candidates.rooftops is not None:
        r = plan.candidates.rooftops
        found = rooftop_candidates(sc, min_roof_m=r.min_roof_m, max_roof_m=r.max_roof_m, min_area_m2=r.min_area_m2,
                                   mast_m=r.mast_m, min_spacing_m=r.min_spacing_m, footprints=footprints)
        for row in found.itertuples():
            extra_sites.append((new_site(f"R{row.candidate_id[1:]}", row.x, row.y, row.antenna_height_m), "rooftop"))
            extra_xy.append((row.geometry.x, row.geometry.y))
    if plan.candidates.grid_spacing_m is not None:
        step = plan.candidates.grid_spacing_m
        gx = np.arange(x0 + step / 2, x1, step)
        gy = np.arange(y0 + step / 2, y1, step)
        px, py = (a.ravel() for a in np.meshgrid(gx, gy))
        if footprints is not None and len(footprints):
            import shapely

            inside = shapely.contains_xy(shapely.union_all(np.asarray(footprints.geometry.values)), px, py)
            px, py = px[~inside], py[~inside]
        lon, lat = transform_xy(px, py, src_crs=grid.crs, dst_crs=sc.area.crs)
        for i in range(px.size):
            extra_sites.append((new_site(f"G{i + 1:04d}", lon[i], lat[i], plan.candidates.grid_height_m), "grid"))
            extra_xy.append((px[i], py[i]))
    for s, k in extra_sites:
        sites.append(dataclasses.replace(s, environment=None))
        kind.append(k)
        cost.append(plan.costs.new_site)
    if extra_xy:
        xy.append(np.asarray(extra_xy, dtype=float))
    fixed = np.array([k == "existing" for k in kind], dtype=bool)
    if not (~fixed).any():
        raise PlanError("plan.candidates: no candidate site found (check the file, the rooftop limits or the grid)")
    return Candidates(sites=tuple(sites), xy_m=np.vstack(xy), kind=tuple(kind), cost=np.array(cost, dtype=float),
                      fixed=fixed)


def _plan_scenario(plan) -> Scenario:
    """The plan's radio scenario at the planning resolution (``plan.resolution_m`` when given)."""
    import dataclasses

    sc = plan.scenario
    if plan.resolution_m is not None:
        sc = dataclasses.replace(sc, area=dataclasses.replace(sc.area, resolution_m=plan.resolution_m))
    return sc


def plan_grid(plan) -> RasterGrid:
    """The grid a plan is computed on (the scenario's area at ``plan.resolution_m`` when given)."""
    return localize(_plan_scenario(plan))[0]


def default_phase_budget(new_costs) -> float:
    """About a quarter of the new sites' cost per phase, rounded up to whole sites of the median cost
    (so that equal-cost sites split into four phases, not one site per phase).

    >>> default_phase_budget([100.0] * 7), default_phase_budget([120.0] * 19)
    (200.0, 600.0)
    """
    c = np.asarray(new_costs, dtype=float)
    if c.size == 0 or c.sum() <= 0:
        return 1.0
    unit = float(np.median(c[c > 0]))
    return max(math.ceil(c.sum() / 4.0 / unit - 1e-9) * unit, float(c.max()))


def _network(scenario: Scenario, candidates: Candidates, idx) -> tuple[Scenario, np.ndarray, list[int]]:
    import dataclasses

    idx = [int(i) for i in idx]
    net = dataclasses.replace(scenario, sites=tuple(candidates.sites[i] for i in idx), site_keys=tuple(idx))
    return net, candidates.xy_m[idx], idx


def run_plan(plan, *, terrain: Terrain | None = None, demand_raster: np.ndarray | None = None,
             backend: Backend = "numba", progress=None) -> PlanRun:
    """Plan a network (``cellscape plan``): candidates -> per-candidate coverage from the map engine ->
    demand classes -> MILP (HiGHS) and greedy -> rollout phases -> the chosen network re-measured by
    the engine (before/after, each phase) -> optional sector tuning -> fibre and data centres.

    ``demand_raster``: users per pixel on the planning grid, when the plan names a raster (read at
    the edge, ``cellscape.io.demand.read_demand_raster``). ``progress(stage: str)`` is called at
    each stage.
    """
    import dataclasses
    import time

    from cellscape.coverage.engine import site_coverage
    from cellscape.geo.surface import building_height_raster_m
    from cellscape.planning import network as net
    from cellscape.planning.rollout import rollout_order
    from cellscape.planning.selection import InfeasibleTargetError, demand_classes, greedy, select_sites
    from cellscape.radio.nr import frequency_range, resolve_n_prb

    say = progress or (lambda stage: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now

    sc = _plan_scenario(plan)
    if sc.terrain is not None and terrain is None:
        raise GeometryError(f"the scenario names terrain {sc.terrain.path}; pass terrain=")
    grid, _ = localize(sc)
    footprints = load_footprints(sc, grid)
    say("candidates")
    cands = plan_candidates(dataclasses.replace(plan, scenario=sc), grid, footprints)
    lap("candidates")

    say("demand")
    indoor_h = building_height_raster_m(footprints, grid) if footprints is not None else np.zeros(grid.shape)
    storey = sc.buildings.storey_height_m if sc.buildings is not None else 3.0
    hot_xy = None
    if plan.demand.hotspots:
        hx, hy = transform_xy(np.array([h.x for h in plan.demand.hotspots]), np.array([h.y for h in plan.demand.hotspots]),
                              src_crs=sc.area.crs, dst_crs=grid.crs)
        hot_xy = np.column_stack([hx, hy])
    px_area = grid.resolution_m ** 2

    say("coverage of every candidate")
    all_sc, all_xy, all_idx = _network(sc, cands, range(len(cands.sites)))
    cov = site_coverage(all_sc, grid, all_xy, threshold_dbm=plan.targets.rsrp_dbm, footprints=footprints,
                        terrain=terrain, backend=backend, site_keys=all_idx)
    indoor = cov.indoor.reshape(grid.shape)
    users = net.demand_users(plan.demand, indoor=indoor, floors=np.where(indoor, np.round(indoor_h / storey), 1.0),
                             pixel_area_m2=px_area, hotspot_xy_m=hot_xy, x_m=grid.x_centers_m(),
                             y_m=grid.y_centers_m(), raster_users=demand_raster)
    lap("candidate_coverage")

    say("site selection")
    groups = tuple(t.of for t in plan.targets.coverage) or ("outdoor_area",)
    weights = net.group_weights(users, indoor, px_area, groups)
    if plan.budget is not None:
        kw = dict(objective="max_coverage", budget=plan.budget)
    else:
        kw = dict(objective="min_cost", target_fraction=[t.fraction for t in plan.targets.coverage])
    load_target = plan.targets.max_sector_load
    n_prb = resolve_n_prb(sc.carrier)
    fr = frequency_range(sc.carrier.fc_ghz)
    traffic_bps = users.ravel() * plan.demand.rate_mbps * 1e6
    capacity = None
    rsrp_sets = cov.rsrp_dbm
    i_n = None

    def measure(idx, scenario_override=None, tile_cache=None):
        net_sc, xy, keys = _network(sc, cands, idx)
        if scenario_override is not None:
            net_sc = scenario_override
        res = compute_coverage(net_sc, grid, xy, footprints=footprints, terrain=terrain, backend=backend,
                               site_keys=keys, tile_cache=tile_cache)
        m = net.measure(res.rsrp_dbm, res.sinr_db, res.best_sector, res.throughput_bps, users=users, indoor=indoor,
                        pixel_area_m2=px_area, rsrp_min_dbm=plan.targets.rsrp_dbm, rate_mbps=plan.demand.rate_mbps,
                        n_sectors=net_sc.n_sectors, sinr_min_db=plan.targets.sinr_db)
        return res, m, net_sc

    rounds = []
    last = None
    best_round = None      # (measured busiest load, round, (classes, greedy, selection))
    # round 1: coverage only. With a load target and a busiest sector over it, capacity rounds:
    # each user may be served by one of its k strongest candidates, at the rate the interference
    # measured in the previous round allows, a site offering sectors x the load target.
    n_rounds = 1 + (plan.capacity_rounds if load_target is not None else 0)
    for round_no in range(1, n_rounds + 1):
        need = None
        if capacity is not None:
            need = net.resource_need(rsrp_sets, traffic_bps, i_n, n_prb=n_prb, scs_khz=sc.carrier.scs_khz,
                                     frequency_range=fr)
        rank = None if need is None else net.preference_rank(rsrp_sets)
        classes = demand_classes(rsrp_sets.astype(bool), weights, need=need, rank=rank)
        try:
            g = greedy(classes, cands.cost, fixed=cands.fixed, capacity=capacity, **kw)
            sel = select_sites(classes, cands.cost, fixed=cands.fixed, capacity=capacity,
                               time_limit_s=plan.time_limit_s, **kw)
        except InfeasibleTargetError as err:
            if last is not None:          # a capacity round asks too much: keep the last plan
                rounds.append({"round": round_no, "sites": None, "cost": None, "max_sector_load": None,
                               "status": f"infeasible: {err}"})
                classes, g, sel = last
                break
            i = err.target_index
            if i is None or plan.budget is not None:
                raise
            t = plan.targets.coverage[i]
            best = "" if err.achievable_fraction is None else \
                f"; the best achievable with every candidate is {100 * err.achievable_fraction:.1f} %"
            raise InfeasibleTargetError(
                f"plan.targets.coverage[{i}]: RSRP >= {plan.targets.rsrp_dbm:g} dBm on {100 * t.fraction:g} % of "
                f"{t.of} cannot be reached{best} ({err})") from None
        last = (classes, g, sel)
        if load_target is None:
            break
        res, m, _ = measure(np.flatnonzero(sel.chosen))
        rounds.append({"round": round_no, "model": "coverage" if capacity is None else "coverage + capacity",
                       "sites": int(sel.chosen.sum()), "cost": sel.cost, "max_sector_load": m["max_sector_load"],
                       "status": sel.status})
        if best_round is None or m["max_sector_load"] < best_round[0]:
            best_round = (m["max_sector_load"], round_no, last)
        if m["max_sector_load"] <= load_target + 1e-9:
            break
        measured = net.interference_noise_dbm(res.rsrp_dbm, res.sinr_db).ravel()
        i_n = measured if i_n is None else np.maximum(measured, i_n)
        # users attach to their strongest cell, the model may spread them over their k strongest:
        # a site whose busiest sector measured over the target offers proportionally less next round
        chosen = np.flatnonzero(sel.chosen)
        site_of_sector = np.repeat(chosen, [len(cands.sites[i].sectors) for i in chosen])
        worst = np.zeros(len(cands.sites))
        np.maximum.at(worst, site_of_sector, m["loads"])
        if capacity is None:
            rsrp_sets = net.strongest(cov.rsrp_dbm, plan.serving_candidates)
            capacity = np.array([len(s.sectors) for s in cands.sites], dtype=float) * load_target
        capacity = capacity * np.minimum(1.0, load_target / np.maximum(worst, 1e-9))
    if best_round is not None and best_round[2] is not last:
        # no round met the load target: keep the one whose busiest sector measured lowest
        classes, g, sel = best_round[2]
        rounds.append({"round": None, "model": f"kept round {best_round[1]} (lowest busiest-sector load)",
                       "sites": int(sel.chosen.sum()), "cost": sel.cost, "max_sector_load": best_round[0],
                       "status": sel.status})
    lap("selection")

    say("rollout")
    phase_budget = plan.phase_budget or default_phase_budget(cands.cost[sel.chosen & ~cands.fixed])
    roll = rollout_order(classes, cands.cost, sel.chosen, fixed=cands.fixed, phase_budget=phase_budget)

    say("re-measuring the plan")
    res_before = before = t_before = None
    if cands.fixed.any():
        res_before, before, _ = measure(np.flatnonzero(cands.fixed))
        t_before = net.target_report(before, plan.targets)
    phases = []
    for row in roll.phase_table():
        upto = roll.order[: int(np.flatnonzero(roll.phase <= row["phase"])[-1]) + 1]
        _, m, _ = measure(sorted(upto))
        phases.append({**row, "measured_coverage": m["coverage"], "sinr_share": m["sinr_share"],
                       "max_sector_load": m["max_sector_load"], "covered_users": m["covered_users"]})
    chosen_idx = np.flatnonzero(sel.chosen)
    res_after, after, network = measure(chosen_idx)
    lap("remeasure")

    tuned = None
    after_untuned = None
    if plan.tuning.enabled:
        say("sector tuning")
        tuned, network, res_after, after, after_untuned = _tune(plan, sc, cands, chosen_idx, network, measure,
                                                                 res_after, after, users)
        lap("tuning")

    say("fibre")
    fiber = _fiber(plan, sc, grid, cands, chosen_idx)
    lap("fiber")
    return PlanRun(plan=plan, grid=grid, candidates=cands, users=users, n_classes=classes.n_classes, selection=sel,
                   greedy=g, rollout=roll, phases=phases, capacity_rounds=rounds, before=before, after=after, after_untuned=after_untuned,
                   targets_after=net.target_report(after, plan.targets), targets_before=t_before,
                   result_before=res_before, result_after=res_after, tuning=tuned, network=network, fiber=fiber,
                   footprints=footprints, seconds=seconds)


def _tune(plan, sc, cands, chosen_idx, network, measure, res_after, after, users):
    """Coordinate search over azimuth, tilt and power of the planned sectors (planning.tuning), each
    trial measured by the engine on the planned network."""
    import dataclasses

    from cellscape.planning import tuning as tn

    sectors = [sec for s in network.sites for sec in s.sectors]
    initial = tn.SectorSettings(azimuth_deg=np.array([s.azimuth_deg for s in sectors]),
                                elec_tilt_deg=np.array([s.elec_tilt_deg for s in sectors]),
                                tx_power_dbm=np.array([s.tx_power_dbm for s in sectors]))
    lo = float(min(initial.tx_power_dbm.min(), 40.0))
    hi = float(max(initial.tx_power_dbm.max(), 49.0))
    tlo = float(min(initial.elec_tilt_deg.min(), 0.0))
    thi = float(max(initial.elec_tilt_deg.max(), 15.0))
    bounds = tn.TuningBounds(azimuth_step_deg=plan.tuning.azimuth_step_deg, tilt_step_deg=plan.tuning.tilt_step_deg,
                             power_step_db=plan.tuning.power_step_db, tilt_range_deg=(tlo, thi),
                             power_range_dbm=(lo, hi))

    def with_settings(st) -> Scenario:
        sites, k = [], 0
        for s in network.sites:
            secs = []
            for sec in s.sectors:
                secs.append(dataclasses.replace(sec, azimuth_deg=float(st.azimuth_deg[k]) % 360.0,
                                                elec_tilt_deg=float(st.elec_tilt_deg[k]),
                                                tx_power_dbm=float(st.tx_power_dbm[k])))
                k += 1
            sites.append(dataclasses.replace(s, sectors=tuple(secs)))
        return dataclasses.replace(network, sites=tuple(sites))

    from cellscape.coverage.engine import TileCache

    tiles = TileCache(max_mb=sc.mem_limit_mb)      # sector settings change, sites do not: march once

    def kpi_of(res) -> float:
        if plan.tuning.kpi == "sinr_p5":
            from cellscape.planning.network import weighted_percentile

            covered = res.rsrp_dbm.ravel() >= plan.targets.rsrp_dbm
            v = weighted_percentile(res.sinr_db.ravel()[covered], users.ravel()[covered], 5.0)
            return v if np.isfinite(v) else -1e9
        return tn.covered_demand_kpi(res.rsrp_dbm, users, plan.targets.rsrp_dbm, sinr_db=res.sinr_db,
                                     sinr_min_db=plan.targets.sinr_db)

    def evaluate(st) -> float:
        res, _, _ = measure(chosen_idx, with_settings(st), tiles)
        return kpi_of(res)

    result = tn.tune_sectors(evaluate, initial, bounds=bounds, max_evaluations=plan.tuning.max_evaluations)
    tuned_sc = with_settings(result.settings)
    res, m, _ = measure(chosen_idx, tuned_sc, tiles)
    return result, tuned_sc, res, m, after


def _fiber(plan, sc, grid: RasterGrid, cands: Candidates, chosen_idx) -> dict:
    """Trench plan from the chosen sites to the data centres (given, or placed among the sites)."""
    import networkx as nx

    from cellscape.planning.facilities import place_facilities
    from cellscape.planning.fiber import plan_fiber, straight_line_graph

    fo = plan.fiber
    names = [cands.sites[i].site_id for i in chosen_idx]
    pts = {n: tuple(cands.xy_m[i]) for n, i in zip(names, chosen_idx)}
    dc_pts = {}
    if fo.data_centers:
        dx, dy = transform_xy(np.array([p[0] for p in fo.data_centers]), np.array([p[1] for p in fo.data_centers]),
                              src_crs=sc.area.crs, dst_crs=grid.crs)
        dc_pts = {f"DC{k + 1}": (float(dx[k]), float(dy[k])) for k in range(dx.size)}
    graph, routing = None, "straight lines x detour factor %.2f" % fo.detour_factor
    if fo.streets == "auto" and sc.buildings is not None and sc.buildings.kind == "osm_pbf":
        from cellscape.geo.streets import attach_points, load_streets, street_graph

        x0, y0, x1, y1 = grid.bounds_m
        pad = 200.0
        lines = load_streets(sc.buildings.path, crs=grid.crs, bounds_m=(x0 - pad, y0 - pad, x1 + pad, y1 + pad))
        graph = attach_points(street_graph(lines), {**pts, **dc_pts})
        routing = f"OSM streets of {sc.buildings.path} (© OpenStreetMap contributors)"
    if graph is None:
        graph = straight_line_graph({**pts, **dc_pts}, detour_factor=fo.detour_factor)
    placement = None
    if not dc_pts:
        # data centres at chosen sites: p-median / p-center over route lengths between sites
        k = min(fo.data_center_count, len(names))
        dist = np.full((len(names), len(names)), np.inf)
        for i, a in enumerate(names):         # one Dijkstra per site, not one per pair
            reach = nx.single_source_dijkstra_path_length(graph, a, weight="length_m")
            dist[i] = [reach.get(b, np.inf) for b in names]
        placement = place_facilities(dist, k, objective=fo.data_center_objective)
        dc_sites = [names[j] for j in placement.chosen]
        terminals = names
    else:
        dc_sites = list(dc_pts)
        terminals = names + dc_sites
    fp = plan_fiber(graph, terminals, ring=fo.ring)
    # latency to the nearest data centre over the planned trench (light in fibre: 4.9 us/km, n = 1.468)
    tree = nx.Graph()
    tree.add_weighted_edges_from([(u, v, w) for u, v, w in fp.edges + fp.ring_edges], weight="length_m")
    route = {}
    for dc in dc_sites:
        if dc in tree:
            for n, d in nx.single_source_dijkstra_path_length(tree, dc, weight="length_m").items():
                route[n] = min(route.get(n, np.inf), d)
    km = np.array([route.get(n, np.nan) for n in names]) / 1e3
    named = {**pts, **dc_pts}

    def node_xy(n):                 # street nodes are their own (x, y); terminals are named
        return named[n] if n in named else n

    edges = [(node_xy(u), node_xy(v), w) for u, v, w in fp.edges]
    ring_edges = [(node_xy(u), node_xy(v), w) for u, v, w in fp.ring_edges]
    return {"routing": routing, "length_km": fp.length_m / 1e3, "cost": fp.length_m / 1e3 * plan.costs.fiber_per_km,
            "ring": fo.ring, "two_edge_connected": fp.two_edge_connected, "data_centers": dc_sites,
            "data_center_xy_m": {d: node_xy(d) for d in dc_sites}, "edges_xy_m": edges, "ring_edges_xy_m": ring_edges,
            "site_route_km": dict(zip(names, km.tolist())),
            "mean_latency_us": float(np.nanmean(km) * 4.9) if km.size else 0.0,
            "max_latency_us": float(np.nanmax(km) * 4.9) if km.size else 0.0,
            "placement_objective": fo.data_center_objective if placement is not None else "given"}
