"""Test-wide settings.

Property tests (hypothesis) draw new examples on every run on a developer's machine, to keep finding
corner cases; under CI (the ``CI`` environment variable, set by ``.ci/run``'s caller) they are
derandomised, so that a build's result depends on the code alone. A failure found locally is stored
in ``.hypothesis/`` and replayed first next time.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
