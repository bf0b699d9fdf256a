"""The local web map of a run folder (``cellscape serve``): a FastAPI app and its static page.

An edge layer (ARCHITECTURE.md): it reads what ``cellscape run`` / ``cellscape plan`` wrote, calls
the core for a point's link budget (:mod:`cellscape.coverage.point`), and turns records into JSON.
Nothing here downloads: the page's MapLibre GL JS ships in ``static/vendor/`` (``make venv``).
"""
