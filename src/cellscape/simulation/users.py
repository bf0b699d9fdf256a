"""Users of the system-level simulator: where they are dropped and how they move.

Drops (``DropSpec``) all become a weight per map pixel, then users are drawn from the weights,
uniformly inside the pixel drawn:

* ``uniform``: every pixel alike; ``hotspot``: the density weight / area of each disk covering the
  pixel centre; ``buildings``: uniform with ``indoor_fraction`` (default 0.8, the indoor share of
  TR 38.901 Table 7.8-1) of the users under a roof; ``raster``: users per pixel from a GeoTIFF.
* ``indoor_fraction`` (any drop): that share of the users is drawn among the indoor pixels (under a
  building footprint, where the maps carry TR 38.901 O2I loss), the rest among the outdoor ones.

Moving users start outdoors and follow a trajectory of knots (time, x, y) built once for the whole
run (a simulation lasts seconds to minutes, so a trajectory is short):

* ``random_waypoint`` (Johnson & Maltz 1996): straight legs to uniformly drawn outdoor pixels at a
  speed drawn per leg in the speed range, then a pause drawn in ``pause_s``;
* ``streets``: a random walk on the OSM street graph (cellscape.geo.streets): from a point drawn on
  the streets (by length) to one end of its street, then at every junction a street drawn among
  those not just walked (a dead end turns back), at the drawn speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellscape.errors import ScenarioError
from cellscape.geo.grid import RasterGrid, transform_xy


def drop_weights(kind: str, grid: RasterGrid, *, hotspots_m=(), demand: np.ndarray | None = None) -> np.ndarray:
    """Weight per pixel (n_rows, n_cols) of a drop ``kind``; ``hotspots_m``: (x_m, y_m, radius_m,
    weight) in the grid CRS; ``demand``: users per pixel for ``raster``."""
    if kind in ("uniform", "buildings"):
        return np.ones(grid.shape)
    if kind == "raster":
        if demand is None or demand.shape != grid.shape:
            raise ScenarioError("a raster drop needs its users-per-pixel raster read onto the simulation grid")
        return np.asarray(demand, dtype=float)
    if kind == "hotspot":
        x = grid.x_centers_m()[None, :]
        y = grid.y_centers_m()[:, None]
        w = np.zeros(grid.shape)
        for hx, hy, r, weight in hotspots_m:
            inside = (x - hx) ** 2 + (y - hy) ** 2 <= r * r
            if inside.any():
                w += inside * (weight / inside.sum())
        return w
    raise ScenarioError(f"drop kind {kind!r} is not one of uniform, hotspot, buildings, raster")


BUILDINGS_INDOOR_FRACTION = 0.8
"""Indoor share of a ``buildings`` drop without its own ``indoor_fraction`` (module docstring)."""


def group_indoor_fraction(group) -> float | None:
    """The indoor share the simulator draws a user group with: the drop's ``indoor_fraction``,
    :data:`BUILDINGS_INDOOR_FRACTION` for a ``buildings`` drop without one, 0 for moving users
    (they start outdoors), None (wherever the weights put them) otherwise."""
    if group.mobility.model != "static":
        return 0.0
    frac = group.drop.indoor_fraction
    if frac is None and group.drop.kind == "buildings":
        frac = BUILDINGS_INDOOR_FRACTION
    return frac


def expected_users(n: int, weights: np.ndarray, indoor: np.ndarray, *, indoor_fraction: float | None) -> np.ndarray:
    """Expected users per pixel of :func:`drop_users` (same arguments): ``n`` x the pixel's share of
    its pool (indoor or outdoor), the pools weighted by ``indoor_fraction``. An empty pool's share
    goes to the other (where :func:`drop_users` would refuse), so the map holds ``n`` users.

    >>> w = np.ones((1, 4)); inside = np.array([[True, False, False, False]])
    >>> np.round(expected_users(10, w, inside, indoor_fraction=0.8), 4).tolist()
    [[8.0, 0.6667, 0.6667, 0.6667]]
    """
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    pools = [(w, 1.0)] if indoor_fraction is None else [(w * indoor, indoor_fraction), (w * ~indoor, 1.0 - indoor_fraction)]
    out = np.zeros(w.shape)
    for pool, share in pools:
        total = pool.sum()
        if share > 0 and total > 0:
            out += share * pool / total
    total = out.sum()
    return n * out / total if total > 0 else out


def expected_users_by_group(sim, grid: RasterGrid, indoor: np.ndarray) -> dict[str, np.ndarray]:
    """Expected users per pixel of ``grid`` of each user group of a simulation (name -> (rows, cols)):
    the expectation of the simulator's drop (:func:`drop_weights` with the group's hotspots in the
    area's CRS, :func:`group_indoor_fraction`, :func:`expected_users`). Raster drops need their
    raster (read at the edge) and are refused; street walkers are spread like a random-waypoint drop."""
    out = {}
    for i, g in enumerate(sim.users):
        if g.drop.kind == "raster":
            raise ScenarioError(f"simulation.users[{i}].drop: raster drops are not supported here "
                                f"(group {g.name!r}; give the users a uniform, hotspot or buildings drop)")
        hotspots = ()
        if g.drop.hotspots:
            hx, hy = transform_xy(np.array([p.x for p in g.drop.hotspots]), np.array([p.y for p in g.drop.hotspots]),
                                  src_crs=sim.scenario.area.crs, dst_crs=grid.crs)
            hotspots = [(float(a), float(b), p.radius_m, p.weight) for a, b, p in zip(hx, hy, g.drop.hotspots)]
        w = drop_weights(g.drop.kind, grid, hotspots_m=hotspots)
        out[g.name] = expected_users(g.count, w, indoor, indoor_fraction=group_indoor_fraction(g))
    return out


def drop_users(n: int, weights: np.ndarray, indoor: np.ndarray, grid: RasterGrid, rng: np.random.Generator, *,
               indoor_fraction: float | None, where: str = "drop") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` positions (x_m, y_m) in the grid CRS from pixel ``weights``, with
    ``indoor_fraction`` of them among the ``indoor`` pixels (None: wherever the weights put them).
    Returns x_m, y_m and whether each user is indoors."""
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0).ravel()
    ind = indoor.ravel()
    if indoor_fraction is None:
        pools = [(w, n)]
    else:
        n_in = int(rng.binomial(n, indoor_fraction))
        pools = [(w * ind, n_in), (w * ~ind, n - n_in)]
    picks = []
    for pool, k in pools:
        if k == 0:
            continue
        total = pool.sum()
        if total <= 0:
            what = "indoor" if pool is pools[0][0] and indoor_fraction is not None else "outdoor"
            raise ScenarioError(f"{where}: no {what} pixel to drop users in (indoor pixels are under building "
                                f"footprints; set indoor_fraction to match the map)")
        picks.append(rng.choice(w.size, size=k, p=pool / total))
    pix = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
    pix = rng.permutation(pix)
    row, col = np.divmod(pix, grid.n_cols)
    x = grid.x_min_m + (col + rng.random(pix.size)) * grid.resolution_m
    y = grid.y_max_m - (row + rng.random(pix.size)) * grid.resolution_m
    return x, y, ind[pix]


