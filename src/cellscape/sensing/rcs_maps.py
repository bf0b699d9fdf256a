"""Per-pixel RCS of the sensing maps: the random component sigma_S drawn per pixel and TRP (pair), and
the angular RCS of a model-2 target with a fixed heading, 3GPP TR 38.901 V19.4.0 clause 7.9.2.1.

The sensing maps (cellscape.pipeline.sense) add to each echo a per-pixel term in dB on top of the
run's constant RCS (``cellscape.sensing.rcs.sensing_target_rcs_dbsm``):

- ``sensing.rcs_random: draw``: 10 lg(sigma_S) ~ N(mu, s^2) clipped at mu + 3 s
  (:func:`cellscape.sensing.rcs.draw_sigma_s_db`, eq. 7.9.2-1 and eq. 7.9.4-1), one independent draw
  per pixel and monostatic TRP, or per pixel and unordered bistatic pair {A, B} (RCS reciprocity:
  A -> B and B -> A see the same target, :func:`sigma_s_field_db`);
- ``sensing.target_heading_deg``: sigma_M sigma_D of eq. 7.9.2-3 at the pixel's own incident
  (target -> TX) and scattered (target -> RX) directions (:func:`heading_rcs_dbsm`), minus the
  heading-averaged constant.

Randomness: :func:`cellscape.propagation.shadowing.field_rng` keyed by the scenario seed, a purpose
code, the TRP (pair) and a chunk of ``RCS_CHUNK_PX`` x ``RCS_CHUNK_PX`` pixels of the run's grid (its
row and column indices divided by ``RCS_CHUNK_PX``). A pixel's draw depends on its grid position only,
never on the tiles or blocks the map is computed in, nor on which other sites a block keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools

import numpy as np

from cellscape._validate import check_choice, check_range
from cellscape.propagation.shadowing import field_rng
from cellscape.sensing.rcs import (
    RCS_MODEL_1,
    RCS_MODEL_2,
    SENSING_TARGETS,
    SPEC,
    bistatic_geometry,
    orientation_averaged_rcs_dbsm,
    rcs_pattern_db,
    sigma_s_mean_db,
)

RCS_CHUNK_PX = 64
"""Side of the grid-aligned pixel chunks whose sigma_S draws one generator makes [pixels]."""

RCS_SIGMA_S_MONO, RCS_SIGMA_S_PAIR, RCS_SIGMA_S_TRP_UE = 11, 12, 13
"""Purpose codes of the sigma_S fields in :func:`~cellscape.propagation.shadowing.field_rng` (the
coverage fields use 1 to 3)."""

RCS_RANDOM_CHOICES: tuple[str, ...] = ("expected", "draw")
"""``sensing.rcs_random``: ``expected`` E[sigma_S] = 1 (the maps before this option); ``draw`` one
sigma_S per pixel and TRP (pair)."""

HEADING_TARGETS: tuple[str, ...] = tuple(n for n, k in SENSING_TARGETS.items() if k in RCS_MODEL_2)
"""``sensing.target`` names whose RCS depends on the heading (RCS model 2)."""


def sigma_s_std_db(target: str) -> float:
    """Standard deviation of 10 lg(sigma_S) of a ``sensing.target`` (Tables 7.9.2.1-1 to -7) [dB].

    Examples
    --------
    >>> sigma_s_std_db("human"), sigma_s_std_db("vehicle")
    (3.94, 3.41)
    """
    check_choice("target", target, tuple(SENSING_TARGETS))
    key = SENSING_TARGETS[target]
    return float((RCS_MODEL_1.get(key) or RCS_MODEL_2[key]).sigma_s_std_db)


def sigma_s_max_db(std_db: float) -> float:
    """The clip of eq. 7.9.4-1, mu + 3 s: no draw of 10 lg(sigma_S) exceeds it [dB].

    Examples
    --------
    >>> round(sigma_s_max_db(3.94), 3)        # -ln(10)/20 x 3.94^2 + 3 x 3.94
    10.033
    """
    return float(sigma_s_mean_db(std_db)) + 3.0 * float(std_db)


def sigma_s_field_db(seed: int, keys, row_start: int, row_stop: int, col_start: int, col_stop: int,
                     std_db: float) -> np.ndarray:
    """
    10 lg(sigma_S) at grid pixels [row_start, row_stop) x [col_start, col_stop), one field per key.

    Parameters
    ----------
    seed : int
        The scenario seed.
    keys : sequence of tuple of int
        One key per field, e.g. (``RCS_SIGMA_S_MONO``, site) or (``RCS_SIGMA_S_PAIR``, min(A, B),
        max(A, B)).
    row_start, row_stop, col_start, col_stop : int
        Pixel index ranges in the run's grid.
    std_db : float
        Standard deviation s of 10 lg(sigma_S). [dB]

    Returns
    -------
    sigma_s_db : ndarray, shape (len(keys), row_stop - row_start, col_stop - col_start), float32
        N(mu, s^2) with mu = -ln(10)/20 s^2 (eq. 7.9.2-1), clipped at mu + 3 s (eq. 7.9.4-1). [dB]

    Notes
    -----
    The grid is cut into chunks of ``RCS_CHUNK_PX`` squared pixels aligned to its origin; the chunk
    (i, j) of key k takes ``RCS_CHUNK_PX ** 2`` standard normals, row-major, from
    ``field_rng(seed, *k, i, j)``. So the value at a pixel is a function of (seed, key, row, col)
    only: any tiling of the map gives the same draws.

    Examples
    --------
    >>> a = sigma_s_field_db(7, [(11, 0)], 0, 100, 0, 100, 3.74)
    >>> b = sigma_s_field_db(7, [(11, 0)], 30, 40, 60, 90, 3.74)
    >>> bool(np.array_equal(a[:, 30:40, 60:90], b))
    True
    """
    s = float(check_range("std_db", std_db, 0.0, np.inf, source=f"{SPEC} eq. 7.9.2-1"))
    mu = float(sigma_s_mean_db(s))
    n = RCS_CHUNK_PX
    out = np.empty((len(keys), row_stop - row_start, col_stop - col_start), dtype=np.float32)
    ci = range(row_start // n, (row_stop - 1) // n + 1) if row_stop > row_start else range(0)
    cj = range(col_start // n, (col_stop - 1) // n + 1) if col_stop > col_start else range(0)
    for u, key in enumerate(keys):
        for i in ci:
            r0, r1 = max(row_start, i * n), min(row_stop, (i + 1) * n)
            for j in cj:
                c0, c1 = max(col_start, j * n), min(col_stop, (j + 1) * n)
                z = field_rng(seed, *key, i, j).standard_normal((n, n))
                out[u, r0 - row_start:r1 - row_start, c0 - col_start:c1 - col_start] = \
                    z[r0 - i * n:r1 - i * n, c0 - j * n:c1 - j * n]
    out *= np.float32(s)
    out += np.float32(mu)
    np.minimum(out, np.float32(mu + 3.0 * s), out=out)
    return out


def _direction_deg(from_xyz_m, to_xyz_m):
    """Zenith (from +z) and azimuth (counter-clockwise from +x = east) of to - from [deg]."""
    d = np.asarray(to_xyz_m, dtype=float) - np.asarray(from_xyz_m, dtype=float)
    r = np.sqrt(np.sum(d * d, axis=-1))
    zen = np.degrees(np.arccos(np.clip(d[..., 2] / np.where(r > 0, r, 1.0), -1.0, 1.0)))
    az = np.degrees(np.arctan2(d[..., 1], d[..., 0]))
    return np.where(r > 0, zen, 90.0), az


def heading_rcs_dbsm(target: str, heading_deg: float, target_xyz_m, tx_xyz_m, rx_xyz_m):
    """
    sigma_M sigma_D of a model-2 target with a fixed heading, at its incident and scattered directions.

    Parameters
    ----------
    target : str
        A ``sensing.target`` of RCS model 2: 'uav_large', 'vehicle', 'agv' (``HEADING_TARGETS``).
    heading_deg : float
        Direction the target's front faces: a bearing clockwise from grid north, [0, 360]. [deg]
    target_xyz_m, tx_xyz_m, rx_xyz_m : array_like, shape (..., 3)
        Positions (x east, y north, height) of the target, the TX and the RX antenna; broadcast
        together. TX = RX: monostatic. [m]

    Returns
    -------
    rcs_dbsm : ndarray
        10 lg(sigma_M sigma_D) of eq. 7.9.2-3 (single scattering point, its row chosen by the
        bisector as in :func:`cellscape.sensing.rcs.rcs_pattern_db`), broadcast shape. [dBsm]

    Notes
    -----
    The target's LCS (TR 38.901 7.9.2.1, 7.1.1): x towards its front, z up, azimuth counter-clockwise
    seen from above (left side at 90 deg). Its front has the grid azimuth alpha = 90 - heading
    (counter-clockwise from east), so a direction of grid azimuth a has LCS azimuth a - alpha
    (the target is upright: zeniths are the same in both frames). Incident ray: target -> TX,
    scattered ray: target -> RX, as :func:`cellscape.sensing.rcs.bistatic_geometry` reads them.

    Examples
    --------
    A vehicle heading north (0 deg) seen monostatically from due west, horizontally: the radar is on
    its left side (LCS azimuth 90 deg), the left row of Table 7.9.2.1-4 at theta = 90 deg:
    20.75 - 12 ((90 - 79.7) / 44.42)^2 = 20.105 dBsm.

    >>> round(float(heading_rcs_dbsm("vehicle", 0.0, [0, 0, 1.5], [-100, 0, 1.5], [-100, 0, 1.5])), 3)
    20.105
    """
    check_choice("target", target, HEADING_TARGETS)
    h = float(check_range("heading_deg", heading_deg, 0.0, 360.0, source=f"{SPEC} 7.9.2.1"))
    alpha = 90.0 - h
    zi, ai = _direction_deg(target_xyz_m, tx_xyz_m)
    if np.array_equal(np.asarray(tx_xyz_m, dtype=float), np.asarray(rx_xyz_m, dtype=float)):
        beta, bz, ba = np.zeros(np.shape(zi)), zi, np.mod(ai - alpha, 360.0)   # monostatic: the ray itself
    else:
        zs, as_ = _direction_deg(target_xyz_m, rx_xyz_m)
        beta, bz, ba = bistatic_geometry(zi, ai - alpha, zs, as_ - alpha)
    pattern_db = rcs_pattern_db(SENSING_TARGETS[target], np.clip(bz, 0.0, 180.0), ba, np.clip(beta, 0.0, 180.0))
    return pattern_db[0]                         # SENSING_TARGETS maps to single-point tables: one row


def heading_rcs_max_dbsm(target: str) -> float:
    """An upper bound of :func:`heading_rcs_dbsm` over all geometries: the largest G_max of the
    target's rows (eq. 7.9.2-3 never exceeds G_max) [dBsm].

    Examples
    --------
    >>> heading_rcs_max_dbsm("vehicle")       # the roof row of Table 7.9.2.1-4
    21.26
    """
    check_choice("target", target, HEADING_TARGETS)
    return float(max(p.g_max_db for p in RCS_MODEL_2[SENSING_TARGETS[target]].points))


def model_1_bistatic_db(x_m, y_m, target_height_m: float, tx_xyz_m, rx_xyz_m) -> np.ndarray:
    """-3 sin(beta/2) of RCS model 1 (eq. 7.9.2-2) for each link TX -> target -> RX at each pixel of
    the grid x_m (n_cols,) x y_m (n_rows,) with the target at ``target_height_m``: shape (n_links,
    n_rows, n_cols) float32 [dB]; 0 for a monostatic link (TX = RX). All links at once in one numba
    pass, with cos beta from the rays target -> TX and target -> RX and sin(beta/2) = sqrt((1 - cos
    beta) / 2): :func:`cellscape.sensing.rcs.rcs_model_1_db` of
    :func:`cellscape.sensing.radar.bistatic_angle_deg`, within float rounding (tested).

    >>> float(model_1_bistatic_db([0.0], [100.0], 1.5, [[-100.0, 0.0, 1.5]], [[100.0, 0.0, 1.5]])[0, 0, 0])
    -2.1213202476501465
    """
    return _links_on_grid(x_m, y_m, target_height_m, tx_xyz_m, rx_xyz_m, want_angle=False)


def bistatic_angle_grid_deg(x_m, y_m, target_height_m: float, tx_xyz_m, rx_xyz_m) -> np.ndarray:
    """The bistatic angle beta [deg] of each link TX -> target -> RX at each pixel of the grid x_m
    (n_cols,) x y_m (n_rows,), the target at ``target_height_m``: shape (n_links, n_rows, n_cols)
    float32 (0 for a monostatic link; the kernel of :func:`model_1_bistatic_db`).

    >>> round(float(bistatic_angle_grid_deg([0.0], [100.0], 1.5, [[-100.0, 0.0, 1.5]], [[100.0, 0.0, 1.5]])[0, 0, 0]), 4)
    90.0
    """
    return _links_on_grid(x_m, y_m, target_height_m, tx_xyz_m, rx_xyz_m, want_angle=True)


def _links_on_grid(x_m, y_m, target_height_m: float, tx_xyz_m, rx_xyz_m, *, want_angle: bool) -> np.ndarray:
    """(n_links, n_rows, n_cols) float32 of :func:`_beta_kernel`: beta [deg] or model 1's term [dB]."""
    tx = np.ascontiguousarray(np.asarray(tx_xyz_m, dtype=float).reshape(-1, 3))
    rx = np.ascontiguousarray(np.asarray(rx_xyz_m, dtype=float).reshape(-1, 3))
    x = np.ascontiguousarray(np.asarray(x_m, dtype=float).reshape(-1))
    y = np.ascontiguousarray(np.asarray(y_m, dtype=float).reshape(-1))
    out = np.empty((tx.shape[0], y.size, x.size), dtype=np.float32)
    if out.size:
        _beta_kernel()(x, y, float(target_height_m), tx, rx, out, 1 if want_angle else 0)
    return out


