"""Spatially consistent random fields: correlated shadow fading and LOS state.

TR 38.901 asks for large-scale parameters that are correlated in space with an exponential
autocorrelation exp(-d/d_cor) (Section 7.5, Table 7.5-6 "correlation distance" for shadow fading)
and for a LOS/NLOS state that is spatially consistent (Section 7.6.3.1, Table 7.6.3.1-2: a
uniform random variable with the same kind of correlation, compared with the LOS probability).

We realise such a field as a sum of random Fourier features (spectral method, Shinozuka & Deodatis
1991; Rahimi & Recht 2007): for a stationary isotropic field with autocorrelation
rho(r) = exp(-r/d), the normalised spectral density in 2-D is the bivariate Cauchy density
(a multivariate t with one degree of freedom) of scale 1/d, so with wave vectors k_i drawn from it
and phases uniform on [0, 2 pi)

    z(x) = sqrt(2/N) * sum_i cos(k_i . x + phi_i)

has zero mean, unit variance and E[z(x) z(x')] = exp(-|x - x'|/d) exactly; its marginal tends to a
Gaussian as N grows (N = 256 by default: the test bounds the KS distance).

Why this method: the field is a closed-form function of *global* map coordinates, drawn once per
run from the scenario seed. Any tile, in any order, on any worker, evaluates exactly the same values:
no seams and no dependence on tiling (ARCHITECTURE.md, issue "tiles are independent"). On a regular
grid it factorises into two small matrix products (rows x N and N x cols), so a tile costs
O(N * pixels) multiply-adds in BLAS. The products run on one BLAS thread (threadpoolctl): they are
small (at most a tile's side x 256), and BLAS's threads cost more than they give there (a 100 x 100
field took 24 ms with two threads against 4.6 ms with one on a busy 2-core machine; a Shanghai
window of the national benchmark 72 s against 8.7 s); a map is parallel across tiles (Dask workers).

Inter-site correlation of shadow fading (TR 38.901 leaves it to the simulation assumptions; 0.5 is the
value used in TR 36.942 / ITU-R M.2412-style system simulations) is built as
z_site = sqrt(rho) z_common + sqrt(1 - rho) z_own.
"""

from __future__ import annotations

from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import functools
import threading

import numba
import numpy as np
from scipy.special import ndtr, ndtri
from threadpoolctl import ThreadpoolController

from cellscape._validate import check_range

DEFAULT_N_FEATURES = 256
"""Fourier features per field: variance exact for any N; Gaussian marginal to KS distance ~0.01."""


_ROUND = 6755399441055744.0          # 1.5 * 2^52: (v + _ROUND) - _ROUND is rint(v) for |v| < 2^51 (no fastmath)
_PIO2_HI = 1.5707963267341256        # pi / 2 in two parts (fdlibm's PIO2_1 and PIO2_1T): q pi / 2 exact for |q| < 2^20
_PIO2_LO = 6.0771005065061922e-11
_S1, _S2, _S3 = -1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4                  # Cephes sinf on [-pi/4, pi/4]
_C1, _C2, _C3 = 4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5    # Cephes cosf on [-pi/4, pi/4]


@numba.njit(cache=True, nogil=True)
def _cos_sin_f32(coord_m, k_rad_m, phase_rad, with_phase):
    """cos and sin of the angles ``coord x k (+ phase)`` [rad], each (len(coord_m), len(k_rad_m)) float32.

    One vectorised pass in float64 with no branch: the angle a is reduced by the nearest multiple q
    of pi / 2 (Cody-Waite, pi / 2 in two parts), the Cephes single-precision minimax polynomials
    give sin and cos of the remainder r in [-pi / 4, pi / 4], and the quadrant q mod 4 maps them
    by exact factors (cos(q pi / 2) and sin(q pi / 2) in {-1, 0, 1}); rounded to float32 at the end.
    Error < 4e-8 where |a| < 1e6 rad (tested against numpy's float64 cos / sin; the float64 angle
    itself carries |a| x 1.1e-16 of rounding), so below the float32 rounding of the result, as
    numpy's float32 routines are; ~2.5x faster than numpy's float32 cos and sin on the angles
    formed apart (benchmarks/RESULTS.md). No contraction into FMA (numba's default without
    fastmath), so the same bits on every x86-64 machine."""
    n, m = coord_m.size, k_rad_m.size
    c = np.empty((n, m), dtype=np.float32)
    s = np.empty((n, m), dtype=np.float32)
    for i in range(n):
        x = coord_m[i]
        ci = c[i]
        si = s[i]
        for j in range(m):
            a = x * k_rad_m[j]
            if with_phase:
                a = a + phase_rad[j]
            q = (a * (2.0 / np.pi) + _ROUND) - _ROUND
            r = (a - q * _PIO2_HI) - q * _PIO2_LO
            z = r * r
            sr = r + r * z * (_S1 + z * (_S2 + z * _S3))
            cr = 1.0 - 0.5 * z + z * z * (_C1 + z * (_C2 + z * _C3))
            qm = q - 4.0 * ((q * 0.25 + _ROUND) - _ROUND)      # q mod 4, in -2..2
            e = 1.0 - abs(qm)                                   # cos(q pi / 2)
            t = qm * (2.0 - abs(qm))                            # sin(q pi / 2)
            ci[j] = np.float32(e * cr - t * sr)
            si[j] = np.float32(e * sr + t * cr)
    return c, s


