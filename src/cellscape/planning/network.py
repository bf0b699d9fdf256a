"""What a planned network gives its users: the demand layer, the planning weights, and the
re-measurement of a plan on the coverage engine's own maps (no self-grading from the optimiser).

All functions take arrays on one :class:`~cellscape.geo.grid.RasterGrid` (pixels in row-major
order when flat) and return arrays or plain dicts; nothing here reads or writes files.

Traffic model (busy hour): a pixel with ``users`` users asks ``users x rate_mbps`` Mbit/s. A user
at a pixel whose full-allocation downlink rate is R (TS 38.306 / TS 38.214 CQI mapping, what the
map engine computes) needs the share ``traffic / R`` of its sector's resources (proportional-fair
resource sharing, the usual "resource utilisation" load of network dimensioning, e.g. Holma &
Toskala, *LTE for UMTS*, 2009, ch. 9); a sector's load is the sum over the pixels it serves.
"""

from __future__ import annotations

import math

import numpy as np

from cellscape.scenario.plan import DemandLayer

GROUPS: tuple[str, ...] = ("area", "outdoor_area", "indoor_area", "demand", "outdoor_demand", "indoor_demand")


def demand_users(layer: DemandLayer, *, indoor: np.ndarray, floors: np.ndarray, pixel_area_m2: float,
                 hotspot_xy_m: np.ndarray | None = None, x_m: np.ndarray | None = None,
                 y_m: np.ndarray | None = None, raster_users: np.ndarray | None = None) -> np.ndarray:
    """Users per pixel, shape of ``indoor``.

    ``outdoor_users_per_km2`` on outdoor pixels; ``indoor_users_per_km2`` x ``floors`` on indoor
    pixels (floors >= 1); each hotspot adds its users spread evenly over the pixels whose centres
    lie within its radius; a ``raster_users`` map (already on the grid, users per pixel) adds its
    counts.

    ``hotspot_xy_m``: (n_hotspots, 2) hotspot centres in the grid CRS, in the order of
    ``layer.hotspots``; ``x_m`` (n_cols,) and ``y_m`` (n_rows,) the pixel centres.
    """
    indoor = np.asarray(indoor, dtype=bool)
    floors = np.maximum(np.asarray(floors, dtype=float), 1.0)
    if floors.shape != indoor.shape:
        raise ValueError(f"floors has shape {floors.shape}, indoor {indoor.shape}")
    km2 = pixel_area_m2 / 1e6
    users = np.where(indoor, layer.indoor_users_per_km2 * km2 * floors, layer.outdoor_users_per_km2 * km2)
    if layer.hotspots:
        if hotspot_xy_m is None or x_m is None or y_m is None:
            raise ValueError("hotspots need hotspot_xy_m, x_m and y_m")
        hxy = np.asarray(hotspot_xy_m, dtype=float).reshape(-1, 2)
        for h, (hx, hy) in zip(layer.hotspots, hxy, strict=True):
            inside = (x_m[None, :] - hx) ** 2 + (y_m[:, None] - hy) ** 2 <= h.radius_m ** 2
            n = int(inside.sum())
            if n == 0:                       # a hotspot smaller than a pixel: its nearest pixel
                r = int(np.argmin(np.abs(y_m - hy)))
                c = int(np.argmin(np.abs(x_m - hx)))
                users[r, c] += h.users
            else:
                users[inside] += h.users / n
    if raster_users is not None:
        raster_users = np.asarray(raster_users, dtype=float)
        if raster_users.shape != users.shape:
            raise ValueError(f"raster_users has shape {raster_users.shape}, the grid {users.shape}")
        users = users + np.nan_to_num(raster_users, nan=0.0).clip(min=0.0)
    return users


def group_weights(users: np.ndarray, indoor: np.ndarray, pixel_area_m2: float, groups=GROUPS) -> np.ndarray:
    """(n_pixels, n_groups) weights of each pixel in each target group: pixel area [m^2] for the
    area groups, users for the demand groups."""
    u = np.asarray(users, dtype=float).ravel()
    ind = np.asarray(indoor, dtype=bool).ravel()
    area = np.full(u.size, float(pixel_area_m2))
    cols = {"area": area, "outdoor_area": np.where(ind, 0.0, area), "indoor_area": np.where(ind, area, 0.0),
            "demand": u, "outdoor_demand": np.where(ind, 0.0, u), "indoor_demand": np.where(ind, u, 0.0)}
    unknown = [g for g in groups if g not in cols]
    if unknown:
        raise ValueError(f"unknown coverage group {unknown[0]!r}; choose from {', '.join(GROUPS)}")
    return np.column_stack([cols[g] for g in groups])


