"""cellscape: plan and simulate 5G/6G radio networks.

TR 38.901 propagation, antenna patterns, link budgets and georeferenced coverage maps, from a
validated scenario file to GeoTIFF maps and KPIs.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