BETA_TABLE_STEP_DEG = 0.5
"""Step of :func:`heading_averaged_beta_db`'s table in beta [deg]."""

BETA_TABLE_HEADINGS = 720
"""Headings (0.5 deg apart) of each average in :func:`heading_averaged_beta_db`: its table differs by
at most 0.0005 dB from one with the monostatic constant's 3,600 and is built in 0.12 s instead of
0.28 s (vehicle, agv, uav_large; measured 2026-12-07)."""


@functools.lru_cache(maxsize=16)
def heading_averaged_beta_db(target: str) -> tuple[np.ndarray, np.ndarray]:
    """(beta_deg, term_db): a model-2 ``sensing.target`` without a heading, the bistatic RCS averaged
    over its heading (linear power, bisector horizontal, :func:`cellscape.sensing.rcs.orientation_averaged_rcs_dbsm`
    with ``bistatic_angle_deg``) minus its monostatic average (the run's constant RCS), on beta = 0,
    0.5, ..., 180 deg; 0 at beta = 0 and never positive (eq. 7.9.2-3's -k1 sin(k2 beta/2) +
    5 lg cos(beta/2) only lowers the lobes). Read by linear interpolation (``np.interp``).

    >>> beta, term = heading_averaged_beta_db("vehicle")
    >>> float(term[0]), round(float(np.interp(60.0, beta, term)), 2)
    (0.0, -3.82)
    """
    check_choice("target", target, HEADING_TARGETS)
    key = SENSING_TARGETS[target]
    beta = np.arange(0.0, 180.0 + BETA_TABLE_STEP_DEG / 2, BETA_TABLE_STEP_DEG)
    avg = np.array([orientation_averaged_rcs_dbsm(key, 90.0, BETA_TABLE_HEADINGS, bistatic_angle_deg=float(b))
                    for b in beta])
    term = np.minimum(avg - avg[0], 0.0)
    beta.flags.writeable = False
    term.flags.writeable = False
    return beta, term


