"""Resilience and security (issue 15, ``cellscape assess``, docs/resilience.md): what breaks and what
an attacker can do, from the map engine's per-sector maps, without a propagation rerun.

- :mod:`cellscape.resilience.outage`: N-1 / N-k site outages, backhaul (fibre route, data centre)
  outages of a plan, and self-healing by the neighbours' tilt and power (the planning tuner);
- :mod:`cellscape.resilience.jamming`: jammers -> downlink and uplink SINR degradation, area denied;
- :mod:`cellscape.resilience.rogue`: fake base stations -> the area where devices would camp on them;
- :mod:`cellscape.resilience.anomaly`: KPI anomaly detection on per-cell time series, with injected
  outages, jamming and surges and its precision/recall (``cellscape anomalies``, docs/anomaly.md).
"""
