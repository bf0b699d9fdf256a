"""One orchestrator per job, one module each; each reads top to bottom like the data flow (ARCHITECTURE.md).

- :mod:`.coverage`: ``cellscape run`` (maps and KPIs), ``validate``, ``candidates``;
- :mod:`.plan`: ``cellscape plan`` (site selection, rollout, tuning, fibre);
- :mod:`.simulate`: ``cellscape simulate`` (system-level simulation).

No file is written here: ``cellscape.io`` writes results.
"""

from cellscape.pipeline.coverage import (
    CoverageRun,
    check_scenario,
    load_footprints,
    localize,
    rooftop_candidates,
    run_coverage,
)
from cellscape.pipeline.plan import Candidates, PlanError, PlanRun, default_phase_budget, plan_candidates, plan_grid, run_plan
from cellscape.pipeline.simulate import SimulationRun, run_simulate, simulation_grid

__all__ = [
    "CoverageRun", "check_scenario", "load_footprints", "localize", "rooftop_candidates", "run_coverage",
    "Candidates", "PlanError", "PlanRun", "default_phase_budget", "plan_candidates", "plan_grid", "run_plan",
    "SimulationRun", "run_simulate", "simulation_grid",
]