_BETA_KERNEL = []


def _beta_kernel():
    """The numba kernel of :func:`model_1_bistatic_db` (compiled once, parallel over links)."""
    if not _BETA_KERNEL:
        import numba

        @numba.njit(parallel=True, cache=True, nogil=True)
        def kernel(x, y, h, tx, rx, out, want_angle):
            # want_angle 0: model 1's -3 sin(beta/2) [dB]; 1: beta [deg]
            for k in numba.prange(tx.shape[0]):
                if tx[k, 0] == rx[k, 0] and tx[k, 1] == rx[k, 1] and tx[k, 2] == rx[k, 2]:
                    out[k] = 0.0
                    continue
                iz, sz = tx[k, 2] - h, rx[k, 2] - h
                for r in range(y.size):
                    iy, sy = tx[k, 1] - y[r], rx[k, 1] - y[r]
                    for c in range(x.size):
                        ix, sx = tx[k, 0] - x[c], rx[k, 0] - x[c]
                        norm = np.sqrt((ix * ix + iy * iy + iz * iz) * (sx * sx + sy * sy + sz * sz))
                        cos_beta = (ix * sx + iy * sy + iz * sz) / norm if norm > 0.0 else 1.0
                        if want_angle == 1:
                            out[k, r, c] = np.degrees(np.arccos(min(max(cos_beta, -1.0), 1.0)))
                        else:
                            half = 0.5 * (1.0 - cos_beta)
                            half = min(max(half, 0.0), 1.0)
                            out[k, r, c] = -3.0 * np.sqrt(half)

        _BETA_KERNEL.append(kernel)
    return _BETA_KERNEL[0]


