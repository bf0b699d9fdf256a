"""Radar link budget of an OFDM sensing link: the radar equation, processing gain, SNR, resolutions.

The echo of a point target follows the bistatic radar equation (Skolnik, *Radar Handbook*, 3rd ed.,
ch. 23; Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., ch. 2):

    P_r = P_t G_t G_r lambda^2 sigma / ((4 pi)^3 R_t^2 R_r^2),

monostatic when R_t = R_r = R. 3GPP TR 38.901 V19.4.0 7.9.4.1 (eq. 7.9.4-14) writes the same echo for
any pair of segment path losses: the target channel is scaled by
10^(-(PL_tx + PL_rx + SF_tx + SF_rx)/20) sqrt(4 pi sigma_M / lambda^2), i.e. the coupling loss of
Table 7.9.6.1-1

    L = PL(d1) + PL(d2) + 10 lg(c^2 / (4 pi f^2)) - 10 lg(sigma) + SF1 + SF2   [dB],

which, with free-space PL(d) = 20 lg(4 pi d / lambda), is exactly the radar equation. Powers in dBm,
gains in dBi, losses in dB, RCS in dBsm (dB relative to 1 m^2), lengths in m. All functions broadcast.
"""

from __future__ import annotations

import numpy as np

from cellscape._validate import check_range
from cellscape.propagation.free_space import free_space_path_loss_db
from cellscape.radio.link_budget import noise_per_re_dbm
from cellscape.radio.nr import numerology, symbols_per_second
from cellscape.units import SPEED_OF_LIGHT_M_S, wavelength_m

SPEC = "3GPP TR 38.901 V19.4.0"
_TARGET_CHANNEL = f"{SPEC} 7.9.4.1 eq. 7.9.4-14 and Table 7.9.6.1-1"
_TINY = np.nextafter(0.0, 1.0)


def _positive(name, value, source):
    return check_range(name, value, _TINY, np.inf, source=source)


def target_coupling_loss_db(path_loss_tx_db, path_loss_rx_db, rcs_dbsm, fc_ghz, *,
                            shadow_fading_tx_db=0.0, shadow_fading_rx_db=0.0):
    r"""
    Coupling loss of the two-segment target path STX -> target -> SRX, antennas excluded.

    Parameters
    ----------
    path_loss_tx_db : array_like
        Path loss of the STX -> target segment (e.g. a TR 38.901 path loss). [dB]
    path_loss_rx_db : array_like
        Path loss of the target -> SRX segment; for monostatic sensing the same as
        ``path_loss_tx_db``. [dB]
    rcs_dbsm : array_like
        Radar cross-section of the target, 10 lg(sigma / 1 m^2). [dBsm]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    shadow_fading_tx_db, shadow_fading_rx_db : array_like, default 0.0
        Shadow fading of each segment, positive = extra loss. [dB]

    Returns
    -------
    coupling_loss_db : ndarray
        L = PL_tx + PL_rx + 10 lg(lambda^2 / (4 pi)) - 10 lg(sigma) + SF_tx + SF_rx, broadcast
        shape of the inputs; positive = loss. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If ``fc_ghz`` is not positive.

    Notes
    -----
    The term 10 lg(4 pi / lambda^2) is the gain of an isotropic scatterer of area sigma: it turns
    the product of two one-way losses (each holding a 1/lambda^2 of the receiving aperture) into
    the radar equation. TR 38.901 does not bound this combination beyond the validity ranges of the
    path-loss models it is fed with (far field of the target assumed).

    References
    ----------
    .. [1] 3GPP TR 38.901 V19.4.0, 7.9.4.1 Step 15 (eq. 7.9.4-14) and Table 7.9.6.1-1
       ("Coupling loss for target channel").

    Examples
    --------
    Two 80 dB segments at 3.5 GHz and a 1 m^2 target: 80 + 80 - 32.34 - 0 = 127.66 dB.

    >>> round(float(target_coupling_loss_db(80.0, 80.0, 0.0, 3.5)), 2)
    127.66
    """
    lam = wavelength_m(_positive("fc_ghz", fc_ghz, _TARGET_CHANNEL))
    aperture_db = 10.0 * np.log10(lam ** 2 / (4.0 * np.pi))       # 10 lg(c^2 / (4 pi f^2))
    return (np.asarray(path_loss_tx_db, dtype=float) + path_loss_rx_db + aperture_db - rcs_dbsm
            + shadow_fading_tx_db + shadow_fading_rx_db)


