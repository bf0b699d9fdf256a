"""Offered traffic of the system-level simulator: arrivals per user, one block of slots at a time.

Models (per user, per direction; ``TrafficSpec`` of cellscape.scenario.simulation):

* ``full_buffer``: the user always has data (3GPP full-buffer evaluations, TR 36.814 A.2.1.1);
* ``ftp3``: FTP model 3 (3GPP TR 36.889 Annex A.1 / TR 38.913 eMBB evaluation practice, as used in
  R1-1700144-style NR evaluations): files of ``file_size_bytes`` (0.5 MB in 3GPP practice)
  arriving as a Poisson process of ``arrival_rate_per_s`` per user;
* ``urllc``: small packets (``packet_size_bytes``, 32 B in TR 38.913 7.9's URLLC reliability
  evaluation) at ``arrival_rate_per_s``, Poisson or strictly periodic (``periodic: true``);
* ``periodic``: a ``packet_size_bytes`` report every ``period_s`` (IoT metering), each user with
  its own random phase.

Arrivals of a block are returned as compressed rows (CSR, ordered by user then slot), ``end[u]``
the end of user u's rows, which is what the slot loop reads. Draws come from a generator keyed by
(seed, block, direction), so a run is a pure function of its seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_NONE, MODEL_FULL, MODEL_POISSON, MODEL_PERIODIC = 0, 1, 2, 3


@dataclass(frozen=True)
class TrafficArrays:
    """Per-user traffic of one direction: ``model`` (MODEL_* codes), ``bits`` per packet or file,
    ``rate_per_s`` (Poisson), ``period_slots`` and ``phase_slots`` (periodic)."""

    model: np.ndarray
    bits: np.ndarray
    rate_per_s: np.ndarray
    period_slots: np.ndarray
    phase_slots: np.ndarray

    @property
    def full_buffer(self) -> np.ndarray:
        return self.model == MODEL_FULL


def traffic_arrays(specs, direction: str, slot_s: float, rng: np.random.Generator) -> TrafficArrays:
    """Per-user arrays of ``direction`` ('dl' or 'ul') from one ``TrafficSpec`` per user."""
    n = len(specs)
    model = np.zeros(n, dtype=np.int64)
    bits = np.zeros(n)
    rate = np.zeros(n)
    period = np.ones(n, dtype=np.int64)
    for i, t in enumerate(specs):
        if t.direction not in (direction, "both"):
            continue
        if t.model == "full_buffer":
            model[i] = MODEL_FULL
        elif t.model == "ftp3":
            model[i], bits[i], rate[i] = MODEL_POISSON, 8.0 * t.file_size_bytes, t.arrival_rate_per_s
        elif t.model == "urllc" and not t.periodic:
            model[i], bits[i], rate[i] = MODEL_POISSON, 8.0 * t.packet_size_bytes, t.arrival_rate_per_s
        else:
            p_s = 1.0 / t.arrival_rate_per_s if t.model == "urllc" else t.period_s
            model[i], bits[i] = MODEL_PERIODIC, 8.0 * t.packet_size_bytes
            period[i] = max(1, int(round(p_s / slot_s)))
    phase = (rng.random(n) * period).astype(np.int64)
    return TrafficArrays(model=model, bits=bits, rate_per_s=rate, period_slots=period, phase_slots=phase)


def block_arrivals(traffic: TrafficArrays, t0: int, n_slots: int, slot_s: float, *, seed: int, block: int,
                   direction: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrivals in slots [t0, t0 + n_slots) as CSR rows: (end (n_users,) int64, slot (k,) int64,
    bits (k,) float64), rows ordered by user then slot.

    Examples
    --------
    >>> t = TrafficArrays(np.array([3, 1]), np.array([256.0, 0.0]), np.zeros(2), np.array([4, 1]), np.array([1, 0]))
    >>> end, slot, bits = block_arrivals(t, 0, 10, 5e-4, seed=0, block=0, direction=0)
    >>> end.tolist(), slot.tolist()
    ([3, 3], [1, 5, 9])
    """
    n = traffic.model.size
    rng = np.random.default_rng([int(seed), int(block), int(direction), 0x7AFF1C])
    counts = np.zeros(n, dtype=np.int64)
    pois = traffic.model == MODEL_POISSON
    counts[pois] = rng.poisson(traffic.rate_per_s[pois] * n_slots * slot_s)
    per = traffic.model == MODEL_PERIODIC
    p, ph = traffic.period_slots, traffic.phase_slots
    first = np.where(per, ph + np.maximum(0, -(-(t0 - ph) // p)) * p, 0)
    counts[per] = np.maximum(0, -(-(t0 + n_slots - first[per]) // p[per]))
    users = np.repeat(np.arange(n), counts)
    k = users.size
    slot = np.empty(k, dtype=np.int64)
    is_pois = pois[users]
    slot[is_pois] = t0 + np.floor(rng.random(int(is_pois.sum())) * n_slots).astype(np.int64)
    if (~is_pois).any():
        u = users[~is_pois]
        start = np.concatenate([[0], np.cumsum(counts)])[u]
        rank = np.flatnonzero(~is_pois) - start
        slot[~is_pois] = first[u] + rank * p[u]
    order = np.lexsort((slot, users))
    return np.cumsum(counts), slot[order], traffic.bits[users[order]]


__all__ = ["MODEL_FULL", "MODEL_NONE", "MODEL_PERIODIC", "MODEL_POISSON", "TrafficArrays", "block_arrivals",
           "traffic_arrays"]