@dataclass(frozen=True)
class PixelRcs:
    """The per-pixel RCS terms of one sensing run: what the maps add, in dB, to each echo whose
    constant RCS is ``base_rcs_dbsm``.

    ``heading_deg``: None (no angular term) or the target's heading (model-2 targets only);
    ``draw``: add one sigma_S draw per pixel and TRP (pair) of ``sigma_s_std_db``;
    ``site_xyz_m`` (n_sites, 3): TRP antenna positions (x, y, height above local ground);
    ``target_height_m``: the targets' height above local ground;
    ``model_1_beta``: a model-1 target: add -3 sin(beta/2) of eq. 7.9.2-2 to every link whose TX and
    RX differ (beta the bistatic angle at the pixel; 0 for a monostatic link);
    ``model_2_beta``: a model-2 target without a heading: add :func:`heading_averaged_beta_db` at the
    pixel's beta to every link whose TX and RX differ.
    """

    target: str
    base_rcs_dbsm: float
    heading_deg: float | None
    draw: bool
    sigma_s_std_db: float
    seed: int
    site_xyz_m: np.ndarray
    target_height_m: float
    model_1_beta: bool = False
    model_2_beta: bool = False

    @property
    def max_delta_db(self) -> float:
        """An upper bound of every term :meth:`mono_db` / :meth:`pair_db` returns [dB]."""
        up = 0.0
        if self.heading_deg is not None:
            up += heading_rcs_max_dbsm(self.target) - self.base_rcs_dbsm
        if self.draw:
            up += sigma_s_max_db(self.sigma_s_std_db)
        return up

    def _target_xyz(self, x_m, y_m):
        x = np.asarray(x_m, dtype=float)[None, :]
        y = np.asarray(y_m, dtype=float)[:, None]
        x, y = np.broadcast_arrays(x, y)
        return np.stack([x, y, np.full(x.shape, float(self.target_height_m))], axis=-1)   # (rows, cols, 3)

    def links_db(self, keys, tx_xyz_m, rx_xyz_m, rows: slice, cols: slice, x_m, y_m) -> np.ndarray:
        """Terms of the echoes of links TX -> target -> RX at pixels rows x cols (grid indices; centres
        ``y_m``, ``x_m``), shape (n_links, n_rows, n_cols) float32 [dB].

        ``keys``: one tuple of ints per link, the key of its sigma_S field (its draw);
        ``tx_xyz_m``, ``rx_xyz_m`` (n_links, 3): antenna positions (equal: monostatic)."""
        tx = np.asarray(tx_xyz_m, dtype=float).reshape(-1, 3)
        rx = np.asarray(rx_xyz_m, dtype=float).reshape(-1, 3)
        out = np.zeros((tx.shape[0], len(y_m), len(x_m)), dtype=np.float32)
        if not tx.shape[0]:
            return out
        if self.heading_deg is not None:
            t = self._target_xyz(x_m, y_m)
            for k in range(tx.shape[0]):
                out[k] = heading_rcs_dbsm(self.target, self.heading_deg, t, tx[k], rx[k]) - self.base_rcs_dbsm
        elif self.model_1_beta:
            out[:] = model_1_bistatic_db(x_m, y_m, self.target_height_m, tx, rx)
        elif self.model_2_beta:
            beta_deg, term_db = heading_averaged_beta_db(self.target)
            beta = bistatic_angle_grid_deg(x_m, y_m, self.target_height_m, tx, rx)
            out[:] = np.interp(beta.ravel(), beta_deg, term_db).reshape(beta.shape)
        if self.draw:
            out += sigma_s_field_db(self.seed, list(keys), rows.start, rows.stop, cols.start, cols.stop,
                                    self.sigma_s_std_db)
        return out

    def mono_db(self, sites, rows: slice, cols: slice, x_m, y_m) -> np.ndarray:
        """Terms of the monostatic echoes of ``sites``, shape (len(sites), n_rows, n_cols) float32 [dB]."""
        sites = np.asarray(sites, dtype=np.int64)
        xyz = self.site_xyz_m[sites]
        return self.links_db([(RCS_SIGMA_S_MONO, int(i)) for i in sites], xyz, xyz, rows, cols, x_m, y_m)

    def pair_db(self, pair_tx, pair_rx, rows: slice, cols: slice, x_m, y_m) -> np.ndarray:
        """Terms of the bistatic echoes of the pairs (TX site, RX site), shape (n_pairs, n_rows, n_cols)
        float32 [dB]; symmetric in TX and RX (the draw is keyed by the unordered pair)."""
        tx = np.asarray(pair_tx, dtype=np.int64)
        rx = np.asarray(pair_rx, dtype=np.int64)
        keys = [(RCS_SIGMA_S_PAIR, int(min(a, b)), int(max(a, b))) for a, b in zip(tx, rx)]
        return self.links_db(keys, self.site_xyz_m[tx], self.site_xyz_m[rx], rows, cols, x_m, y_m)

    def trp_ue_db(self, pair_site, pair_ue, ue_xyz_m, rows: slice, cols: slice, x_m, y_m) -> np.ndarray:
        """Terms of the TRP-UE echoes of the pairs (TX site, RX UE), shape (n_pairs, n_rows, n_cols)
        float32 [dB]; ``ue_xyz_m`` (n_ues, 3) the UE antenna positions."""
        a = np.asarray(pair_site, dtype=np.int64)
        u = np.asarray(pair_ue, dtype=np.int64)
        keys = [(RCS_SIGMA_S_TRP_UE, int(i), int(j)) for i, j in zip(a, u)]
        return self.links_db(keys, self.site_xyz_m[a], np.asarray(ue_xyz_m, dtype=float)[u], rows, cols, x_m, y_m)


__all__ = ["HEADING_TARGETS", "PixelRcs", "bistatic_angle_grid_deg", "heading_averaged_beta_db", "model_1_bistatic_db", "RCS_CHUNK_PX", "RCS_RANDOM_CHOICES", "RCS_SIGMA_S_MONO",
           "RCS_SIGMA_S_PAIR", "RCS_SIGMA_S_TRP_UE", "heading_rcs_dbsm", "heading_rcs_max_dbsm", "sigma_s_field_db",
           "sigma_s_max_db",
           "sigma_s_std_db"]