def sector_loads(best_sector: np.ndarray, served: np.ndarray, traffic_mbps: np.ndarray, rate_bps: np.ndarray,
                 n_sectors: int) -> np.ndarray:
    """Busy-hour load of each sector: sum over the pixels it serves of traffic / full-allocation rate.

    ``served``: pixels counted (covered to the RSRP target with a rate > 0); the others' traffic is
    unserved, not load. Returns (n_sectors,) shares of the sector's resources (> 1: overloaded).
    """
    best = np.asarray(best_sector).ravel()
    ok = np.asarray(served, dtype=bool).ravel() & (best >= 0) & (np.asarray(rate_bps).ravel() > 0)
    need = np.asarray(traffic_mbps, dtype=float).ravel()[ok] * 1e6 / np.asarray(rate_bps, dtype=float).ravel()[ok]
    return np.bincount(best[ok], weights=need, minlength=n_sectors)


def measure(rsrp_dbm: np.ndarray, sinr_db: np.ndarray, best_sector: np.ndarray, rate_bps: np.ndarray,
            *, users: np.ndarray, indoor: np.ndarray, pixel_area_m2: float, rsrp_min_dbm: float,
            rate_mbps: float, n_sectors: int, sinr_min_db: float | None = None) -> dict:
    """The plan KPIs of one coverage map: covered shares of every group, SINR share, sector loads.

    Returns a dict: ``coverage`` {group: share with RSRP >= ``rsrp_min_dbm``}, ``sinr_share`` (of the
    demand with SINR >= ``sinr_min_db``, None without it), ``sinr_p5_db`` (demand-weighted 5th
    percentile over covered demand), ``loads`` (n_sectors,) array, ``max_sector_load``,
    ``covered_users``, ``users``, ``traffic_mbps``, ``served_traffic_mbps``.
    """
    rsrp = np.asarray(rsrp_dbm).ravel()
    sinr = np.asarray(sinr_db).ravel()
    u = np.asarray(users, dtype=float).ravel()
    covered = rsrp >= rsrp_min_dbm
    w = group_weights(u, indoor, pixel_area_m2)
    totals = w.sum(axis=0)
    share = {g: (float(w[covered, k].sum() / totals[k]) if totals[k] > 0 else None) for k, g in enumerate(GROUPS)}
    traffic = u * rate_mbps
    loads = sector_loads(best_sector, covered, traffic, rate_bps, n_sectors)
    served = covered & (np.asarray(rate_bps).ravel() > 0)
    out = {"coverage": share, "loads": loads, "max_sector_load": float(loads.max()) if loads.size else 0.0,
           "users": float(u.sum()), "covered_users": float(u[covered].sum()), "traffic_mbps": float(traffic.sum()),
           "served_traffic_mbps": float(traffic[served].sum()),
           "sinr_p5_db": weighted_percentile(sinr[covered], u[covered], 5.0)}
    out["sinr_share"] = None
    if sinr_min_db is not None:
        out["sinr_share"] = float(u[covered & (sinr >= sinr_min_db)].sum() / u.sum()) if u.sum() > 0 else None
    return out


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q``-th percentile of ``values`` under ``weights`` (inverse of the weighted CDF; NaN when
    the weights sum to 0).

    >>> weighted_percentile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), 50.0)
    2.0
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if w.sum() <= 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    return float(v[order][min(int(np.searchsorted(cdf, q / 100.0 - 1e-12)), v.size - 1)])


def target_report(measured: dict, targets) -> list[dict]:
    """Each target against the measured value: rows ``target``, ``required``, ``measured``, ``met``."""
    rows = []
    for t in targets.coverage:
        got = measured["coverage"][t.of]
        rows.append({"target": f"RSRP >= {targets.rsrp_dbm:g} dBm on {t.of.replace('_', ' ')}",
                     "required": t.fraction, "measured": got, "met": got is not None and got >= t.fraction - 1e-9})
    if targets.sinr_db is not None:
        got = measured["sinr_share"]
        rows.append({"target": f"SINR >= {targets.sinr_db:g} dB on demand", "required": targets.sinr_fraction,
                     "measured": got, "met": got is not None and got >= targets.sinr_fraction - 1e-9})
    if targets.max_sector_load is not None:
        got = measured["max_sector_load"]
        rows.append({"target": "busiest sector load", "required": targets.max_sector_load, "measured": got,
                     "met": got <= targets.max_sector_load + 1e-9, "sense": "max"})
    return rows