def echo_power_dbm(tx_power_dbm, tx_gain_dbi, rx_gain_dbi, coupling_loss_db):
    """
    Received echo power: P_t + G_t + G_r - L, with L from :func:`target_coupling_loss_db`.

    Parameters
    ----------
    tx_power_dbm : array_like
        Transmit power (total, or per resource element for a per-RE echo). [dBm]
    tx_gain_dbi, rx_gain_dbi : array_like
        Antenna gains towards the target of the STX and the SRX. [dBi]
    coupling_loss_db : array_like
        Target-path coupling loss. [dB]

    Returns
    -------
    echo_power_dbm : ndarray
        Broadcast shape of the inputs. [dBm]

    Examples
    --------
    >>> float(echo_power_dbm(46.0, 8.0, 8.0, 150.0))
    -88.0
    """
    return np.asarray(tx_power_dbm, dtype=float) + tx_gain_dbi + rx_gain_dbi - coupling_loss_db


def bistatic_echo_power_dbm(tx_power_dbm, tx_gain_dbi, rx_gain_dbi, rcs_dbsm, tx_range_m, rx_range_m, fc_ghz):
    r"""
    Free-space bistatic radar equation for a point target, in dB.

    Parameters
    ----------
    tx_power_dbm : array_like
        Transmit power. [dBm]
    tx_gain_dbi, rx_gain_dbi : array_like
        Antenna gains towards the target. [dBi]
    rcs_dbsm : array_like
        Bistatic RCS of the target. [dBsm]
    tx_range_m, rx_range_m : array_like
        Distances STX -> target (R_t) and target -> SRX (R_r), > 0 (far field). [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]

    Returns
    -------
    echo_power_dbm : ndarray
        10 lg(P_t G_t G_r lambda^2 sigma / ((4 pi)^3 R_t^2 R_r^2)), broadcast shape. [dBm]

    Raises
    ------
    OutOfValidityRangeError
        If a range or the frequency is not positive.

    Notes
    -----
    Written as :func:`echo_power_dbm` of :func:`target_coupling_loss_db` with free-space segment
    losses, so one formula serves the free-space and the TR 38.901 cases.

    References
    ----------
    .. [1] M. I. Skolnik, *Radar Handbook*, 3rd ed., McGraw-Hill, 2008, ch. 23 (bistatic radar
       equation).
    .. [2] 3GPP TR 38.901 V19.4.0, eq. 7.9.4-14.

    Examples
    --------
    >>> round(float(bistatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, 200.0, 300.0, 3.5)), 2)
    -87.88
    """
    pl_tx_db = free_space_path_loss_db(tx_range_m, fc_ghz)
    pl_rx_db = free_space_path_loss_db(rx_range_m, fc_ghz)
    loss_db = target_coupling_loss_db(pl_tx_db, pl_rx_db, rcs_dbsm, fc_ghz)
    return echo_power_dbm(tx_power_dbm, tx_gain_dbi, rx_gain_dbi, loss_db)


def monostatic_echo_power_dbm(tx_power_dbm, tx_gain_dbi, rx_gain_dbi, rcs_dbsm, range_m, fc_ghz):
    """
    Free-space monostatic radar equation, P_t G_t G_r lambda^2 sigma / ((4 pi)^3 R^4), in dB.

    Parameters
    ----------
    tx_power_dbm : array_like
        Transmit power. [dBm]
    tx_gain_dbi, rx_gain_dbi : array_like
        Antenna gains towards the target. [dBi]
    rcs_dbsm : array_like
        Monostatic RCS. [dBsm]
    range_m : array_like
        Radar-target distance, > 0. [m]
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]

    Returns
    -------
    echo_power_dbm : ndarray
        Broadcast shape of the inputs. [dBm]

    Raises
    ------
    OutOfValidityRangeError
        If the range or the frequency is not positive.

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., McGraw-Hill, 2014,
       ch. 2 (the radar range equation).

    Examples
    --------
    3.5 GHz, 46 dBm, 8 dBi each way, 1 m^2 at 200 m:

    >>> round(float(monostatic_echo_power_dbm(46.0, 8.0, 8.0, 0.0, 200.0, 3.5)), 2)
    -84.36
    """
    return bistatic_echo_power_dbm(tx_power_dbm, tx_gain_dbi, rx_gain_dbi, rcs_dbsm, range_m, range_m, fc_ghz)


