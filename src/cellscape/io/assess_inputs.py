"""Inputs of ``cellscape assess`` (docs/resilience.md): the scenario, the ``assess:`` block, a plan's
backhaul and the demand raster.

The scenario model refuses unknown top-level keys, so the ``assess:`` block cannot sit in the
scenario file: it lives in its own small YAML file (``--assess FILE``, holding ``assess:`` and
optionally ``name``); without one the defaults apply (N-1 and N-2, self-healing of the three worst,
no jammer, no rogue cell). With ``--plan FOLDER`` (a ``cellscape plan`` output) the network assessed
is the plan's (its ``scenario.json``: the chosen sites on the planning grid) and its fibre comes
from ``plan.geojson``: trench edges (LineStrings, layer ``fiber``), the sites (layer ``site``) and
the data centres (layer ``data_center``), joined by their coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json
import os
from pathlib import Path

import numpy as np

from cellscape.errors import DataFileError, ScenarioError
from cellscape.io.scenario_yaml import load_scenario, read_scenario_mapping
from cellscape.resilience.outage import Backhaul
from cellscape.scenario.records import Scenario
from cellscape.scenario.resilience import Assess, parse_assess

NODE_DECIMALS = 7
"""Plan coordinates (WGS 84 degrees) equal after rounding to 1e-7 deg (~1 cm) are one fibre node."""


@dataclass(frozen=True)
class AssessInputs:
    """What ``cellscape assess`` runs on: the ``scenario`` (the plan's network with ``--plan``), the
    ``assess`` block, the plan's ``backhaul`` (or None) and where the network came from (``source``)."""

    scenario: Scenario
    assess: Assess
    backhaul: Backhaul | None
    source: str


def read_assess_file(path: str | os.PathLike | None) -> Assess:
    """The ``assess:`` block of an assess file (None: the defaults); ``demand_raster`` resolved
    relative to the file.

    Raises
    ------
    ScenarioError
        On an unknown top-level key or an invalid field (its path, then ``(in FILE)``).
    """
    if path is None:
        return parse_assess(None)
    path = Path(path)
    data = read_scenario_mapping(path)
    unknown = sorted(set(data) - {"name", "assess"})
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown key in an assess file (allowed: name, assess) (in {path})")
    block = data.get("assess")
    if isinstance(block, Mapping) and isinstance(block.get("demand_raster"), str):
        raster = Path(block["demand_raster"])
        block = {**block, "demand_raster": str(raster if raster.is_absolute() else (path.parent / raster).resolve())}
    try:
        return parse_assess({"assess": block})
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in {path})") from None


def _node(coords) -> tuple[float, float]:
    return (round(float(coords[0]), NODE_DECIMALS), round(float(coords[1]), NODE_DECIMALS))


def read_plan_backhaul(plan_dir: str | os.PathLike) -> Backhaul:
    """The fibre of a plan folder's ``plan.geojson`` (module docstring).

    Raises
    ------
    DataFileError
        If the folder has no readable ``plan.geojson``.
    """
    path = Path(plan_dir) / "plan.geojson"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"{path}: not found; --plan takes a folder written by `cellscape plan`") from None
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read the plan ({exc})") from None
    sites, dcs, edges, ring = {}, {}, [], []
    for f in doc.get("features", []):
        p = f.get("properties", {})
        g = f.get("geometry", {})
        layer = p.get("layer")
        if layer == "site":
            sites[str(p["site_id"])] = _node(g["coordinates"])
        elif layer == "data_center":
            dcs[str(p["name"])] = _node(g["coordinates"])
        elif layer == "fiber":
            a, b = g["coordinates"][0], g["coordinates"][-1]
            edges.append((_node(a), _node(b), float(p.get("length_m", 0.0))))
            ring.append(bool(p.get("ring_extra", False)))
    return Backhaul(edges=tuple(edges), ring=tuple(ring), site_nodes=sites, data_centers=dcs)


def load_assess(scenario_path: str | os.PathLike, *, assess_path: str | os.PathLike | None = None,
                plan_dir: str | os.PathLike | None = None) -> AssessInputs:
    """Read everything ``cellscape assess`` needs (module docstring)."""
    from cellscape.io.coverage_outputs import read_scenario_json

    scenario = load_scenario(scenario_path)
    source = str(scenario_path)
    backhaul = None
    if plan_dir is not None:
        plan_scenario = Path(plan_dir) / "scenario.json"
        if not plan_scenario.is_file():
            raise DataFileError(f"{plan_scenario}: not found; --plan takes a folder written by `cellscape plan`")
        scenario = read_scenario_json(plan_scenario)
        source = f"{plan_scenario} (the plan's network)"
        backhaul = read_plan_backhaul(plan_dir)
    return AssessInputs(scenario=scenario, assess=read_assess_file(assess_path), backhaul=backhaul, source=source)


def demand_raster_on(assess: Assess, grid) -> np.ndarray | None:
    """Users per pixel of the assess block's ``demand_raster`` on ``grid`` (None without one)."""
    if assess.demand_raster is None:
        return None
    from cellscape.io.demand import read_demand_raster

    return read_demand_raster(assess.demand_raster, grid)


__all__ = ["AssessInputs", "demand_raster_on", "load_assess", "read_assess_file", "read_plan_backhaul"]
