"""Frequency-selective fast fading for the system-level simulator: TR 38.901 TDL profiles turned
into a bank of per-PRB power gains over time, read by every user at its own offset.

The channel of a user between two measurement steps is its large-scale gain (path loss, shadow
fading, antennas: the coverage engine's) times a small-scale power gain per PRB, |H(t, f_k)|^2,
with H the frequency response of a tapped delay line (TR 38.901 7.7.2, Tables 7.7.2-1 to -5;
delays scaled by the delay spread as in 7.7.3)::

    H(t, f) = sum_l sqrt(P_l) g_l(t) exp(-j 2 pi f tau_l),      sum_l P_l = 1

Each Rayleigh tap g_l(t) is a sum of ``n_sinusoids`` unit phasors with random phases and Doppler
frequencies f_D cos(alpha_n), alpha_n uniform (Clarke's model, Jakes' spectrum; sum-of-sinusoids
after Patzold); the LOS tap of TDL-D/E adds a specular ray (K factor of the table) at
f_D cos(45 deg). Time is counted in Doppler cycles (t f_D), so one bank serves every speed: a user
moving at v reads it at position t v fc / c, from its own random start (independent users and
receive branches; a caller may also shift a user's PRB columns). The sinusoid frequencies are rounded to whole
periods of the bank, so reading past its end wraps without a jump.

Power gains are normalised to a mean of exactly 1 over the bank, so the fading never changes
the mean SINR the coverage map computes. Limits (documented, not hidden): one gain per PRB (the
centre subcarrier), a single-antenna tap per branch (branches are independent, no spatial
correlation), interference is not faded (its mean power is used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from cellscape._validate import check_range
from cellscape.errors import InvalidChoiceError

SPEC = "3GPP TR 38.901 V18"

SPEED_OF_LIGHT_M_S = 299_792_458.0


@dataclass(frozen=True)
class TdlProfile:
    """A TR 38.901 TDL profile: normalised delays (multiply by the delay spread), tap powers [dB],
    and the K factor of the first tap [dB] (None: every tap Rayleigh)."""

    name: str
    normalized_delays: tuple[float, ...]
    powers_db: tuple[float, ...]
    k_factor_db: float | None
    source: str


TDL_PROFILES: dict[str, TdlProfile] = {
    "TDL-A": TdlProfile("TDL-A", (
        0.0000, 0.3819, 0.4025, 0.5868, 0.4610, 0.5375, 0.6708, 0.5750, 0.7618, 1.5375, 1.8978, 2.2242, 2.1718,
        2.4942, 2.5119, 3.0582, 4.0810, 4.4579, 4.5695, 4.7966, 5.0066, 5.3043, 9.6586), (
        -13.4, 0.0, -2.2, -4.0, -6.0, -8.2, -9.9, -10.5, -7.5, -15.9, -6.6, -16.7, -12.4, -15.2, -10.8, -11.3,
        -12.7, -16.2, -18.3, -18.9, -16.6, -19.9, -29.7), None, f"{SPEC} Table 7.7.2-1"),
    "TDL-B": TdlProfile("TDL-B", (
        0.0000, 0.1072, 0.2155, 0.2095, 0.2870, 0.2986, 0.3752, 0.5055, 0.3681, 0.3697, 0.5700, 0.5283, 1.1021,
        1.2756, 1.5474, 1.7842, 2.0169, 2.8294, 3.0219, 3.6187, 4.1067, 4.2790, 4.7834), (
        0.0, -2.2, -4.0, -3.2, -9.8, -1.2, -3.4, -5.2, -7.6, -3.0, -8.9, -9.0, -4.8, -5.7, -7.5, -1.9, -7.6,
        -12.2, -9.8, -11.4, -14.9, -9.2, -11.3), None, f"{SPEC} Table 7.7.2-2"),
    "TDL-C": TdlProfile("TDL-C", (
        0.0000, 0.2099, 0.2219, 0.2329, 0.2176, 0.6366, 0.6448, 0.6560, 0.6584, 0.7935, 0.8213, 0.9336, 1.2285,
        1.3083, 2.1704, 2.7105, 4.2589, 4.6003, 5.4902, 5.6077, 6.3065, 6.6374, 7.0427, 8.6523), (
        -4.4, -1.2, -3.5, -5.2, -2.5, 0.0, -2.2, -3.9, -7.4, -7.1, -10.7, -11.1, -5.1, -6.8, -8.7, -13.2, -13.9,
        -13.9, -15.8, -17.1, -16.0, -15.7, -21.6, -22.8), None, f"{SPEC} Table 7.7.2-3"),
    # TDL-D/E: the first row is the Rayleigh part of tap 1; its specular LOS ray has K times its power
    "TDL-D": TdlProfile("TDL-D", (
        0.0, 0.035, 0.612, 1.363, 1.405, 1.804, 2.596, 1.775, 4.042, 7.937, 9.424, 12.525), (
        -13.5, -18.8, -21.0, -22.8, -17.9, -20.1, -21.9, -22.9, -27.8, -23.6, -24.8, -27.7), 13.3,
        f"{SPEC} Table 7.7.2-4"),
    "TDL-E": TdlProfile("TDL-E", (
        0.0, 0.5133, 0.5440, 0.5630, 0.5440, 0.7112, 1.9092, 1.9293, 1.9589, 2.6426, 3.7136, 5.4524, 12.0034,
        20.6519), (
        -22.03, -15.8, -18.1, -19.8, -22.9, -22.4, -18.6, -20.8, -22.6, -22.3, -25.6, -20.2, -29.8, -29.2), 22.0,
        f"{SPEC} Table 7.7.2-5"),
}
"""The five TDL profiles of TR 38.901 7.7.2 (TDL-A/B/C NLOS, TDL-D/E LOS)."""

LOS_ARRIVAL_COS = math.cos(math.radians(45.0))
"""Doppler of the specular ray as a fraction of f_D (arrival at 45 deg to the motion)."""


@dataclass(frozen=True)
class FadingBank:
    """Per-PRB fast-fading power gains over time, one set per profile.

    ``prb``: (n_profiles, n_samples, n_cols) float32, unit mean; ``rbg``: (n_profiles, n_samples,
    n_cols // rbg_size) float32, the mean over each RBG's PRBs (what a wideband-per-RBG CSI report
    sees); sample i is the channel at i x ``cycles_per_sample`` Doppler cycles; column k the PRB
    at k x 12 SCS above the first. ``profiles`` names the first axis."""

    prb: np.ndarray
    rbg: np.ndarray
    cycles_per_sample: float
    rbg_size: int
    profiles: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        return int(self.prb.shape[1])


def tdl_taps(profile: str, delay_spread_ns: float) -> tuple[np.ndarray, np.ndarray, float]:
    """
    Delays [s] and linear powers (summing to 1 with the specular ray) of the taps of ``profile``
    scaled to ``delay_spread_ns`` (TR 38.901 7.7.3), and the linear power of the specular ray
    of tap 1 (0 for NLOS profiles).

    Examples
    --------
    >>> d, p, los = tdl_taps("TDL-D", 100.0)
    >>> round(float(p.sum() + los), 12), round(10 * math.log10(los / p[0]), 1)
    (1.0, 13.3)
    """
    if profile not in TDL_PROFILES:
        raise InvalidChoiceError(f"profile={profile!r} is not one of {', '.join(TDL_PROFILES)} ({SPEC} 7.7.2)")
    check_range("delay_spread_ns", delay_spread_ns, 0.0, 10_000.0, source=f"{SPEC} Table 7.7.3-1")
    t = TDL_PROFILES[profile]
    delays_s = np.asarray(t.normalized_delays) * delay_spread_ns * 1e-9
    p = 10.0 ** (np.asarray(t.powers_db) / 10.0)
    los = 0.0 if t.k_factor_db is None else float(p[0] * 10.0 ** (t.k_factor_db / 10.0))
    total = p.sum() + los
    return delays_s, p / total, los / total


def build_fading_bank(*, scs_khz: float, n_cols: int, rbg_size: int, delay_spread_ns: float,
                      profiles: tuple[str, ...] = ("TDL-C", "TDL-D"), n_samples: int = 4096,
                      cycles_per_sample: float = 0.02, n_sinusoids: int = 16,
                      rng: np.random.Generator | None = None) -> FadingBank:
    """
    Build the trace bank (module docstring) for the PRB grid of ``scs_khz``.

    Parameters
    ----------
    scs_khz : float
        Subcarrier spacing; PRB k sits at k x 12 x scs. [kHz]
    n_cols : int
        PRB columns (the carrier's PRBs, plus the largest shift a caller gives a user); a multiple of
        ``rbg_size``.
    rbg_size : int
        PRBs per RBG, for the RBG-mean bank.
    delay_spread_ns : float
        RMS delay spread the normalised delays are scaled to (TR 38.901 Table 7.7.3-1: 10 to
        1000 ns). [ns]
    profiles : tuple of str
        One bank per profile; the simulator uses (NLOS, LOS).
    n_samples : int, default 4096
        Time samples (the bank repeats after n_samples x cycles_per_sample Doppler cycles).
    cycles_per_sample : float, default 0.02
        Doppler cycles between samples (50 samples per cycle: a slot never skips a fade).
    n_sinusoids : int, default 16
        Sinusoids per Rayleigh tap.
    rng : numpy.random.Generator, optional
        Source of the phases and angles (default: seeded with 0).

    Returns
    -------
    FadingBank
    """
    check_range("n_cols", n_cols, 1, 4096, source="fading bank")
    check_range("rbg_size", rbg_size, 1, 275, source="TS 38.214 Table 5.1.2.2.1-1")
    if n_cols % rbg_size:
        raise InvalidChoiceError(f"n_cols={n_cols} is not a multiple of rbg_size={rbg_size}")
    check_range("n_samples", n_samples, 16, 1 << 22, source="fading bank")
    check_range("cycles_per_sample", cycles_per_sample, 1e-4, 0.25, source="fading bank")
    rng = np.random.default_rng(0) if rng is None else rng
    period_cycles = n_samples * cycles_per_sample
    t_cycles = np.arange(n_samples) * cycles_per_sample
    f_hz = np.arange(n_cols) * 12.0 * scs_khz * 1e3
    prb = np.empty((len(profiles), n_samples, n_cols), dtype=np.float32)
    for i, name in enumerate(profiles):
        delays_s, p, los = tdl_taps(name, delay_spread_ns)
        n_taps = delays_s.size
        # Rayleigh taps: sum of sinusoids, Doppler frequencies rounded to whole bank periods
        nu = np.cos(rng.uniform(0.0, 2.0 * np.pi, (n_taps, n_sinusoids)))
        nu = np.round(nu * period_cycles) / period_cycles
        phase = rng.uniform(0.0, 2.0 * np.pi, (n_taps, n_sinusoids))
        g = np.exp(1j * (2.0 * np.pi * t_cycles[:, None, None] * nu[None] + phase[None])).sum(axis=2)
        g /= math.sqrt(n_sinusoids)                                       # (n_samples, n_taps), E|g|^2 = 1
        steer = np.sqrt(p)[:, None] * np.exp(-2j * np.pi * delays_s[:, None] * f_hz[None, :])   # (n_taps, n_cols)
        h = g @ steer
        if los > 0.0:
            nu_los = np.round(LOS_ARRIVAL_COS * period_cycles) / period_cycles
            h += math.sqrt(los) * np.exp(1j * (2.0 * np.pi * nu_los * t_cycles + rng.uniform(0, 2 * np.pi)))[:, None]
        gain = np.abs(h) ** 2
        prb[i] = gain / gain.mean()
    rbg = prb.reshape(len(profiles), n_samples, n_cols // rbg_size, rbg_size).mean(axis=3, dtype=np.float64)
    return FadingBank(prb=prb, rbg=rbg.astype(np.float32), cycles_per_sample=float(cycles_per_sample),
                      rbg_size=int(rbg_size), profiles=tuple(profiles))


@numba.njit(cache=True)
def sample_index(pos_cycles, offset_cycles, cycles_per_sample, n_samples):
    """Bank sample a user reads at Doppler position ``pos_cycles`` from its start ``offset_cycles``:
    floor((pos + offset) / cycles_per_sample) mod n_samples.

    >>> sample_index(1.0, 0.5, 0.02, 64)
    11
    """
    i = int(math.floor((pos_cycles + offset_cycles) / cycles_per_sample))
    return i % n_samples


def doppler_hz(speed_m_s, fc_ghz):
    """Maximum Doppler frequency f_D = v fc / c [Hz].

    >>> round(float(doppler_hz(3 / 3.6, 3.5)), 2)
    9.73
    """
    return np.asarray(speed_m_s, dtype=float) * np.asarray(fc_ghz, dtype=float) * 1e9 / SPEED_OF_LIGHT_M_S


__all__ = ["TDL_PROFILES", "FadingBank", "TdlProfile", "build_fading_bank", "doppler_hz", "sample_index", "tdl_taps"]
