"""The edge where files are read and written: scenario YAML, site files, maps, reports.

Only this layer (and the CLI) touches files; it translates foreign names to glossary names and
writes every output atomically (:mod:`cellscape.io.atomic`).
"""

from cellscape.io.scenario_yaml import load_scenario
from cellscape.io.sites_file import read_sites, write_sites

__all__ = ["load_scenario", "read_sites", "write_sites"]