def bistatic_angle_deg(tx_range_m, rx_range_m, baseline_m):
    """
    Bistatic angle beta at the target, from the triangle STX-target-SRX (law of cosines).

    Parameters
    ----------
    tx_range_m, rx_range_m : array_like
        Distances STX -> target and target -> SRX, > 0. [m]
    baseline_m : array_like
        Distance STX -> SRX, >= 0 (0: monostatic). [m]

    Returns
    -------
    bistatic_angle_deg : ndarray
        beta in [0, 180], 0 for monostatic. [deg]

    Raises
    ------
    OutOfValidityRangeError
        If a range is not positive or the baseline is negative.

    Examples
    --------
    >>> float(bistatic_angle_deg(100.0, 100.0, 0.0)), round(float(bistatic_angle_deg(100.0, 100.0, 100.0)), 6)
    (0.0, 60.0)
    """
    rt = _positive("tx_range_m", tx_range_m, "the bistatic triangle")
    rr = _positive("rx_range_m", rx_range_m, "the bistatic triangle")
    base = check_range("baseline_m", baseline_m, 0.0, np.inf, source="the bistatic triangle")
    cos_beta = (rt ** 2 + rr ** 2 - base ** 2) / (2.0 * rt * rr)
    return np.degrees(np.arccos(np.clip(cos_beta, -1.0, 1.0)))


def ofdm_processing_gain_db(n_subcarriers, n_symbols=1):
    """
    Coherent-integration gain of an OFDM radar over a block of resource elements, 10 lg(N_sc N_sym).

    Parameters
    ----------
    n_subcarriers : array_like
        Subcarriers N_sc used for sensing, >= 1 (12 per PRB).
    n_symbols : array_like, default 1
        OFDM symbols N_sym in the coherent processing interval, >= 1.

    Returns
    -------
    processing_gain_db : ndarray
        Broadcast shape of the inputs. [dB]

    Raises
    ------
    OutOfValidityRangeError
        If a count is below 1.

    Notes
    -----
    The range-Doppler periodogram (an FFT over subcarriers and one over symbols) adds the echo of
    a point target coherently over the N_sc N_sym resource elements and the noise incoherently,
    so the SNR after processing is N_sc N_sym times the SNR per resource element (ideal: no
    windowing loss, the target within one range-Doppler cell).

    References
    ----------
    .. [1] M. Braun, *OFDM Radar Algorithms in Mobile Communication Networks*, PhD thesis, KIT,
       2014, ch. 3 (processing gain of the OFDM periodogram).

    Examples
    --------
    273 PRBs (3276 subcarriers) over 14 symbols:

    >>> round(float(ofdm_processing_gain_db(3276, 14)), 2)
    46.61
    """
    src = "OFDM processing gain (counts >= 1)"
    n_sc = check_range("n_subcarriers", n_subcarriers, 1.0, np.inf, source=src)
    n_sym = check_range("n_symbols", n_symbols, 1.0, np.inf, source=src)
    return 10.0 * np.log10(n_sc * n_sym)


def sensing_snr_db(echo_power_per_re_dbm, processing_gain_db, scs_khz, noise_figure_db):
    """
    SNR of the echo after OFDM processing: P_r,RE + G_proc - N_RE.

    Parameters
    ----------
    echo_power_per_re_dbm : array_like
        Echo power in one resource element (one subcarrier, one symbol): e.g.
        :func:`echo_power_dbm` of the power per RE
        (:func:`cellscape.radio.link_budget.tx_power_per_re_dbm`). [dBm]
    processing_gain_db : array_like
        :func:`ofdm_processing_gain_db` of the resources given to sensing. [dB]
    scs_khz : array_like
        Subcarrier spacing, the noise bandwidth of one RE. [kHz]
    noise_figure_db : array_like
        Noise figure of the sensing receiver. [dB]

    Returns
    -------
    snr_db : ndarray
        Broadcast shape of the inputs. [dB]

    Notes
    -----
    The noise per RE is -174 dBm/Hz + 10 lg(Delta f) + NF
    (:func:`cellscape.radio.link_budget.noise_per_re_dbm`, one formula for communication and
    sensing). No clutter, self-interference or interference from other cells is included.

    Examples
    --------
    -140 + 46.61 - (-174 + 44.77 + 5) = 30.84 dB:

    >>> round(float(sensing_snr_db(-140.0, 46.61, 30.0, 5.0)), 2)
    30.84
    """
    return np.asarray(echo_power_per_re_dbm, dtype=float) + processing_gain_db - noise_per_re_dbm(
        scs_khz, noise_figure_db)