@dataclass(frozen=True)
class ExponentialField:
    """A unit-variance Gaussian random field with autocorrelation exp(-r / decorrelation_m).

    Build with :func:`exponential_field`; evaluate with :meth:`on_grid` or :meth:`at_points`.
    ``kx_rad_m``, ``ky_rad_m``, ``phase_rad``: shape (n_features,).
    """

    decorrelation_m: float
    kx_rad_m: np.ndarray
    ky_rad_m: np.ndarray
    phase_rad: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.kx_rad_m.size)

    def on_grid(self, x_m, y_m) -> np.ndarray:
        """Field at every (y, x) of a regular grid, shape (len(y_m), len(x_m)), float32.

        cos(kx x + ky y + p) = cos(kx x) cos(ky y + p) - sin(kx x) sin(ky y + p), so the sum over
        features is two matrix products; the angles are formed and reduced in float64 (map
        coordinates are large), their cosines and sines rounded to float32 (:func:`_cos_sin_f32`,
        error < 4e-8 on each factor, far below the float32 products'), and the products run in
        float32. Each value is a function of its pixel's coordinates only: the same in any tile
        (to the float32 products' rounding, which depends on the tile's shape).
        """
        x = np.ascontiguousarray(x_m, dtype=float).ravel()
        y = np.ascontiguousarray(y_m, dtype=float).ravel()
        cx, sx = _cos_sin_f32(x, self.kx_rad_m, self.phase_rad, False)      # (n_cols, N)
        cy, sy = _cos_sin_f32(y, self.ky_rad_m, self.phase_rad, True)       # (n_rows, N)
        amp = np.float32(np.sqrt(2.0 / self.n_features))
        out = cy @ cx.T                                                 # (n_rows, n_cols)
        out -= sy @ sx.T
        out *= amp
        return out

    def at_points(self, x_m, y_m) -> np.ndarray:
        """Field at scattered points (broadcast shapes of x_m and y_m), float64."""
        x, y = np.broadcast_arrays(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float))
        flat_x, flat_y = x.ravel(), y.ravel()
        out = np.empty(flat_x.size)
        step = 65536
        for start in range(0, flat_x.size, step):
            sl = slice(start, start + step)
            arg = (np.multiply.outer(flat_x[sl], self.kx_rad_m)
                   + np.multiply.outer(flat_y[sl], self.ky_rad_m) + self.phase_rad)   # (n, N)
            out[sl] = np.cos(arg).sum(axis=1)
        return (out * np.sqrt(2.0 / self.n_features)).reshape(x.shape)


def exponential_field(decorrelation_m: float, *, rng: np.random.Generator,
                      n_features: int = DEFAULT_N_FEATURES) -> ExponentialField:
    """Draw a field with autocorrelation exp(-r / decorrelation_m) (TR 38.901 7.5 / 7.6.3.1).

    Parameters
    ----------
    decorrelation_m : float
        Correlation distance d_cor (Table 7.5-6 for shadow fading, Table 7.6.3.1-2 for the LOS
        state), 0.1 m to 10 km. [m]
    rng : numpy.random.Generator
        The only source of randomness.
    n_features : int, default 256
        Number of random Fourier features.

    Returns
    -------
    ExponentialField

    Examples
    --------
    >>> f = exponential_field(50.0, rng=np.random.default_rng(1))
    >>> f.on_grid([0.0, 10.0], [0.0]).shape
    (1, 2)
    """
    check_range("decorrelation_m", decorrelation_m, 0.1, 1e4, source="TR 38.901 Table 7.5-6")
    if n_features < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features}")
    # bivariate Cauchy of scale 1/d: k = z / (d |g|), z ~ N(0, I2), g ~ N(0, 1)
    z = rng.standard_normal((2, n_features))
    g = np.abs(rng.standard_normal(n_features))
    g = np.maximum(g, 1e-12)
    k = z / (decorrelation_m * g)
    phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
    return ExponentialField(float(decorrelation_m), k[0], k[1], phase)


