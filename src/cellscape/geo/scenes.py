"""Building footprints and heights from 3-D city scenes (Mitsuba XML + PLY meshes).

The ``sionna-rt`` wheel (PyPI) ships real city scenes for ray tracing in ``sionna/rt/scenes/<city>/``:
Munich, Florence, Paris-Etoile and San Francisco, each about 1-2 km across, as a Mitsuba 3 scene file
naming one binary PLY mesh per building part. This module reads those files directly (XML with the
standard library, PLY with ``plyfile``; neither sionna nor mitsuba is imported) and turns the meshes
into what the coverage engine uses: a footprint polygon and a height per building.

Conventions found in the scenes (checked on all four): z is up, x and y are metres in a local frame;
each building is one to three meshes named ``<building>-itu_<material>``, ``<building>-roof`` and
``<building>-wall`` (walls and roof in separate files; once a hex colour, ``Coit_Tower-e0e0e0``); the
ground is one mesh named ``ground``, ``Plane`` or ``Terrain`` (San Francisco's has ~100 m of relief,
which :func:`load_sionna_terrain` turns into a DEM: ``terrain: {source: "sionna:san_francisco"}``;
buildings keep their heights above their own foot and stand on it).

Method, per building (the meshes sharing a name once the material/roof/wall suffix is dropped):

1. vertices of its meshes merged to 1 mm, faces split into connected parts (a name can hold several
   separate buildings);
2. the footprint of a part is the union of its faces projected on the ground (vertical wall faces
   project to nothing; roofs and overhangs give the outline, concave shapes and courtyards kept),
   repaired with ``shapely.make_valid``; a part with no projected area (walls only) takes the convex
   hull of its vertices, counted in ``attrs["n_hull_fallback"]``;
3. its base is the lowest vertex of the building (walls reach the ground, also on San Francisco's
   terrain), its height the part's highest vertex above that base (a spire that is a separate part
   still stands on its building).

Parts lower than ``min_height_m`` or smaller than ``min_area_m2`` (street furniture, roof fragments)
are dropped and counted in one :class:`~cellscape.geo.buildings.GeometryRepairWarning`.

The scenes carry no georeference. :data:`SIONNA_SCENES` places each one's local frame (x east, y
north, metres) in a local transverse Mercator CRS centred on an approximate point of its city, which
puts the map in the right UTM zone and near the right place; it is not a survey-grade alignment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
import importlib.util
from pathlib import Path
import re
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
import shapely

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.buildings import GeometryRepairWarning
from cellscape.geo.surface import Terrain
from cellscape.scenario.records import SIONNA_PREFIX

SIONNA_SCENES: dict[str, tuple[float, float]] = {
    "munich": (11.5763, 48.1380),          # Frauenkirche at scene (-210, 62), St. Peter at (-14, -165)
    "florence": (11.2544, 43.7734),        # the Duomo at scene (128, -28)
    "etoile": (2.2967, 48.8735),           # the Arc de Triomphe at scene (-127, 38)
    "san_francisco": (-122.4126, 37.8015), # North Beach / Telegraph Hill: Coit Tower, Saints Peter and Paul
}
"""City scenes of the sionna-rt wheel and the lon/lat [deg] their local origin is placed at: chosen so
that named landmarks of the scene (identified by mesh name and height: Frauenkirche 98.6 m, Duomo
114.5 m, Arc de Triomphe 50 m, Coit Tower 64 m) land on their map positions to within a few tens of
metres (a fit of the scene frame to landmark coordinates: z up, x east, y north, not mirrored, rotation
within 2 degrees).
Good enough for the UTM zone, the sun and a sanity check on a map; not a survey alignment."""

GROUND_NAMES = ("ground", "plane", "terrain", "floor")
"""Mesh names (lower case, after the mesh prefix) taken as ground, not buildings. By name, not by
material: the ground is ``concrete`` in three of the four cities, and so are some buildings (the
Arc de Triomphe)."""

_SUFFIX = re.compile(r"-(itu_[a-z_]+|roof|wall|walls|[0-9a-f]{6})$", re.IGNORECASE)
"""Per-part suffixes of a building's mesh names: material, roof/wall, or a hex colour (``Coit_Tower-e0e0e0``)."""


