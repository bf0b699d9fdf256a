"""cellscape.geo: where things are.

- :mod:`cellscape.geo.grid`: raster grids in a local metric CRS, tiling under a memory budget;
- :mod:`cellscape.geo.buildings`: building footprints and heights (OSM via pyrosm, or any vector
  file), the indoor mask and indoor distance of map pixels;
- :mod:`cellscape.geo.surface`: the height surface links are judged against (terrain + building
  heights on the map's pixels) and the :class:`~cellscape.geo.surface.Terrain` record of a DEM;
- :mod:`cellscape.geo.scenes`: building footprints and heights from 3-D city meshes (the PLY scenes
  of the sionna-rt wheel).

Site-specific line of sight over the surface lives in :mod:`cellscape.propagation.geometric_los`.

Import the submodules directly; this package imports nothing, so that ``import cellscape.geo.grid``
stays cheap (geopandas is loaded only with :mod:`cellscape.geo.buildings`).
"""
