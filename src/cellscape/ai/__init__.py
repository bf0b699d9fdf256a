"""AI for the radio network: per-cell load histories and forecasting, energy-saving policies, RL environment.

- :mod:`cellscape.ai.loadgen`: a documented generator of per-cell load histories (daily and weekly
  profiles of business, residential and transport cells, holidays, noise, a sudden demand shift);
- :mod:`cellscape.ai.forecast`: per-cell load forecasting, the seasonal-naive baseline and the
  accuracy measures (MAE, MAPE) used on held-out days (docs/forecast.md);
- :mod:`cellscape.ai.power_model`: the base-station power model of 3GPP TR 38.864 (states, sleep
  transitions) and :mod:`cellscape.ai.energy`: sleep policies and energy accounting (docs/energy.md);
- :mod:`cellscape.ai.flow`: the flow-level (snapshot) network model both share with
- :class:`NetworkEnv` (:mod:`cellscape.ai.env`): the Gymnasium environment (docs/ai_env.md).
"""

from __future__ import annotations


def __getattr__(name: str):
    """``cellscape.ai.NetworkEnv`` without importing gymnasium for every ``import cellscape.ai``."""
    if name == "NetworkEnv":
        from cellscape.ai.env import NetworkEnv

        return NetworkEnv
    raise AttributeError(f"module 'cellscape.ai' has no attribute {name!r}")


__all__ = ["NetworkEnv"]