@dataclass(frozen=True)
class SceneMesh:
    """One mesh of a scene: ``shape_id``, the referenced material ``material``, ``vertices_m``
    (n, 3) float64 and triangle ``faces`` (m, 3) int64."""

    shape_id: str
    material: str
    vertices_m: np.ndarray
    faces: np.ndarray


def scene_crs(lon_deg: float, lat_deg: float) -> str:
    """A local transverse Mercator CRS (metres, x east, y north) centred on (lon, lat).

    >>> scene_crs(11.5755, 48.1374)
    '+proj=tmerc +lat_0=48.1374 +lon_0=11.5755 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs'
    """
    return (f"+proj=tmerc +lat_0={lat_deg:g} +lon_0={lon_deg:g} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 "
            f"+units=m +no_defs")


def _read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from plyfile import PlyData   # a small pure-python reader; only needed for scenes

    try:
        ply = PlyData.read(str(path))
        vertex = ply["vertex"]
        vertices = np.column_stack([np.asarray(vertex[k], dtype=np.float64) for k in ("x", "y", "z")])
        face = ply["face"]
        name = "vertex_indices" if "vertex_indices" in face.data.dtype.names else face.data.dtype.names[0]
        lists = face[name]
    except Exception as exc:   # plyfile raises several types for a damaged file
        raise DataFileError(f"cannot read mesh {path}: {type(exc).__name__}: {exc}") from None
    if len(lists) == 0:
        return vertices, np.zeros((0, 3), dtype=np.int64)
    lengths = np.fromiter((len(f) for f in lists), dtype=np.int64, count=len(lists))
    if np.all(lengths == 3):
        faces = np.vstack(lists).astype(np.int64)
    else:   # fan-triangulate polygons
        tris = [(f[0], f[k], f[k + 1]) for f in lists for k in range(1, len(f) - 1)]
        faces = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise DataFileError(f"mesh {path}: a face refers to a vertex that does not exist")
    return vertices, faces


def read_mitsuba_scene(xml_path) -> list[SceneMesh]:
    """The PLY meshes of a Mitsuba 3 scene file, with their material ids.

    Shapes of another type than ``ply`` (spheres, rectangles, OBJ files) are skipped and counted in
    one :class:`UserWarning`.

    Raises
    ------
    DataFileError
        If the XML or a PLY file it names is missing or unreadable.
    """
    xml_path = Path(xml_path)
    if not xml_path.is_file():
        raise DataFileError(f"scene file {xml_path} does not exist")
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        raise DataFileError(f"cannot read scene {xml_path}: {exc}") from None
    meshes, skipped = [], 0
    for shape in root.iter("shape"):
        if shape.get("type") != "ply":
            skipped += 1
            continue
        if shape.find("transform") is not None:
            raise DataFileError(f"scene {xml_path}: shape {shape.get('id')!r} has a <transform>, which this "
                                f"reader does not apply; bake it into the mesh")
        filename = next((s.get("value") for s in shape.findall("string") if s.get("name") == "filename"), None)
        if filename is None:
            raise DataFileError(f"scene {xml_path}: shape {shape.get('id')!r} names no filename")
        ref = shape.find("ref")
        bsdf = shape.find("bsdf")
        material = ref.get("id") if ref is not None else (bsdf.get("id") or "") if bsdf is not None else ""
        path = xml_path.parent / filename
        if not path.is_file():
            raise DataFileError(f"scene {xml_path}: mesh {path} does not exist")
        vertices, faces = _read_ply(path)
        meshes.append(SceneMesh(shape.get("id") or path.stem, material or "", vertices, faces))
    if skipped:
        warnings.warn(f"skipped {skipped} non-PLY shape(s) of {xml_path}", UserWarning, stacklevel=2)
    return meshes


def _building_name(shape_id: str) -> str:
    name = shape_id[len("mesh-"):] if shape_id.startswith("mesh-") else shape_id
    return _SUFFIX.sub("", name)


def is_ground(mesh: SceneMesh) -> bool:
    """A ground or terrain mesh (by name: :data:`GROUND_NAMES`)."""
    return _building_name(mesh.shape_id).lower() in GROUND_NAMES


