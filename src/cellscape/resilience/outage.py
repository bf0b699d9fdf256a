"""Outages: N-1 / N-k site failures, backhaul (fibre route, data centre) failures, and self-healing.

Everything here starts from the map engine's per-sector RSRP maps of the intact network
(:func:`cellscape.coverage.engine.sector_maps`, computed once): a failed site's sectors simply drop
out of the per-pixel reduction, so an outage costs one pass over the sector axis and no propagation
rerun. The reduction is the engine's own (the kernel's, and
:func:`cellscape.radio.link_budget.best_server_sinr_db`, which :func:`serving` calls): best server =
the strongest sector, SINR = S / (load x (sum of the others) + N) per resource element.

A pixel is *covered* when its best-server RSRP >= ``rsrp_min_dbm`` and its SINR >= ``sinr_min_db``
(default: the lowest CQI's SINR threshold, :func:`cellscape.radio.throughput.cqi_sinr_thresholds_db`,
below which no CQI is reached). The area, demand and users an outage loses are those of the pixels
covered in the intact network and not after the failure (a failure also lowers interference, so a
few pixels may gain coverage: reported apart, ``area_gained_km2``).

The N-1 table (:func:`n_minus_1`) does every site at once per block of pixels with the two
strongest *sites* of each pixel: removing site s changes the best server only where s was the best
site (the new one is the strongest sector of any other site there), and the total by s's own sum.
It equals :func:`serving` with that site removed (tested), which is the plain reduction.

Self-healing (:func:`self_heal`): after a site fails, the electrical tilt and transmit power of the
sectors of its neighbours (the sites that take over most of its former pixels) are re-tuned with
the planning tuner (:func:`cellscape.planning.tuning.tune_sectors`, compass search) to maximise the
covered demand of the whole map. A changed tilt changes a sector's map by its antenna gain towards
each pixel, G(new tilt) - G(old tilt) (:func:`cellscape.antenna.sector.sector_gain_dbi` at the exact
zenith and azimuth of the link: the engine reads the same pattern from a 0.1 deg table, so the
tuned maps agree with a rerun to the table's interpolation), a changed power by the power step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math

import numpy as np

from cellscape.antenna.sector import sector_gain_dbi
from cellscape.errors import CellscapeError
from cellscape.planning.tuning import SectorSettings, TuningBounds, TuningResult, tune_sectors
from cellscape.radio.link_budget import best_server_sinr_db
from cellscape.radio.throughput import cqi_sinr_thresholds_db

BLOCK_VALUES = 4_000_000
"""Site-pixel values per block of :func:`n_minus_1` (bounds its float64 temporaries: ~8 arrays of
this many values)."""


class AssessError(CellscapeError, ValueError):
    """An assessment input is inconsistent (unknown site, shapes, empty network)."""


def lowest_cqi_sinr_db() -> float:
    """SINR below which no CQI of TS 38.214 Table 5.2.2.1-2 is reached (TR 36.942 A.1 bound) [dB].

    >>> round(lowest_cqi_sinr_db(), 2)
    -7.16
    """
    return float(cqi_sinr_thresholds_db()[0])


@dataclass(frozen=True)
class CoverageCriterion:
    """A pixel is covered when RSRP >= ``rsrp_min_dbm`` [dBm] and SINR >= ``sinr_min_db`` [dB]."""

    rsrp_min_dbm: float = -110.0
    sinr_min_db: float = field(default_factory=lowest_cqi_sinr_db)

    def covered(self, rsrp_dbm, sinr_db) -> np.ndarray:
        """Boolean mask, shape of the inputs (NaN counts as not covered).

        >>> CoverageCriterion(-110.0, -5.0).covered([-100.0, -100.0, -120.0], [0.0, -6.0, 10.0]).tolist()
        [True, False, False]
        """
        r = np.asarray(rsrp_dbm, dtype=float)
        s = np.asarray(sinr_db, dtype=float)
        with np.errstate(invalid="ignore"):
            return (r >= self.rsrp_min_dbm) & (s >= self.sinr_min_db)


@dataclass(frozen=True, eq=False)
class NetworkMaps:
    """The intact network's per-sector RSRP, pixels flattened: what every outage is reduced from.

    ``rsrp_dbm``: (n_sectors, n_pixels) float32 [dBm]; ``sector_site``: (n_sectors,) site index of
    each sector; ``site_ids``: (n_sites,); ``noise_dbm``: noise per RE [dBm]; ``load_factor``: the
    interference weight of the other sectors (carrier ``dl_load_factor``); ``shape``: (n_rows,
    n_cols) of the map; ``pixel_area_km2``.
    """

    rsrp_dbm: np.ndarray
    sector_site: np.ndarray
    site_ids: tuple[str, ...]
    noise_dbm: float
    load_factor: float
    shape: tuple[int, int]
    pixel_area_km2: float

    def __post_init__(self):
        r = np.asarray(self.rsrp_dbm)
        if r.ndim != 2 or r.shape[0] == 0:
            raise AssessError(f"rsrp_dbm must have shape (n_sectors >= 1, n_pixels), got {r.shape}")
        if r.shape[1] != self.shape[0] * self.shape[1]:
            raise AssessError(f"rsrp_dbm has {r.shape[1]} pixels, the map {self.shape} has {self.shape[0] * self.shape[1]}")
        ss = np.asarray(self.sector_site, dtype=np.int64)
        if ss.shape != (r.shape[0],) or ss.min() < 0 or ss.max() >= len(self.site_ids):
            raise AssessError("sector_site must give a site index in [0, n_sites) for every sector")
        object.__setattr__(self, "sector_site", ss)

    @classmethod
    def from_sector_maps(cls, maps, *, load_factor: float, site_ids: Sequence[str] | None = None) -> "NetworkMaps":
        """From :class:`cellscape.coverage.engine.SectorMaps` (its float32 maps are not copied)."""
        n_sec = maps.rsrp_dbm.shape[0]
        ids = tuple(site_ids) if site_ids is not None else tuple(dict.fromkeys(maps.sectors.site_id))
        return cls(rsrp_dbm=maps.rsrp_dbm.reshape(n_sec, -1), sector_site=np.asarray(maps.sector_site),
                   site_ids=ids, noise_dbm=float(maps.noise_per_re_dbm), load_factor=float(load_factor),
                   shape=tuple(maps.grid.shape), pixel_area_km2=maps.grid.resolution_m ** 2 / 1e6)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_pixels(self) -> int:
        return int(self.rsrp_dbm.shape[1])

    def site_index(self, site_id: str) -> int:
        try:
            return self.site_ids.index(site_id)
        except ValueError:
            raise AssessError(f"site {site_id!r} is not in the network ({self.n_sites} sites, e.g. "
                              f"{', '.join(self.site_ids[:3])})") from None

    def active_sectors(self, removed_sites: Sequence[int] = ()) -> np.ndarray:
        """Indexes of the sectors of the sites not in ``removed_sites``."""
        return np.flatnonzero(~np.isin(self.sector_site, np.asarray(list(removed_sites), dtype=np.int64)))


@dataclass(frozen=True)
class Serving:
    """Best server maps of a (reduced) network, flat (n_pixels,): ``best_sector`` (index into the
    full network's sectors, -1: no sector left), ``rsrp_dbm`` [dBm], ``sinr_db`` [dB]."""

    best_sector: np.ndarray
    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray


def serving(net: NetworkMaps, removed_sites: Sequence[int] = ()) -> Serving:
    """Best server, its RSRP and SINR with the sectors of ``removed_sites`` switched off.

    The engine's reduction (:func:`cellscape.radio.link_budget.best_server_sinr_db` with the
    carrier's load factor) over the remaining sectors. With nothing removed it equals
    :func:`cellscape.coverage.engine.compute_coverage`'s maps (full sum, tested).
    """
    active = net.active_sectors(removed_sites)
    n = net.n_pixels
    best_sector = np.full(n, -1, np.int64)
    rsrp = np.full(n, -np.inf)
    sinr = np.full(n, -np.inf)
    if active.size == 0:
        return Serving(best_sector, rsrp, sinr)
    step = max(1, BLOCK_VALUES // active.size)           # pixels per block: bounded float64 temporaries
    for start in range(0, n, step):
        px = slice(start, min(start + step, n))
        block = net.rsrp_dbm[active, px]                                      # (n_active, nb)
        with np.errstate(divide="ignore"):
            best, sinr[px] = best_server_sinr_db(block, net.noise_dbm, load_factor=net.load_factor)
        rsrp[px] = np.take_along_axis(block, best[None], axis=0)[0]
        best_sector[px] = active[best]
    return Serving(best_sector, rsrp, sinr)


@dataclass(frozen=True)
class OutageRow:
    """One outage: ``kind`` ("site", "n-k", "fiber", "data_center"), ``name``, the ``sites`` it takes
    down (ids), pixels covered before and lost / gained after, and what they hold."""

    kind: str
    name: str
    sites: tuple[str, ...]
    area_lost_km2: float
    area_gained_km2: float
    demand_lost: float
    demand_lost_fraction: float
    covered_fraction_after: float
    detail: str = ""


def outage_row(net: NetworkMaps, criterion: CoverageCriterion, demand: np.ndarray, base_covered: np.ndarray,
               removed_sites: Sequence[int], *, kind: str, name: str, detail: str = "") -> tuple[OutageRow, np.ndarray]:
    """The :class:`OutageRow` of switching ``removed_sites`` off, and its lost mask (n_pixels,) bool."""
    s = serving(net, removed_sites)
    after = criterion.covered(s.rsrp_dbm, s.sinr_db)
    lost = base_covered & ~after
    gained = after & ~base_covered
    total = float(demand[base_covered].sum())
    d_lost = float(demand[lost].sum())
    row = OutageRow(kind=kind, name=name, sites=tuple(net.site_ids[i] for i in removed_sites),
                    area_lost_km2=float(lost.sum()) * net.pixel_area_km2,
                    area_gained_km2=float(gained.sum()) * net.pixel_area_km2, demand_lost=d_lost,
                    demand_lost_fraction=d_lost / total if total > 0 else math.nan,
                    covered_fraction_after=float(after.mean()), detail=detail)
    return row, lost


def _check_demand(net: NetworkMaps, demand) -> np.ndarray:
    d = np.asarray(demand, dtype=float).reshape(-1)
    if d.size != net.n_pixels:
        raise AssessError(f"demand has {d.size} values, the map has {net.n_pixels} pixels")
    if not np.all(np.isfinite(d) & (d >= 0)):
        raise AssessError("demand must be finite and >= 0 at every pixel")
    return d


def n_minus_1_maps(net: NetworkMaps, pixels: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Best-server RSRP [dBm] and SINR [dB] after each single-site failure, shape (n_sites, n_pix)
    for the pixels ``pixels`` (a slice of the flat map), float64.

    Per pixel: the strongest sector b1 (of site s1), the strongest sector of any site other than s1
    (b2) and the total; without site s the best is b2 where s == s1, else b1, and the total loses
    s's own sum. Equals :func:`serving` with the site removed (tested).
    """
    rsrp = net.rsrp_dbm[:, pixels].astype(np.float64)                        # (n_sec, nb)
    mw = np.power(10.0, rsrp / 10.0)                                          # (n_sec, nb)
    del rsrp
    nb = mw.shape[1]
    cols = np.arange(nb)
    total = mw.sum(axis=0)                                                    # (nb,)
    b1 = np.argmax(mw, axis=0)                                                # (nb,)
    b1_mw = mw[b1, cols]
    s1 = net.sector_site[b1]                                                  # (nb,)
    other = np.where(net.sector_site[:, None] == s1[None, :], 0.0, mw)        # (n_sec, nb)
    b2_mw = other.max(axis=0)                                                 # (nb,) 0 if no other site
    del other
    order = np.argsort(net.sector_site, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(net.sector_site[order]) != 0])
    site_of_group = net.sector_site[order][starts]
    site_sum = np.zeros((net.n_sites, nb))                                    # (n_sites, nb)
    site_sum[site_of_group] = np.add.reduceat(mw[order], starts, axis=0)
    del mw
    sites = np.arange(net.n_sites)[:, None]                                   # (n_sites, 1)
    best = np.where(s1[None, :] == sites, b2_mw[None, :], b1_mw[None, :])    # (n_sites, nb)
    interference = net.load_factor * np.maximum(total[None, :] - site_sum - best, 0.0)
    noise_mw = 10.0 ** (net.noise_dbm / 10.0)
    with np.errstate(divide="ignore"):
        sinr = 10.0 * np.log10(best / (interference + noise_mw))
        rsrp_after = 10.0 * np.log10(best)
    return rsrp_after, sinr


@dataclass(frozen=True)
class N1Table:
    """Every single-site outage, arrays of shape (n_sites,) in the network's site order:
    ``pixels_lost``, ``pixels_gained``, ``demand_lost``, ``covered_pixels_after``; and the intact
    network's ``covered_pixels`` and ``covered_demand``."""

    pixels_lost: np.ndarray
    pixels_gained: np.ndarray
    demand_lost: np.ndarray
    covered_pixels_after: np.ndarray
    covered_pixels: int
    covered_demand: float

    def ranking(self) -> np.ndarray:
        """Site indexes, worst first: most demand lost, then most pixels lost, then site order."""
        n = self.demand_lost.size
        return np.lexsort((np.arange(n), -self.pixels_lost, -self.demand_lost))


def n_minus_1(net: NetworkMaps, criterion: CoverageCriterion, demand, *, base: Serving | None = None) -> N1Table:
    """Every site removed in turn (module docstring): the pixels and demand each failure loses.

    ``demand``: (n_pixels,) or the map shape, users (or traffic) per pixel, >= 0.
    Cost: one pass over the sector axis and one over the site axis per block of pixels; memory
    bounded by :data:`BLOCK_VALUES`.
    """
    d = _check_demand(net, demand)
    base = serving(net) if base is None else base
    base_cov = criterion.covered(base.rsrp_dbm, base.sinr_db)
    n_s = net.n_sites
    lost = np.zeros(n_s, np.int64)
    gained = np.zeros(n_s, np.int64)
    after_px = np.zeros(n_s, np.int64)
    d_lost = np.zeros(n_s)
    step = max(1, BLOCK_VALUES // max(n_s, net.rsrp_dbm.shape[0]))
    for start in range(0, net.n_pixels, step):
        px = slice(start, min(start + step, net.n_pixels))
        rsrp, sinr = n_minus_1_maps(net, px)
        cov = criterion.covered(rsrp, sinr)                                    # (n_sites, nb)
        bc = base_cov[px][None, :]
        lo = bc & ~cov
        lost += lo.sum(axis=1)
        gained += (cov & ~bc).sum(axis=1)
        after_px += cov.sum(axis=1)
        d_lost += lo @ d[px]
    return N1Table(pixels_lost=lost, pixels_gained=gained, demand_lost=d_lost, covered_pixels_after=after_px,
                   covered_pixels=int(base_cov.sum()), covered_demand=float(d[base_cov].sum()))


def n1_rows(net: NetworkMaps, table: N1Table) -> list[OutageRow]:
    """The N-1 table as :class:`OutageRow` s, worst first."""
    rows = []
    for i in table.ranking():
        total = table.covered_demand
        rows.append(OutageRow(kind="site", name=net.site_ids[i], sites=(net.site_ids[i],),
                              area_lost_km2=float(table.pixels_lost[i]) * net.pixel_area_km2,
                              area_gained_km2=float(table.pixels_gained[i]) * net.pixel_area_km2,
                              demand_lost=float(table.demand_lost[i]),
                              demand_lost_fraction=float(table.demand_lost[i]) / total if total > 0 else math.nan,
                              covered_fraction_after=float(table.covered_pixels_after[i]) / net.n_pixels))
    return rows


def n_minus_k(net: NetworkMaps, criterion: CoverageCriterion, demand, table: N1Table, k: int,
              *, base: Serving | None = None) -> list[tuple[OutageRow, np.ndarray]]:
    """The j worst single-site outages of ``table`` together, for j = 2..k: rows and lost masks.

    The worst j-set is approximated by the j worst single failures (the exact worst set is a
    combinatorial search; overlapping coverage makes pairs of neighbours worse than their sum,
    which this ranking does not look for).
    """
    if k < 2:
        return []
    d = _check_demand(net, demand)
    base = serving(net) if base is None else base
    base_cov = criterion.covered(base.rsrp_dbm, base.sinr_db)
    order = table.ranking()
    out = []
    for j in range(2, min(k, net.n_sites) + 1):
        sites = [int(i) for i in order[:j]]
        out.append(outage_row(net, criterion, d, base_cov, sites, kind="n-k", name=f"N-{j}",
                              detail=f"the {j} worst single-site outages together"))
    return out


# --------------------------------------------------------------------------------------------------
# Backhaul: which sites a fibre cut or a data-centre failure takes down


@dataclass(frozen=True)
class Backhaul:
    """The fibre plan of ``cellscape plan``: trench ``edges`` (u, v, length_m) between hashable nodes
    (``ring`` flags the edges added for 2-edge-connectivity), the node of each site
    (``site_nodes``: site_id -> node) and of each data centre (``data_centers``: name -> node)."""

    edges: tuple[tuple, ...]
    ring: tuple[bool, ...]
    site_nodes: Mapping[str, object]
    data_centers: Mapping[str, object]


def _sites_cut_off(graph, site_nodes: Mapping[str, object], dc_nodes) -> list[str]:
    import networkx as nx

    reach: set = set()
    for dc in dc_nodes:
        if dc in graph:
            reach |= nx.node_connected_component(graph, dc)
    return [s for s, n in site_nodes.items() if n not in reach]


def backhaul_outages(bh: Backhaul) -> list[tuple[str, str, list[str], str]]:
    """Each trench edge cut in turn, then each data centre lost in turn: ``(kind, name, sites cut
    off, detail)`` for every case, in the plan's order.

    A site loses service when no path over the remaining trench reaches any remaining data centre
    (capacity of the surviving paths is not checked; a data centre at a site still passes fibre
    through). With a ring plan no single cut isolates a site.

    >>> bh = Backhaul(edges=(("DC", "a", 100.0), ("a", "b", 50.0)), ring=(False, False),
    ...               site_nodes={"A": "a", "B": "b"}, data_centers={"DC1": "DC"})
    >>> [(k, n, s) for k, n, s, _ in backhaul_outages(bh)]
    [('fiber', 'fiber-1', ['A', 'B']), ('fiber', 'fiber-2', ['B']), ('data_center', 'DC1', ['A', 'B'])]
    """
    import networkx as nx

    g = nx.MultiGraph()
    g.add_nodes_from(bh.site_nodes.values())
    g.add_nodes_from(bh.data_centers.values())
    keys = [g.add_edge(u, v, length_m=w) for u, v, w in bh.edges]
    out = []
    dcs = list(bh.data_centers.values())
    for k, ((u, v, w), key) in enumerate(zip(bh.edges, keys), start=1):
        g.remove_edge(u, v, key=key)
        lost = _sites_cut_off(g, bh.site_nodes, dcs)
        g.add_edge(u, v, key=key, length_m=w)
        ring = " (ring)" if bh.ring[k - 1] else ""
        out.append(("fiber", f"fiber-{k}", lost, f"trench edge of {w:.0f} m{ring}"))
    for name, node in bh.data_centers.items():
        rest = [n for m, n in bh.data_centers.items() if m != name]
        out.append(("data_center", name, _sites_cut_off(g, bh.site_nodes, rest), "data centre lost"))
    return out


# --------------------------------------------------------------------------------------------------
# Self-healing


@dataclass(frozen=True, eq=False)
class SectorGeometry:
    """What a tilt change needs, per sector (n_sectors,): position ``x_m``, ``y_m`` (grid CRS) [m],
    antenna ``height_m`` [m], ``azimuth_deg``, ``mech_tilt_deg``, ``elec_tilt_deg`` [deg],
    ``tx_power_dbm`` [dBm], ``antennas`` (AntennaSpec each); the receiver height ``h_ut_m`` [m] and
    the pixel centres ``x_centers_m`` (n_cols,), ``y_centers_m`` (n_rows,)."""

    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    azimuth_deg: np.ndarray
    mech_tilt_deg: np.ndarray
    elec_tilt_deg: np.ndarray
    tx_power_dbm: np.ndarray
    antennas: tuple
    h_ut_m: float
    x_centers_m: np.ndarray
    y_centers_m: np.ndarray

    def gain_dbi(self, k: int, elec_tilt_deg: float) -> np.ndarray:
        """Sector ``k``'s antenna gain towards every pixel (flat, n_pixels) at ``elec_tilt_deg``
        (TR 38.901 7.1/7.3 via :func:`cellscape.antenna.sector.sector_gain_dbi`) [dBi]."""
        dx = self.x_centers_m[None, :] - self.x_m[k]                         # (1, n_cols)
        dy = self.y_centers_m[:, None] - self.y_m[k]                         # (n_rows, 1)
        d2d = np.hypot(dx, dy)                                               # (n_rows, n_cols)
        theta = np.degrees(np.arctan2(d2d, self.h_ut_m - self.height_m[k]))
        phi = np.degrees(np.arctan2(np.broadcast_to(dy, d2d.shape), np.broadcast_to(dx, d2d.shape)))
        g = sector_gain_dbi(theta, phi, azimuth_deg=float(self.azimuth_deg[k]),
                            mech_tilt_deg=float(self.mech_tilt_deg[k]), elec_tilt_deg=float(elec_tilt_deg),
                            antenna=self.antennas[k])
        return np.asarray(g, dtype=float).reshape(-1)


@dataclass(frozen=True)
class HealResult:
    """Self-healing of one outage: ``neighbours`` (site ids), the ``tuning`` of their sectors
    (``sectors``: indexes into the network's sectors, in the order of ``tuning.settings``), covered
    demand and pixels intact / failed / healed, and the shares of the lost demand and area recovered
    (NaN when nothing was lost)."""

    neighbours: tuple[str, ...]
    sectors: np.ndarray
    tuning: TuningResult
    demand_intact: float
    demand_failed: float
    demand_healed: float
    pixels_intact: int
    pixels_failed: int
    pixels_healed: int
    healed_covered: np.ndarray

    @property
    def recovered_share(self) -> float:
        lost = self.demand_intact - self.demand_failed
        return (self.demand_healed - self.demand_failed) / lost if lost > 0 else math.nan

    @property
    def recovered_area_share(self) -> float:
        lost = self.pixels_intact - self.pixels_failed
        return (self.pixels_healed - self.pixels_failed) / lost if lost > 0 else math.nan


def neighbour_sites(net: NetworkMaps, removed_sites: Sequence[int], base: Serving, after: Serving,
                    criterion: CoverageCriterion, *, n: int) -> list[int]:
    """Up to ``n`` sites that take over most of the failed sites' covered pixels (the new best
    server there), most pixels first; a site that takes over no pixel is not a neighbour."""
    removed = np.asarray(list(removed_sites), dtype=np.int64)
    served_before = base.best_sector >= 0
    was = np.zeros(net.n_pixels, bool)
    was[served_before] = np.isin(net.sector_site[base.best_sector[served_before]], removed)
    was &= criterion.covered(base.rsrp_dbm, base.sinr_db)
    takers = after.best_sector[was]
    takers = takers[takers >= 0]
    counts = np.bincount(net.sector_site[takers], minlength=net.n_sites)
    counts[removed] = 0
    order = np.lexsort((np.arange(net.n_sites), -counts))
    return [int(i) for i in order[:n] if counts[i] > 0]


def self_heal(net: NetworkMaps, geom: SectorGeometry, criterion: CoverageCriterion, demand, removed_sites: Sequence[int],
              *, neighbours: int = 6, max_power_boost_db: float = 3.0, tilt_range_deg: tuple = (0.0, 15.0),
              max_evaluations: int = 60, base: Serving | None = None) -> HealResult | None:
    """Re-tune the electrical tilt and power of the neighbours' sectors after ``removed_sites`` fail.

    Maximises the covered demand of the whole map (:func:`cellscape.planning.tuning.tune_sectors`,
    parameters ``elec_tilt_deg`` and ``tx_power_dbm``): tilt within ``tilt_range_deg`` (widened to
    hold the initial tilt), power from its initial value up to ``max_power_boost_db`` more. None
    when no site takes over any pixel (nothing to heal with).
    """
    d = _check_demand(net, demand)
    base = serving(net) if base is None else base
    removed = [int(i) for i in removed_sites]
    failed = serving(net, removed)
    nb_sites = neighbour_sites(net, removed, base, failed, criterion, n=neighbours)
    if not nb_sites:
        return None
    tuned = np.flatnonzero(np.isin(net.sector_site, nb_sites))                # (n_t,)
    fixed = np.setdiff1d(net.active_sectors(removed), tuned)                 # the others left on
    noise_mw = 10.0 ** (net.noise_dbm / 10.0)
    fixed_total = np.zeros(net.n_pixels)                                      # (n_pix,) [mW]
    fixed_best = np.zeros(net.n_pixels)
    chunk = max(1, BLOCK_VALUES // net.n_pixels)        # sectors at a time: bounded float64 temporaries
    for start in range(0, fixed.size, chunk):
        mw = np.power(10.0, net.rsrp_dbm[fixed[start:start + chunk]].astype(np.float64) / 10.0)
        fixed_total += mw.sum(axis=0)
        np.maximum(fixed_best, mw.max(axis=0), out=fixed_best)
        del mw
    tuned_mw = np.power(10.0, net.rsrp_dbm[tuned].astype(np.float64) / 10.0)   # (n_t, n_pix)
    t0 = geom.elec_tilt_deg[tuned].astype(float)
    p0 = geom.tx_power_dbm[tuned].astype(float)
    g_old = {}
    memo: dict[tuple[int, float], np.ndarray] = {}

    def gain_delta_db(j: int, tilt: float) -> np.ndarray | float:
        if math.isclose(tilt, t0[j], abs_tol=1e-9):
            return 0.0
        key = (j, round(tilt, 6))
        if key not in memo:
            if j not in g_old:
                g_old[j] = geom.gain_dbi(int(tuned[j]), t0[j])
            memo[key] = geom.gain_dbi(int(tuned[j]), tilt) - g_old[j]
        return memo[key]

    def covered_of(s: SectorSettings) -> np.ndarray:
        total = fixed_total.copy()
        best = fixed_best.copy()
        for j in range(tuned.size):
            mw = tuned_mw[j] * 10.0 ** ((gain_delta_db(j, s.elec_tilt_deg[j]) + s.tx_power_dbm[j] - p0[j]) / 10.0)
            total += mw
            np.maximum(best, mw, out=best)
        interference = net.load_factor * np.maximum(total - best, 0.0)
        with np.errstate(divide="ignore"):
            sinr = 10.0 * np.log10(best / (interference + noise_mw))
            rsrp = 10.0 * np.log10(best)
        return criterion.covered(rsrp, sinr)

    def kpi(s: SectorSettings) -> float:
        return float(d[covered_of(s)].sum())

    start = SectorSettings(azimuth_deg=geom.azimuth_deg[tuned], elec_tilt_deg=t0, tx_power_dbm=p0)
    bounds = TuningBounds(tilt_range_deg=(np.minimum(tilt_range_deg[0], t0), np.maximum(tilt_range_deg[1], t0)),
                          power_range_dbm=(p0, p0 + float(max_power_boost_db)))
    res = tune_sectors(kpi, start, bounds=bounds, max_evaluations=max_evaluations,
                       parameters=("elec_tilt_deg", "tx_power_dbm"))
    base_cov = criterion.covered(base.rsrp_dbm, base.sinr_db)
    failed_cov = criterion.covered(failed.rsrp_dbm, failed.sinr_db)
    healed_cov = covered_of(res.settings)
    return HealResult(neighbours=tuple(net.site_ids[i] for i in nb_sites), sectors=tuned, tuning=res,
                      demand_intact=float(d[base_cov].sum()), demand_failed=float(d[failed_cov].sum()),
                      demand_healed=float(d[healed_cov].sum()), pixels_intact=int(base_cov.sum()),
                      pixels_failed=int(failed_cov.sum()), pixels_healed=int(healed_cov.sum()),
                      healed_covered=healed_cov)


__all__ = ["AssessError", "Backhaul", "CoverageCriterion", "HealResult", "N1Table", "NetworkMaps", "OutageRow",
           "SectorGeometry", "Serving", "backhaul_outages", "lowest_cqi_sinr_db", "n1_rows", "n_minus_1",
           "n_minus_1_maps", "n_minus_k", "neighbour_sites", "outage_row", "self_heal", "serving"]
