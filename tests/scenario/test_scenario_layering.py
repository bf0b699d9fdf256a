"""cellscape.scenario imports only errors, units, _validate, numpy and pydantic (ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
import sys


def test_scenario_package_imports_no_io_yaml_or_projection_library():
    code = (
        "import sys\n"
        "import cellscape.scenario, cellscape.scenario.model, cellscape.scenario.defaults\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'pyproj', 'rasterio', 'shapely')"
        " or m.startswith(('cellscape.io', 'cellscape.geo', 'cellscape.radio', 'cellscape.coverage')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