def _parts(vertices: np.ndarray, faces: np.ndarray):
    """(vertices, faces) of each connected part, vertices merged to 1 mm first."""
    key = np.round(vertices * 1000.0).astype(np.int64)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    verts = np.empty((len(uniq), 3))
    verts[inverse] = vertices
    faces = inverse[faces]
    n = len(uniq)
    rows = np.concatenate([faces[:, 0], faces[:, 1]])
    cols = np.concatenate([faces[:, 1], faces[:, 2]])
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    n_comp, label = connected_components(graph, directed=False)
    face_label = label[faces[:, 0]]
    for k in range(n_comp):
        f = faces[face_label == k]
        if len(f):
            yield verts, f


def buildings_from_meshes(meshes, *, crs: str, min_height_m: float = 1.0, min_area_m2: float = 4.0,
                          source_name: str = "scene") -> gpd.GeoDataFrame:
    """Footprints and heights of the buildings of a list of :class:`SceneMesh` (method: module docstring).

    Parameters
    ----------
    meshes : list of SceneMesh
        Ground meshes (:func:`is_ground`) are left out.
    crs : str
        The CRS of the scene's local x/y metres.
    min_height_m, min_area_m2 : float
        Smaller parts are dropped (and counted). [m], [m^2]
    source_name : str
        For messages and ``attrs["source"]``.

    Returns
    -------
    GeoDataFrame
        ``name``, ``height_m`` (top above base), ``base_z_m`` (scene z of the lowest vertex) and the
        footprint ``geometry``; ``attrs``: ``n_meshes``, ``n_ground``, ``n_parts``,
        ``n_dropped_small``, ``n_hull_fallback``, ``source``.
    """
    groups: dict[str, list[SceneMesh]] = defaultdict(list)
    n_ground = 0
    for m in meshes:
        if is_ground(m):
            n_ground += 1
        elif len(m.faces):
            groups[_building_name(m.shape_id)].append(m)
    names, heights, bases, geoms = [], [], [], []
    n_parts = n_small = n_hull = 0
    for name, group in groups.items():
        offset = np.cumsum([0] + [len(m.vertices_m) for m in group])
        vertices = np.vstack([m.vertices_m for m in group])
        faces = np.vstack([m.faces + o for m, o in zip(group, offset[:-1])])
        base_z = float(vertices[np.unique(faces), 2].min())      # the building's foot, for all its parts
        for verts, f in _parts(vertices, faces):
            n_parts += 1
            used = np.unique(f)
            z = verts[used, 2]
            tri = verts[f][:, :, :2]                                               # (m, 3, 2)
            area2 = np.abs((tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
                           - (tri[:, 2, 0] - tri[:, 0, 0]) * (tri[:, 1, 1] - tri[:, 0, 1]))
            flat = tri[area2 > 1e-6]
            if len(flat):
                polys = shapely.polygons(np.concatenate([flat, flat[:, :1]], axis=1))
                footprint = shapely.make_valid(shapely.union_all(polys))
                footprint = shapely.union_all([p for p in shapely.get_parts(footprint)
                                               if shapely.get_type_id(p) in (3, 6)])
            else:
                footprint = shapely.convex_hull(shapely.multipoints(verts[used, :2]))
                n_hull += 1
            height = float(z.max() - base_z)
            if height < min_height_m or shapely.area(footprint) < min_area_m2 or shapely.is_empty(footprint):
                n_small += 1
                continue
            names.append(name)
            heights.append(height)
            bases.append(base_z)
            geoms.append(footprint)
    if n_small:
        warnings.warn(f"dropped {n_small} of {n_parts} mesh part(s) of {source_name} lower than {min_height_m:g} m "
                      f"or smaller than {min_area_m2:g} m^2 (fragments, not buildings)", GeometryRepairWarning,
                      stacklevel=2)
    if not geoms:
        raise GeometryError(f"no buildings in {source_name} ({len(meshes)} meshes, {n_ground} ground)")
    out = gpd.GeoDataFrame({"name": names, "height_m": heights, "base_z_m": bases}, geometry=geoms, crs=crs)
    out.attrs.update(n_meshes=len(meshes), n_ground=n_ground, n_parts=n_parts, n_dropped_small=n_small,
                     n_hull_fallback=n_hull, source=source_name)
    return out


def sionna_scene_path(name: str) -> Path:
    """The Mitsuba XML of a city scene in the installed sionna-rt package (not imported).

    Raises
    ------
    DataFileError
        If sionna-rt is not installed or has no such scene (the message lists the scenes).
    """
    spec = importlib.util.find_spec("sionna")
    folders = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    scenes = [Path(f) / "rt" / "scenes" for f in folders if (Path(f) / "rt" / "scenes").is_dir()]
    if not scenes:
        raise DataFileError(f"{SIONNA_PREFIX}{name} needs the sionna-rt package (pip install sionna-rt), which is not "
                            f"installed")
    path = scenes[0] / name / f"{name}.xml"
    if name not in SIONNA_SCENES or not path.is_file():
        listed = ", ".join(repr(s) for s in SIONNA_SCENES)
        raise DataFileError(f"sionna-rt has no city scene {name!r}; available: {listed}")
    return path


def load_sionna_buildings(name: str, **kw) -> gpd.GeoDataFrame:
    """Buildings of a sionna-rt city scene (``munich``, ``florence``, ``etoile``, ``san_francisco``)
    in its local transverse Mercator CRS (:data:`SIONNA_SCENES`); keywords as :func:`buildings_from_meshes`."""
    path = sionna_scene_path(name)
    lon, lat = SIONNA_SCENES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)           # skipped non-PLY shapes: none in these scenes
        meshes = read_mitsuba_scene(path)
    return buildings_from_meshes(meshes, crs=scene_crs(lon, lat), source_name=f"{SIONNA_PREFIX}{name}", **kw)


