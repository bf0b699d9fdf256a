"""3-D city scenes to footprints and heights: synthetic Mitsuba/PLY scenes, and the real sionna-rt cities."""

import importlib.util
from pathlib import Path
import warnings

import numpy as np
import pytest
import shapely

from cellscape.errors import DataFileError, GeometryError
from cellscape.geo.buildings import GeometryRepairWarning
from cellscape.geo.scenes import (SIONNA_SCENES, SceneMesh, buildings_from_meshes, is_ground, load_sionna_buildings,
                                  read_mitsuba_scene, scene_crs, sionna_scene_path)

plyfile = pytest.importorskip("plyfile")

CRS = "EPSG:32632"


def box_mesh(x0, y0, x1, y1, z0, z1):
    """A closed box: 8 vertices, 12 triangles (walls, roof and floor)."""
    v = np.array([[x, y, z] for z in (z0, z1) for (x, y) in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], float)
    f = [[0, 1, 5], [0, 5, 4], [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7],
         [4, 5, 6], [4, 6, 7], [0, 2, 1], [0, 3, 2]]
    return v, np.array(f)


def write_ply(path, vertices, faces):
    vert = np.array([tuple(v) for v in vertices], dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")])
    face = np.array([(list(f),) for f in faces], dtype=[("vertex_indices", "i4", (3,))])
    plyfile.PlyData([plyfile.PlyElement.describe(vert, "vertex"), plyfile.PlyElement.describe(face, "face")]).write(str(path))


def write_scene(folder: Path, meshes: dict, extra_shapes: str = "") -> Path:
    (folder / "meshes").mkdir(parents=True, exist_ok=True)
    shapes = []
    for name, (v, f) in meshes.items():
        write_ply(folder / "meshes" / f"{name}.ply", v, f)
        shapes.append(f'<shape type="ply" id="mesh-{name}"><string name="filename" value="meshes/{name}.ply"/>'
                      f'<ref id="concrete" name="bsdf"/></shape>')
    xml = folder / "scene.xml"
    xml.write_text('<scene version="2.1.0"><bsdf type="itu-radio-material" id="concrete"/>'
                   + "".join(shapes) + extra_shapes + "</scene>")
    return xml


def test_ground_and_two_buildings_split_into_wall_and_roof_meshes(tmp_path):
    ground = (np.array([[-100, -100, 0], [200, -100, 0], [200, 200, 0], [-100, 200, 0]], float),
              np.array([[0, 1, 2], [0, 2, 3]]))
    a_v, a_f = box_mesh(0, 0, 10, 20, 0, 15)
    b_v, b_f = box_mesh(50, 50, 55, 55, 0, 30)
    xml = write_scene(tmp_path, {"ground": ground, "Tower-itu_marble": (a_v, a_f[:8]),      # walls only
                                 "Tower-itu_metal": (a_v, a_f[8:10]),                        # the roof
                                 "Kiosk-wall": (b_v, b_f)})
    meshes = read_mitsuba_scene(xml)
    assert [m.shape_id for m in meshes][:2] == ["mesh-ground", "mesh-Tower-itu_marble"]
    assert is_ground(meshes[0]) and meshes[1].material == "concrete"
    b = buildings_from_meshes(meshes, crs=CRS)
    b = b.sort_values("name").reset_index(drop=True)
    assert b["name"].tolist() == ["Kiosk", "Tower"]
    assert b.geometry.area.tolist() == pytest.approx([25.0, 200.0], rel=1e-6)
    assert b["height_m"].tolist() == pytest.approx([30.0, 15.0])
    assert b.attrs["n_ground"] == 1 and b.attrs["n_meshes"] == 4


def test_building_on_raised_ground_reports_height_above_its_base(tmp_path):
    v, f = box_mesh(0, 0, 10, 10, 40.0, 52.0)
    b = buildings_from_meshes([SceneMesh("mesh-Hill_house", "", v, f)], crs=CRS)
    assert b["height_m"].iloc[0] == pytest.approx(12.0) and b["base_z_m"].iloc[0] == pytest.approx(40.0)


def test_l_shaped_roof_keeps_its_shape_and_two_separate_boxes_become_two_buildings():
    # an L of two touching boxes in one mesh, and a separate box in the same mesh
    v1, f1 = box_mesh(0, 0, 20, 10, 0, 12)
    v2, f2 = box_mesh(0, 10, 10, 30, 0, 12)
    v3, f3 = box_mesh(100, 0, 110, 10, 0, 9)
    v = np.vstack([v1, v2, v3])
    f = np.vstack([f1, f2 + 8, f3 + 16])
    b = buildings_from_meshes([SceneMesh("mesh-Block", "", v, f)], crs=CRS)
    assert len(b) == 2                       # the L (touching along a face) is one part; the far box another
    areas = sorted(b.geometry.area.tolist())
    assert areas == pytest.approx([100.0, 400.0], rel=1e-6)
    ell = b.geometry.iloc[int(np.argmax(b.geometry.area))]
    assert ell.area < shapely.convex_hull(ell).area - 50     # an L, not its hull


def test_fragments_are_dropped_with_a_counting_warning():
    v, f = box_mesh(0, 0, 10, 10, 0, 20)
    tiny_v, tiny_f = box_mesh(50, 50, 51, 51, 0, 3)
    with pytest.warns(GeometryRepairWarning, match=r"dropped 1 of 2 mesh part\(s\) of scene .*smaller than 4 m\^2"):
        b = buildings_from_meshes([SceneMesh("mesh-A", "", v, f), SceneMesh("mesh-Bollard", "", tiny_v, tiny_f)],
                                  crs=CRS)
    assert b["name"].tolist() == ["A"] and b.attrs["n_dropped_small"] == 1
    with pytest.raises(GeometryError, match="no buildings in scene"):
        buildings_from_meshes([SceneMesh("mesh-ground", "", v, f)], crs=CRS)


def test_missing_mesh_and_non_ply_shapes(tmp_path):
    xml = write_scene(tmp_path, {"A": box_mesh(0, 0, 5, 5, 0, 5)}, extra_shapes='<shape type="sphere" id="s"/>')
    with pytest.warns(UserWarning, match="skipped 1 non-PLY shape"):
        assert len(read_mitsuba_scene(xml)) == 1
    (tmp_path / "meshes" / "A.ply").unlink()
    with pytest.raises(DataFileError, match=r"mesh .*A\.ply does not exist"):
        read_mitsuba_scene(xml)
    with pytest.raises(DataFileError, match="scene file .*nope.xml does not exist"):
        read_mitsuba_scene(tmp_path / "nope.xml")


def test_unknown_scene_lists_the_available_ones():
    with pytest.raises(DataFileError, match="(no city scene 'atlantis'; available: 'munich')|(needs the sionna-rt package)"):
        sionna_scene_path("atlantis")


needs_scenes = pytest.mark.skipif(importlib.util.find_spec("sionna") is None,
                                  reason="sionna-rt (its scene files) is not installed; make test installs it")


@needs_scenes
@pytest.mark.parametrize(("city", "n_min", "n_max", "landmark_m"), [
    ("munich", 1190, 1220, 98.6),      # Frauenkirche towers: 98.57 m / 99 m
    ("florence", 1320, 1345, 114.5),   # Duomo, Brunelleschi's dome with the lantern: 114.5 m
])
def test_real_scenes_import_with_plausible_buildings(city, n_min, n_max, landmark_m):
    with pytest.warns(GeometryRepairWarning, match="dropped"):
        b = load_sionna_buildings(city)
    assert n_min <= len(b) <= n_max
    assert b["height_m"].between(1.0, 300.0).all()
    assert b["height_m"].max() == pytest.approx(landmark_m, abs=1.0)
    assert 0.3e6 < b.geometry.area.sum() < 1.0e6                       # roughly half of ~1 km^2 built up
    assert b.crs.equals(scene_crs(*SIONNA_SCENES[city]))


def test_colour_suffix_joins_the_building_and_transforms_are_refused(tmp_path):
    v, f = box_mesh(0, 0, 10, 10, 0, 64)
    b = buildings_from_meshes([SceneMesh("mesh-Coit_Tower-e0e0e0", "", v, f[:8]),
                               SceneMesh("mesh-Coit_Tower-roof", "", v, f[8:10])], crs=CRS)
    assert b["name"].tolist() == ["Coit_Tower"] and b["height_m"].iloc[0] == pytest.approx(64.0)
    floor = SceneMesh("mesh-floor", "", *box_mesh(-50, -50, 50, 50, 0, 0.0))
    assert is_ground(floor)
    xml = write_scene(tmp_path, {"A": box_mesh(0, 0, 5, 5, 0, 5)})
    xml.write_text(xml.read_text().replace('<ref id="concrete" name="bsdf"/>',
                                           '<ref id="concrete" name="bsdf"/><transform name="to_world"/>'))
    with pytest.raises(DataFileError, match="has a <transform>, which this reader does not apply"):
        read_mitsuba_scene(xml)


def test_terrain_from_a_tilted_ground_mesh():
    from cellscape.geo.scenes import terrain_from_meshes

    # a ground plane rising 0.1 m per m eastwards, 200 m x 100 m, as two triangles
    v = np.array([[0, 0, 0.0], [200, 0, 20.0], [200, 100, 20.0], [0, 100, 0.0]])
    ground = SceneMesh("mesh-Terrain", "mat-terrain", v, np.array([[0, 1, 2], [0, 2, 3]]))
    t = terrain_from_meshes([ground, SceneMesh("mesh-A", "", *box_mesh(0, 0, 5, 5, 0, 5))], crs=CRS, resolution_m=5.0)
    assert t.elevation_m.shape == (20, 40)
    assert t.sample_m([52.5, 150.0], [50.0, 20.0], crs=CRS) == pytest.approx([5.25, 15.0], abs=1e-4)
    with pytest.raises(GeometryError, match="has no ground mesh"):
        terrain_from_meshes([SceneMesh("mesh-A", "", *box_mesh(0, 0, 5, 5, 0, 5))], crs=CRS)


@needs_scenes
def test_san_francisco_buildings_stand_on_its_terrain():
    from cellscape.geo.scenes import load_sionna_terrain

    t = load_sionna_terrain("san_francisco").filled()
    assert np.nanmax(t.elevation_m) - np.nanmin(t.elevation_m) > 90.0          # Telegraph Hill
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairWarning)        # fragments dropped, if any
        b = load_sionna_buildings("san_francisco")
    foot = b.geometry.representative_point()
    gap = b["base_z_m"].to_numpy() - t.sample_m(foot.x.to_numpy(), foot.y.to_numpy(), crs=t.crs)
    assert abs(np.median(gap)) < 0.5 and np.percentile(np.abs(gap), 90) < 3.0