def strongest(rsrp_dbm, k: int):
    """The ``k`` strongest entries of each row of a sparse (n_points, n_candidates) RSRP matrix
    (ties: lower candidate index), as a CSR matrix of the same shape and values.

    With a load target a user is assumed served by one of its ``k`` strongest covering candidates
    (a UE attaches to a strong cell, not to the 9th-best): this keeps the assignment model small.
    Coverage counted this way never exceeds the full coverage relation (conservative).

    >>> import scipy.sparse as sp
    >>> m = sp.csr_matrix(np.array([[-90.0, -80.0, -85.0], [-99.0, 0.0, 0.0]]))
    >>> strongest(m, 2).toarray().tolist()
    [[0.0, -80.0, -85.0], [-99.0, 0.0, 0.0]]
    """
    import scipy.sparse as sp

    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    m = sp.csr_matrix(rsrp_dbm)
    m.sort_indices()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))            # per row: strongest first
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - m.indptr[rows[order]]
    keep = rank < k
    out = sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape)
    out.sort_indices()
    return out


def preference_rank(rsrp_dbm):
    """Each point's order among its candidates, 1 = strongest (ties: lower index), CSR of the same
    pattern: the cell a UE attaches to first (closest assignment in the capacity model).

    >>> import scipy.sparse as sp
    >>> preference_rank(sp.csr_matrix(np.array([[-90.0, -80.0, -85.0]]))).toarray().tolist()
    [[3, 1, 2]]
    """
    import scipy.sparse as sp

    m = sp.csr_matrix(rsrp_dbm)
    m.sort_indices()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((m.indices, -m.data, rows))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - m.indptr[rows[order]] + 1
    return sp.csr_matrix((rank, m.indices.copy(), m.indptr.copy()), shape=m.shape)


def resource_need(rsrp_dbm, traffic_bps: np.ndarray, interference_noise_dbm: np.ndarray, *, n_prb: int,
                  scs_khz: float, frequency_range: str) -> "object":
    """Share of a sector's resources each (point, candidate) pair would take: traffic / rate.

    ``rsrp_dbm``: sparse (n_points, n_candidates) RSRP per RE [dBm] of each candidate;
    ``traffic_bps``: (n_points,) busy-hour traffic; ``interference_noise_dbm``: (n_points,) the
    interference plus noise per RE expected at each point [dBm]. The rate is the full-allocation
    downlink rate at SINR = RSRP - (I + N) (TS 38.214 CQI table through TS 38.306,
    :func:`cellscape.radio.throughput.downlink_throughput_bps`), the SINR raised to the lowest
    CQI's threshold where it is below: a user in SINR outage is charged the most a served user can
    take (conservative; its outage is the SINR target's business, and the re-measured load leaves
    outage pixels out). Returns CSR of the same pattern.

    >>> import scipy.sparse as sp
    >>> need = resource_need(sp.csr_matrix([[-80.0]]), np.array([10e6]), np.array([-100.0]), n_prb=273,
    ...                      scs_khz=30.0, frequency_range="FR1")
    >>> from cellscape.radio.throughput import downlink_throughput_bps
    >>> bool(np.isclose(need[0, 0], 10e6 / downlink_throughput_bps(20.0, 273, 30.0)))
    True
    """
    import scipy.sparse as sp

    from cellscape.radio.throughput import cqi_sinr_thresholds_db, downlink_throughput_bps

    m = sp.csr_matrix(rsrp_dbm)
    coo = m.tocoo()
    sinr = coo.data - np.asarray(interference_noise_dbm, dtype=float).ravel()[coo.row]
    sinr = np.maximum(sinr, float(cqi_sinr_thresholds_db()[0]) + 1e-6)
    rate = downlink_throughput_bps(sinr, n_prb, scs_khz, frequency_range=frequency_range)
    traffic = np.asarray(traffic_bps, dtype=float).ravel()[coo.row]
    return sp.csr_matrix((traffic / rate, (coo.row, coo.col)), shape=m.shape)


def interference_noise_dbm(rsrp_dbm: np.ndarray, sinr_db: np.ndarray) -> np.ndarray:
    """Interference plus noise per RE at each pixel of a computed map [dBm]: RSRP - SINR (the
    load-weighted interference and the noise the engine divided by)."""
    return np.asarray(rsrp_dbm, dtype=float) - np.asarray(sinr_db, dtype=float)