def terrain_from_meshes(meshes, *, crs: str, resolution_m: float = 5.0, source_name: str = "scene") -> Terrain:
    """A DEM from the ground meshes of a scene (:func:`is_ground`): the ground surface interpolated
    linearly over its vertices (Delaunay, ``scipy.interpolate.LinearNDInterpolator``) at the centres
    of a north-up grid of ``resolution_m`` over the ground's extent; cells outside the ground's hull
    are no-data.

    Raises
    ------
    GeometryError
        If the scene has no ground mesh.
    """
    from scipy.interpolate import LinearNDInterpolator

    ground = [m for m in meshes if is_ground(m) and len(m.vertices_m)]
    if not ground:
        raise GeometryError(f"{source_name} has no ground mesh (named one of {', '.join(GROUND_NAMES)})")
    v = np.vstack([m.vertices_m for m in ground])
    v = np.unique(np.round(v, 3), axis=0)
    x0, y0 = np.floor(v[:, :2].min(axis=0) / resolution_m) * resolution_m
    x1, y1 = np.ceil(v[:, :2].max(axis=0) / resolution_m) * resolution_m
    n_cols = max(2, int(round((x1 - x0) / resolution_m)))
    n_rows = max(2, int(round((y1 - y0) / resolution_m)))
    xs = x0 + (np.arange(n_cols) + 0.5) * resolution_m
    ys = y1 - (np.arange(n_rows) + 0.5) * resolution_m
    xx, yy = np.meshgrid(xs, ys)
    elevation = LinearNDInterpolator(v[:, :2], v[:, 2])(xx, yy).astype(np.float32)
    return Terrain(elevation, (resolution_m, 0.0, float(x0), 0.0, -resolution_m, float(y1)), crs, source_name)


def load_sionna_terrain(name: str, *, resolution_m: float = 5.0) -> Terrain:
    """The ground of a sionna-rt city scene as a :class:`~cellscape.geo.surface.Terrain` in its CRS
    (flat at z = 0 except San Francisco, ~100 m of relief)."""
    path = sionna_scene_path(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        meshes = read_mitsuba_scene(path)
    return terrain_from_meshes(meshes, crs=scene_crs(*SIONNA_SCENES[name]), resolution_m=resolution_m,
                               source_name=f"{SIONNA_PREFIX}{name}")
