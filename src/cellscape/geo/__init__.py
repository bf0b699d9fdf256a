"""cellscape.geo: where things are.

- :mod:`cellscape.geo.grid`: raster grids in a local metric CRS, tiling under a memory budget;
- :mod:`cellscape.geo.buildings`: building footprints and heights (OSM via pyrosm, or any vector
  file), the indoor mask and indoor distance of map pixels.

Import the submodules directly; this package imports nothing, so that ``import cellscape.geo.grid``
stays cheap (geopandas is loaded only with :mod:`cellscape.geo.buildings`).
"""
