"""Probability of detection of a point target in white Gaussian noise, one coherent look.

A square-law (or envelope) detector compares the output of one range-Doppler cell with a threshold
T set for a false-alarm probability Pfa = exp(-T) (T in units of the noise power). The SNR is the
SNR of that look after coherent integration (:func:`cellscape.sensing.radar.sensing_snr_db`).

- Swerling 0 (non-fluctuating target): Pd = Q_1(sqrt(2 SNR), sqrt(-2 ln Pfa)), Marcum's Q function,
  evaluated as the survival function of a non-central chi-square with 2 degrees of freedom.
- Swerling 1 (Rayleigh amplitude, exponential power, constant over the look): Pd = Pfa^(1/(1+SNR)).

References: M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., McGraw-Hill, 2014,
ch. 6 (threshold detection; single-sample Pd of non-fluctuating and Swerling 1 targets);
W. J. Albersheim, "A closed-form approximation to Robertson's detection characteristics,"
Proc. IEEE 69(7):839, 1981; D. W. Tufts and A. J. Cann, "On Albersheim's detection equation,"
IEEE Trans. AES 19(4):643-646, 1983 (its accuracy).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import optimize, stats

from cellscape._validate import check_choice, check_range
from cellscape.errors import OutOfValidityRangeError

TargetModel = Literal["swerling0", "swerling1"]
TARGET_MODELS: tuple[str, ...] = ("swerling0", "swerling1")

_OPEN_UNIT = (np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
_SOURCE = "threshold detection (Richards 2014, ch. 6)"


def _pfa(pfa):
    return check_range("pfa", pfa, *_OPEN_UNIT, source=_SOURCE)


def swerling0_detection_probability(snr_db, pfa):
    """
    Pd of a non-fluctuating (Swerling 0) target in one coherent look.

    Parameters
    ----------
    snr_db : array_like
        SNR of the look after coherent integration. [dB]
    pfa : array_like
        False-alarm probability per cell, in (0, 1).

    Returns
    -------
    detection_probability : ndarray
        Q_1(sqrt(2 SNR), sqrt(-2 ln Pfa)), broadcast shape of the inputs; Pfa at SNR -> 0.

    Raises
    ------
    OutOfValidityRangeError
        If ``pfa`` is outside (0, 1).

    Notes
    -----
    With complex Gaussian noise of unit power and a signal of power SNR, 2|y|^2 is non-central
    chi-square with 2 degrees of freedom and non-centrality 2 SNR; the threshold is 2 T with
    T = -ln Pfa. ``scipy.stats.ncx2.sf`` evaluates the tail (Marcum's Q_1) accurately into the
    1e-10 range.

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., 2014, ch. 6
       (non-fluctuating target, Marcum Q function).

    Examples
    --------
    >>> round(float(swerling0_detection_probability(13.2, 1e-6)), 3)
    0.902
    """
    p = _pfa(pfa)
    snr = 10.0 ** (np.asarray(snr_db, dtype=float) / 10.0)
    return stats.ncx2.sf(-2.0 * np.log(p), 2.0, 2.0 * snr)


def swerling1_detection_probability(snr_db, pfa):
    """
    Pd of a Swerling 1 target (exponentially distributed echo power) in one look: Pfa^(1/(1+SNR)).

    Parameters
    ----------
    snr_db : array_like
        Mean SNR of the look after coherent integration. [dB]
    pfa : array_like
        False-alarm probability per cell, in (0, 1).

    Returns
    -------
    detection_probability : ndarray
        Broadcast shape of the inputs.

    Raises
    ------
    OutOfValidityRangeError
        If ``pfa`` is outside (0, 1).

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., 2014, ch. 6
       (Swerling 1, single sample: P_D = P_FA^(1/(1+chi))).

    Examples
    --------
    >>> round(float(swerling1_detection_probability(21.14, 1e-6)), 3)
    0.9
    """
    p = _pfa(pfa)
    snr = 10.0 ** (np.asarray(snr_db, dtype=float) / 10.0)
    return p ** (1.0 / (1.0 + snr))


def detection_probability(snr_db, pfa, *, model: TargetModel = "swerling1"):
    """
    Pd of one look for the named target model (see the two functions it dispatches to).

    Parameters
    ----------
    snr_db : array_like
        SNR after coherent integration. [dB]
    pfa : array_like
        False-alarm probability, in (0, 1).
    model : {'swerling0', 'swerling1'}, default 'swerling1'
        Target fluctuation model.

    Returns
    -------
    detection_probability : ndarray

    Raises
    ------
    InvalidChoiceError
        If ``model`` is not one of the models.
    OutOfValidityRangeError
        If ``pfa`` is outside (0, 1).

    Examples
    --------
    >>> round(float(detection_probability(13.2, 1e-6, model="swerling0")), 3)
    0.902
    """
    check_choice("model", model, TARGET_MODELS)
    if model == "swerling0":
        return swerling0_detection_probability(snr_db, pfa)
    return swerling1_detection_probability(snr_db, pfa)


def required_snr_db(pd, pfa, *, model: TargetModel = "swerling1"):
    """
    SNR of one look that gives detection probability ``pd`` at false-alarm probability ``pfa``.

    Parameters
    ----------
    pd : array_like
        Required detection probability, in (pfa, 1).
    pfa : array_like
        False-alarm probability, in (0, 1).
    model : {'swerling0', 'swerling1'}, default 'swerling1'
        Target fluctuation model.

    Returns
    -------
    snr_db : ndarray
        Broadcast shape of ``pd`` and ``pfa``. [dB]

    Raises
    ------
    InvalidChoiceError
        If ``model`` is not one of the models.
    OutOfValidityRangeError
        If ``pfa`` is outside (0, 1), ``pd`` outside (0, 1), or ``pd <= pfa`` (no positive SNR
        reaches it).

    Notes
    -----
    Swerling 1 inverts in closed form, SNR = ln Pfa / ln Pd - 1. Swerling 0 is solved with Brent's
    method on the SNR in dB between -40 and 60 dB (Pd is monotone in SNR); the result is exact to
    about 1e-9 dB.

    Examples
    --------
    >>> round(float(required_snr_db(0.9, 1e-6, model="swerling0")), 2)
    13.18
    >>> round(float(required_snr_db(0.9, 1e-6, model="swerling1")), 2)
    21.14
    """
    check_choice("model", model, TARGET_MODELS)
    p_fa = _pfa(pfa)
    p_d = check_range("pd", pd, *_OPEN_UNIT, source=_SOURCE)
    p_d, p_fa = np.broadcast_arrays(p_d, p_fa)
    bad = p_d <= p_fa
    if np.any(bad):
        raise OutOfValidityRangeError(
            f"pd={p_d[bad].flat[0]:g} is not above pfa={p_fa[bad].flat[0]:g}: detection needs pd > pfa "
            f"({_SOURCE}; {np.count_nonzero(bad)} of {p_d.size} values)")
    if model == "swerling1":
        return 10.0 * np.log10(np.log(p_fa) / np.log(p_d) - 1.0)

    def solve(pd_i, pfa_i):
        if np.isnan(pd_i) or np.isnan(pfa_i):
            return np.nan
        return optimize.brentq(lambda s: float(swerling0_detection_probability(s, pfa_i)) - pd_i,
                               -40.0, 60.0, xtol=1e-12)

    return np.vectorize(solve, otypes=[float])(p_d, p_fa)


def albersheim_snr_db(pd, pfa, *, n_pulses=1):
    """
    Albersheim's closed-form approximation of the SNR per pulse a non-fluctuating target needs.

    Parameters
    ----------
    pd : array_like
        Detection probability; the stated accuracy holds for 0.1 <= pd <= 0.9.
    pfa : array_like
        False-alarm probability; the stated accuracy holds for 1e-7 <= pfa <= 1e-3.
    n_pulses : array_like, default 1
        Pulses N integrated non-coherently (linear detector), 1 to 8096.

    Returns
    -------
    snr_db : ndarray
        SNR per pulse, -5 lg N + (6.2 + 4.54 / sqrt(N + 0.44)) lg(A + 0.12 A B + 1.7 B) with
        A = ln(0.62 / Pfa), B = ln(Pd / (1 - Pd)). [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``pd`` or ``pfa`` is outside (0, 1) or ``n_pulses`` outside [1, 8096].

    Notes
    -----
    For N = 1 the formula approximates the single-look Swerling 0 SNR of
    :func:`required_snr_db` (Robertson's curves); the 0.2 dB accuracy usually quoted for
    1e-7 <= Pfa <= 1e-3, 0.1 <= Pd <= 0.9 holds at N = 1 only for Pd >= 0.4 (checked against the
    exact Marcum Q in tests/sensing/test_detection.py): at Pd = 0.1 it is 0.75 dB low at
    Pfa = 1e-7 and 4.1 dB low at Pfa = 1e-3. It is kept for cross-checks only. The often-quoted short form
    ``A + 0.12 A B + 1.7 B`` is the *linear* SNR for N = 1 only approximately: the N = 1 exponent
    is 6.2 + 4.54 / sqrt(1.44) = 9.98, not 10.

    References
    ----------
    .. [1] W. J. Albersheim, "A closed-form approximation to Robertson's detection
       characteristics," Proc. IEEE, 69(7), p. 839, 1981.
    .. [2] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., 2014, ch. 6.

    Examples
    --------
    >>> round(float(albersheim_snr_db(0.9, 1e-6)), 2)
    13.11
    """
    p_d = check_range("pd", pd, *_OPEN_UNIT, source="Albersheim (1981)")
    p_fa = check_range("pfa", pfa, *_OPEN_UNIT, source="Albersheim (1981)")
    n = check_range("n_pulses", n_pulses, 1.0, 8096.0, source="Albersheim (1981)")
    a = np.log(0.62 / p_fa)
    b = np.log(p_d / (1.0 - p_d))
    return -5.0 * np.log10(n) + (6.2 + 4.54 / np.sqrt(n + 0.44)) * np.log10(a + 0.12 * a * b + 1.7 * b)