def range_resolution_m(bandwidth_hz, *, bistatic_angle_deg=0.0):
    """
    Range resolution of a radar of bandwidth B: c / (2 B) monostatic, c / (2 B cos(beta/2)) bistatic.

    Parameters
    ----------
    bandwidth_hz : array_like
        Occupied (sensing) bandwidth, > 0; for an NR carrier 12 N_RB Delta f is the exact figure,
        the channel bandwidth a rounded one. [Hz]
    bistatic_angle_deg : array_like, default 0.0
        Bistatic angle beta in [0, 180); 0 is monostatic. [deg]

    Returns
    -------
    range_resolution_m : ndarray
        Monostatic: resolution in range; bistatic: in the bistatic range (R_t + R_r) / 2 measured
        along the bisector. [m]

    Raises
    ------
    OutOfValidityRangeError
        If the bandwidth is not positive or beta is outside [0, 180) (forward scattering has no
        range resolution).

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., 2014, sec. 1.4.
    .. [2] N. J. Willis, *Bistatic Radar*, 2nd ed., SciTech, 2005, ch. 8 (range resolution
       c / (2 B cos(beta/2))).

    Examples
    --------
    >>> round(float(range_resolution_m(100e6)), 4), round(float(range_resolution_m(400e6)), 4)
    (1.499, 0.3747)
    """
    b = _positive("bandwidth_hz", bandwidth_hz, "range resolution c/(2B)")
    beta = check_range("bistatic_angle_deg", bistatic_angle_deg, 0.0, np.nextafter(180.0, 0.0),
                       source="bistatic range resolution c/(2B cos(beta/2))")
    return SPEED_OF_LIGHT_M_S / (2.0 * b * np.cos(np.radians(beta) / 2.0))


def coherent_processing_interval_s(n_symbols, scs_khz):
    """
    Duration of N_sym OFDM symbols with normal cyclic prefix: N_sym / (14 2^mu per ms).

    Parameters
    ----------
    n_symbols : array_like
        Symbols in the coherent processing interval, >= 1.
    scs_khz : float
        Subcarrier spacing, one of TS 38.211 Table 4.2-1. [kHz]

    Returns
    -------
    cpi_s : ndarray
        [s]

    Examples
    --------
    One slot (14 symbols) at 30 kHz lasts 0.5 ms:

    >>> float(coherent_processing_interval_s(14, 30))
    0.0005
    """
    n_sym = check_range("n_symbols", n_symbols, 1.0, np.inf, source="coherent processing interval")
    return n_sym / symbols_per_second(scs_khz)


def velocity_resolution_m_s(fc_ghz, cpi_s):
    """
    Radial-velocity resolution lambda / (2 T_cpi) of a coherent processing interval T_cpi.

    Parameters
    ----------
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    cpi_s : array_like
        Coherent processing interval, > 0 (:func:`coherent_processing_interval_s`). [s]

    Returns
    -------
    velocity_resolution_m_s : ndarray
        Monostatic radial velocity (Doppler resolution 1/T_cpi). [m/s]

    Raises
    ------
    OutOfValidityRangeError
        If the frequency or the interval is not positive.

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed., 2014, ch. 2 and 5
       (Doppler shift 2 v / lambda, Doppler resolution 1 / T).

    Examples
    --------
    3.5 GHz over 10 ms: lambda = 85.65 mm, so 4.28 m/s.

    >>> round(float(velocity_resolution_m_s(3.5, 0.01)), 3)
    4.283
    """
    t = _positive("cpi_s", cpi_s, "velocity resolution lambda/(2T)")
    return wavelength_m(_positive("fc_ghz", fc_ghz, "velocity resolution lambda/(2T)")) / (2.0 * t)