def field_rng(seed: int, *key: int) -> np.random.Generator:
    """An independent, reproducible stream for one named field: ``key`` (e.g. purpose code,
    site index) is appended to the scenario seed through :class:`numpy.random.SeedSequence`."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *[int(k) for k in key]]))


# purpose codes of the fields drawn from one scenario seed
SF_COMMON, SF_SITE, LOS_SITE = 1, 2, 3


class SiteFieldSequence(Sequence):
    """One field per site, each drawn on first use from its own stream (``field_rng(seed, purpose,
    key)``) and kept: the same values as drawing them all up front, without the cost for the sites a
    run never evaluates (a national part holds thousands of sites, its tiles keep tens)."""

    def __init__(self, seed: int, purpose: int, keys, decorrelation_m, n_features: int):
        self._seed, self._purpose, self._n = int(seed), int(purpose), int(n_features)
        self._keys = [int(k) for k in keys]
        self._d = [float(d) for d in decorrelation_m]
        self._drawn: dict[int, ExponentialField] = {}
        if self._d:                           # exponential_field's checks, up front
            d = np.asarray(self._d)
            check_range("decorrelation_m", float(d[np.argmax((d < 0.1) | (d > 1e4))]), 0.1, 1e4,
                        source="TR 38.901 Table 7.5-6")
        if self._n < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")

    def __len__(self) -> int:
        return len(self._d)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        i = range(len(self))[int(i)]          # negative from the end; IndexError beyond
        f = self._drawn.get(i)
        if f is None:
            f = exponential_field(self._d[i], rng=field_rng(self._seed, self._purpose, self._keys[i]),
                                  n_features=self._n)
            self._drawn[i] = f
        return f


LOS_SKIP_MARGIN = 1e-4
"""Relative margin of :func:`los_skip_threshold` over the bound of the LOS probability (it covers the
float32 rounding of the uniform, 6e-8, and the kernels' float64 interpolation, ~1e-16)."""


def los_skip_threshold(p_max: float) -> float | None:
    """The z above which Phi(z), rounded to float32, exceeds ``p_max`` (1 + LOS_SKIP_MARGIN) [unit-variance
    field]: where a site's LOS field is >= it, its uniform exceeds every LOS probability <= p_max, so the
    kernels' comparison U < p_LOS gives NLOS whatever U is. None where no such z is useful (p_max
    near 1, or not finite): every uniform is then taken.

    >>> round(los_skip_threshold(0.01), 4)
    -2.3263
    >>> los_skip_threshold(0.99995) is None
    True
    """
    if not np.isfinite(p_max):
        return None
    p = max(float(p_max), 0.0) * (1.0 + LOS_SKIP_MARGIN) + 1e-12
    return None if p >= 0.9999 else float(ndtri(p))


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """threadpoolctl's controller, made once per process: making it scans every loaded library
    (~0.2-4 ms in a process that has loaded GDAL and numba, which every tile paid twice)."""
    return ThreadpoolController()


_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0                 # threads inside one_blas_thread
_BLAS_LIMITER = None            # threadpoolctl's limiter while one is


@contextlib.contextmanager
def one_blas_thread():
    """A context of one BLAS thread (the fields' small products), safe across threads: BLAS's thread
    count is one per process, so the first thread in sets it and the last one out restores it (a
    context per thread let one thread restore two BLAS threads while another was still in its
    products). OpenBLAS's products cut across two threads round some values otherwise, so a map's
    bits would depend on what ran beside it.

    A process whose threads compute tiles side by side (an in-process Dask cluster) holds this for
    the whole run from its main thread (cellscape.pipeline.stream): worker threads setting and
    restoring the limit themselves were seen to leave OpenBLAS at two threads in one of them (an
    in-process cluster of two worker threads gave other bits for ~1 tile in 20), which a limit
    held by the main thread does not."""
    global _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            _BLAS_LIMITER = _blas_controller().limit(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None


@dataclass(frozen=True)
class SiteFields:
    """The random fields of a coverage run: shadow fading per site and LOS state per site.

    ``sf_common``/``sf_own`` (one per site) make z_site = sqrt(rho) z_common + sqrt(1 - rho) z_own;
    ``los`` (one per site) gives the spatially consistent uniform variable of 7.6.3.1.
    Any of them may be None when the run does not need it.
    """

    inter_site_correlation: float
    sf_common: ExponentialField | None
    sf_own: Sequence[ExponentialField] | None
    los: Sequence[ExponentialField] | None

    def shadow_unit_on_grid(self, x_m, y_m) -> np.ndarray | None:
        """Unit-variance shadow-fading fields, shape (n_sites, n_rows, n_cols) float32 (None if off)."""
        if self.sf_own is None:
            return None
        with one_blas_thread():
            return self._shadow_unit_on_grid(x_m, y_m)

    def _shadow_unit_on_grid(self, x_m, y_m) -> np.ndarray:
        rho = self.inter_site_correlation
        common = self.sf_common.on_grid(x_m, y_m) * np.float32(np.sqrt(rho)) if rho > 0 else None
        out = np.empty((len(self.sf_own), len(y_m), len(x_m)), dtype=np.float32)
        for i, f in enumerate(self.sf_own):
            out[i] = f.on_grid(x_m, y_m)
            out[i] *= np.float32(np.sqrt(1.0 - rho))
            if common is not None:
                out[i] += common
        return out

    def los_uniform_on_grid(self, x_m, y_m, p_max=None) -> np.ndarray | None:
        """Spatially consistent U(0, 1) variables, shape (n_sites, n_rows, n_cols) float32.

        ``p_max`` (n_sites,) or None: an upper bound of every LOS probability site i's uniform will
        be compared with (the kernels draw LOS where U < p_LOS, TR 38.901 7.6.3.1). The uniform
        U = Phi(z) of the Gaussian field z is then taken only where it may fall below
        p_max (1 + :data:`LOS_SKIP_MARGIN`); elsewhere the value is 1.0, which every such
        comparison reads as NLOS, as it reads the uniform there (:func:`los_skip_threshold`). Phi
        costs ~10 % of a rural map, and a far site's p_LOS is small: its pixels mostly skip it. The
        LOS states, and so the maps, are the same bits.
        """
        if self.los is None:
            return None
        cut = [None] * len(self.los) if p_max is None else [los_skip_threshold(p) for p in np.asarray(p_max, float)]
        out = np.empty((len(self.los), len(y_m), len(x_m)), dtype=np.float32)
        with one_blas_thread():
            for i, f in enumerate(self.los):
                z = f.on_grid(x_m, y_m)
                if cut[i] is None:
                    out[i] = ndtr(z)
                    continue
                low = z < cut[i]                    # the only pixels where U may be below p_max
                out[i] = 1.0
                out[i][low] = ndtr(z[low])
        return out


def site_fields(seed: int, sf_decorrelation_m, los_decorrelation_m, *, shadow_fading: bool,
                statistical_los: bool, inter_site_correlation: float = 0.5,
                n_features: int = DEFAULT_N_FEATURES, site_keys=None,
                common_sf_decorrelation_m: float | None = None) -> SiteFields:
    """Draw the fields of a run from its seed: one SF and one LOS field per site.

    ``sf_decorrelation_m`` and ``los_decorrelation_m`` are per-site sequences (the site's environment
    sets them). The common SF field uses the largest SF correlation distance among the sites, or
    ``common_sf_decorrelation_m`` when given (these sites are part of a larger network: that of all
    of its sites).
    ``site_keys``: one integer >= 0 per site naming its random stream (default: its index), so that
    a site keeps its fields in runs with other site sets (planning measures candidates alone, then
    the chosen network).
    """
    check_range("inter_site_correlation", inter_site_correlation, 0.0, 1.0, source="cellscape shadowing model")
    sf_d = [float(d) for d in sf_decorrelation_m]
    los_d = [float(d) for d in los_decorrelation_m]
    keys = list(range(max(len(sf_d), len(los_d)))) if site_keys is None else [int(k) for k in site_keys]
    if len(keys) < max(len(sf_d), len(los_d)) or any(k < 0 for k in keys):
        raise ValueError("site_keys needs one integer >= 0 per site")
    common = own = los = None
    if shadow_fading and sf_d:
        d_common = max(sf_d) if common_sf_decorrelation_m is None else float(common_sf_decorrelation_m)
        common = exponential_field(d_common, rng=field_rng(seed, SF_COMMON), n_features=n_features)
        own = SiteFieldSequence(seed, SF_SITE, keys, sf_d, n_features)
    if statistical_los and los_d:
        los = SiteFieldSequence(seed, LOS_SITE, keys, los_d, n_features)
    return SiteFields(float(inter_site_correlation), common, own, los)