@dataclass
class Trajectories:
    """Piecewise-linear trajectories: user u's knots are rows ``start[u]:start[u + 1]`` of
    (``t_s``, ``x_m``, ``y_m``), times increasing; before the first knot a user stands at it,
    after the last one at the last."""

    start: np.ndarray
    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray

    def __post_init__(self):
        self._ptr = self.start[:-1].copy()

    @classmethod
    def static(cls, x_m, y_m) -> "Trajectories":
        n = len(x_m)
        return cls(start=np.arange(n + 1), t_s=np.zeros(n), x_m=np.asarray(x_m, float), y_m=np.asarray(y_m, float))

    @classmethod
    def from_lists(cls, knots: list[list[tuple[float, float, float]]]) -> "Trajectories":
        counts = np.array([len(k) for k in knots], dtype=np.int64)
        flat = np.array([p for k in knots for p in k], dtype=float).reshape(-1, 3)
        return cls(start=np.concatenate([[0], np.cumsum(counts)]), t_s=flat[:, 0], x_m=flat[:, 1], y_m=flat[:, 2])

    def position_of(self, user: np.ndarray, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of users ``user[k]`` at times ``t_s[k]`` (any order; leaves :meth:`positions`'
        cursor alone). Used to place events (handovers) on the map."""
        user = np.asarray(user, dtype=np.int64)
        t_s = np.asarray(t_s, dtype=float)
        x = np.empty(len(user))
        y = np.empty(len(user))
        for k, (u, t) in enumerate(zip(user, t_s)):
            a, b = self.start[u], self.start[u + 1]
            j = a + int(np.searchsorted(self.t_s[a:b], t, side="right"))
            i = max(j - 1, a)
            j = min(j, b - 1)
            dt = self.t_s[j] - self.t_s[i]
            f = min(max((t - self.t_s[i]) / dt, 0.0), 1.0) if dt > 0 else 0.0
            x[k] = self.x_m[i] + f * (self.x_m[j] - self.x_m[i])
            y[k] = self.y_m[i] + f * (self.y_m[j] - self.y_m[i])
        return x, y

    def positions(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Positions at ``t_s`` (calls must not go back in time)."""
        last = self.start[1:] - 1
        while True:
            nxt = np.minimum(self._ptr + 1, last)
            adv = (nxt > self._ptr) & (self.t_s[nxt] <= t_s)
            if not adv.any():
                break
            self._ptr[adv] = nxt[adv]
        i = self._ptr
        j = np.minimum(i + 1, last)
        dt = self.t_s[j] - self.t_s[i]
        frac = np.where(dt > 0, np.clip((t_s - self.t_s[i]) / np.where(dt > 0, dt, 1.0), 0.0, 1.0), 0.0)
        return (self.x_m[i] + frac * (self.x_m[j] - self.x_m[i]),
                self.y_m[i] + frac * (self.y_m[j] - self.y_m[i]))


def random_waypoint(x0_m, y0_m, speed_m_s: tuple[float, float], pause_s: tuple[float, float], duration_s: float,
                    outdoor: np.ndarray, grid: RasterGrid, rng: np.random.Generator) -> list[list[tuple]]:
    """Knots of random-waypoint trajectories from (x0, y0) covering ``duration_s``."""
    pool = np.flatnonzero(outdoor.ravel()) if outdoor.any() else np.arange(grid.n_pixels)
    out = []
    for x, y in zip(np.asarray(x0_m, float), np.asarray(y0_m, float)):
        t = 0.0
        knots = [(t, x, y)]
        while t < duration_s:
            row, col = np.divmod(int(rng.choice(pool)), grid.n_cols)
            nx_ = grid.x_min_m + (col + rng.random()) * grid.resolution_m
            ny_ = grid.y_max_m - (row + rng.random()) * grid.resolution_m
            v = rng.uniform(*speed_m_s)
            d = float(np.hypot(nx_ - x, ny_ - y))
            t += d / v if v > 0 else duration_s
            x, y = nx_, ny_
            knots.append((t, x, y))
            pause = rng.uniform(*pause_s)
            if pause > 0:
                t += pause
                knots.append((t, x, y))
        out.append(knots)
    return out


def street_walks(graph, speed_m_s: np.ndarray, duration_s: float, rng: np.random.Generator) -> list[list[tuple]]:
    """Knots of one random walk per entry of ``speed_m_s`` (each walker's speed [m/s]) on a street
    graph (nodes (x_m, y_m), edges ``length_m``)."""
    edges = list(graph.edges(data="length_m"))
    if not edges:
        raise ScenarioError("the street graph has no edges to walk along")
    lengths = np.array([e[2] for e in edges], dtype=float)
    p = lengths / lengths.sum()
    out = []
    for v in np.asarray(speed_m_s, dtype=float):
        a, b, _len = edges[int(rng.choice(len(edges), p=p))]
        f = rng.random()
        x, y = a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])
        t = 0.0
        knots = [(t, x, y)]
        prev, node = (a, b) if rng.random() < 0.5 else (b, a)
        while t < duration_s and v > 0:
            d = float(np.hypot(node[0] - x, node[1] - y))
            t += d / v
            x, y = node
            knots.append((t, x, y))
            nbrs = [m for m in graph.neighbors(node) if m != prev] or [prev]
            prev, node = node, nbrs[int(rng.integers(len(nbrs)))]
        out.append(knots)
    return out


__all__ = ["Trajectories", "drop_users", "drop_weights", "random_waypoint", "street_walks"]