def max_unambiguous_range_m(scs_khz):
    """
    Largest unambiguous monostatic range of an OFDM radar, c / (2 Delta f).

    Parameters
    ----------
    scs_khz : array_like
        Spacing of the subcarriers that carry the sensing signal, > 0 (a comb of every k-th
        subcarrier: k times the SCS). [kHz]

    Returns
    -------
    max_range_m : ndarray
        The delay 1 / Delta f is the period of the range profile. [m]

    Raises
    ------
    OutOfValidityRangeError
        If the spacing is not positive.

    Notes
    -----
    The cyclic prefix (TS 38.211 5.3.1: 144 kappa 2^-mu T_c, 4.7 us at 15 kHz) bounds the range
    at which echoes stay free of inter-symbol interference far below this figure: c T_CP / 2 is
    703 m at 15 kHz; callers that need it compute it from the numerology.

    References
    ----------
    .. [1] M. Braun, *OFDM Radar Algorithms in Mobile Communication Networks*, KIT, 2014, ch. 3.
    .. [2] 3GPP TS 38.211 V17, 4.2 (Delta f = 2^mu 15 kHz).

    Examples
    --------
    >>> round(float(max_unambiguous_range_m(30.0)), 1), round(float(max_unambiguous_range_m(120.0)), 1)
    (4996.5, 1249.1)
    """
    df_hz = _positive("scs_khz", scs_khz, "unambiguous range c/(2 Delta f)") * 1e3
    return SPEED_OF_LIGHT_M_S / (2.0 * df_hz)


def ofdm_symbol_duration_s(scs_khz) -> float:
    """
    Average OFDM symbol duration with normal cyclic prefix, T_sym = 1 ms / (14 2^mu).

    Parameters
    ----------
    scs_khz : float
        Subcarrier spacing, one of TS 38.211 Table 4.2-1. [kHz]

    Returns
    -------
    symbol_duration_s : float
        (N_u + N_CP) T_c averaged over a 0.5 ms half-subframe: N_u = 2048 kappa 2^-mu and
        N_CP = 144 kappa 2^-mu (+16 kappa for one symbol per 0.5 ms). [s]

    Raises
    ------
    InvalidChoiceError
        If ``scs_khz`` is not an NR subcarrier spacing.

    References
    ----------
    .. [1] 3GPP TS 38.211 V17, 4.2 (numerologies) and 5.3.1 (OFDM baseband signal generation:
       N_u, N_CP,l, T_c = 1 / (480e3 4096) s, kappa = 64).

    Examples
    --------
    >>> round(ofdm_symbol_duration_s(30) * 1e6, 3)
    35.714
    """
    numerology(scs_khz)                     # validates the spacing (InvalidChoiceError)
    return 1.0 / symbols_per_second(scs_khz)


def max_unambiguous_velocity_m_s(fc_ghz, scs_khz):
    """
    Largest unambiguous monostatic radial velocity, +/- lambda / (4 T_sym), one sample per symbol.

    Parameters
    ----------
    fc_ghz : array_like
        Carrier frequency, > 0. [GHz]
    scs_khz : float
        Subcarrier spacing, one of TS 38.211 Table 4.2-1 (sets T_sym with its cyclic prefix). [kHz]

    Returns
    -------
    max_velocity_m_s : ndarray
        Velocities in (-v_max, v_max) are unambiguous; the Doppler sampling rate is 1 / T_sym. [m/s]

    Raises
    ------
    OutOfValidityRangeError
        If the frequency is not positive.
    InvalidChoiceError
        If ``scs_khz`` is not an NR subcarrier spacing.

    References
    ----------
    .. [1] 3GPP TS 38.211 V17, 4.2 and 5.3.1 (symbol duration incl. cyclic prefix).
    .. [2] M. Braun, *OFDM Radar Algorithms in Mobile Communication Networks*, KIT, 2014, ch. 3.

    Examples
    --------
    >>> round(float(max_unambiguous_velocity_m_s(3.5, 30)), 1)
    599.6
    """
    lam = wavelength_m(_positive("fc_ghz", fc_ghz, "unambiguous velocity lambda/(4 T_sym)"))
    return lam / (4.0 * ofdm_symbol_duration_s(scs_khz))


__all__ = [
    "SPEC", "bistatic_angle_deg", "bistatic_echo_power_dbm",
    "coherent_processing_interval_s", "echo_power_dbm", "max_unambiguous_range_m",
    "max_unambiguous_velocity_m_s", "monostatic_echo_power_dbm", "ofdm_processing_gain_db",
    "ofdm_symbol_duration_s", "range_resolution_m", "sensing_snr_db", "target_coupling_loss_db",
    "velocity_resolution_m_s",
]
