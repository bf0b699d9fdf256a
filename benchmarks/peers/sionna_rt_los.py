#!/usr/bin/env python3
"""Sionna RT peer (sionna-rt 2.2.0, Mitsuba 3.9 / Dr.Jit 1.5, LLVM CPU backend): line-of-sight-only radio map.

    [DRJIT_LIBLLVM_PATH=/path/to/libLLVM(>=16).so] benchmarks/.peer-venvs/sionna-rt/bin/python benchmarks/peers/sionna_rt_los.py \
        --scene munich --tx 40 -115 10 --tx 95 -90 28 --cell 2 --center 60 -100 --size 800 800 \
        --rx-height 1.5 --samples 2e8 --out benchmarks/out/sionna_rt_los.npz

How Sionna is driven (all Sionna's own code; only array bookkeeping is ours):
  * scene: ``sionna.rt.load_scene(sionna.rt.scene.munich)``; ``scene.frequency = --fc-ghz`` (only scales the
    free-space gain, not the visibility); ``scene.tx_array = PlanarArray(1, 1, pattern="iso",
    polarization="V")``; one ``Transmitter(name, position=[x, y, z])`` per ``--tx`` (scene metres, z up).
  * radio map: ``RadioMapSolver()(scene, center=[cx, cy, rx_h], orientation=[0, 0, 0], size=[sx, sy],
    cell_size=[c, c], samples_per_tx=N, max_depth=0, los=True, specular_reflection=False,
    diffuse_reflection=False, refraction=False, diffraction=False, edge_diffraction=False,
    rr_depth=-1)``. With max_depth=0 a ray launched from the transmitter either crosses the horizontal
    measurement rectangle before hitting any scene triangle (a LOS contribution to the cell it crosses) or
    dies at its first scene hit (``depth`` becomes 1 > max_depth).
  * rays are NOT random: ``spawn_ray_from_sources(fibonacci_lattice, N, ...)`` gives a deterministic
    Fibonacci lattice of N directions on the sphere. A 2 m cell at 3-D distance d, a height h below the
    transmitter, subtends ~ A h / d^3 sr, so it receives ~ N A h / (4 pi d^3) rays: for a 10 m mast
    (h = 8.5 m) and d = 500 m that is ~2e-8 N. One solver call holds all N rays in memory, so N is split
    into ``--batch`` sized calls; each call uses a different lattice size (hence a different lattice) and
    the per-call maps are combined weighted by their ray counts (each call is an unbiased cell-average
    estimate). The per-cell expected ray count ``n_rays_expected`` is saved so the caller can drop cells
    that are too thinly sampled to be judged.
  * the solver's path gain of a cell is the cell-AREA average of the LOS gain; ``vis_frac`` = gain /
    free-space gain at the cell centre (lambda / 4 pi d)^2 estimates the visible fraction of the cell
    (noisy where few rays land). gain == 0 means no ray reached the cell unobstructed.

Output npz: ``path_gain`` (n_tx, n_rows, n_cols) float64 linear, ``vis_frac`` same shape, ``n_rays_expected``
same shape, ``x`` (n_cols,) and ``y`` (n_rows,) cell-centre scene coordinates. Rows are written
NORTH-UP (row 0 = largest y); Sionna's own tensor ``[num_tx, cells_y, cells_x]`` has row 0 at the SOUTH edge
(y increasing, ``PlanarRadioMap.cell_centers``), so it is flipped here (``y_order`` records it).
Also ``tx`` (n_tx, 3), ``seconds`` (solver time), ``seconds_load``, ``samples_total``, ``versions``.
"""
from __future__ import annotations

import argparse
import json
import os
import time



def _find_libllvm() -> str | None:
    """Dr.Jit 1.5 emits llvm.minimum/maximum, which LLVM 15's x86 backend cannot select ("LLVM ERROR: Cannot
    select: f32 = fminimum"); an LLVM >= 16 is needed. Prefer DRJIT_LIBLLVM_PATH, else a newer system LLVM,
    else the libLLVM shipped with a rustup toolchain (LLVM 22 here)."""
    import glob
    if os.environ.get("DRJIT_LIBLLVM_PATH"):
        return os.environ["DRJIT_LIBLLVM_PATH"]
    cands = sorted(glob.glob("/usr/lib/llvm-*/lib/libLLVM.so"), key=lambda p: int(p.split("llvm-")[1].split("/")[0]))
    cands = [c for c in cands if int(c.split("llvm-")[1].split("/")[0]) >= 16]
    cands += sorted(glob.glob(os.path.expanduser("~/.rustup/toolchains/*/lib/libLLVM.so.*")))
    return cands[-1] if cands else None


_llvm = _find_libllvm()
if _llvm:
    os.environ["DRJIT_LIBLLVM_PATH"] = _llvm

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scene", default="munich")
    ap.add_argument("--tx", nargs=3, type=float, action="append", required=True, metavar=("X", "Y", "Z"))
    ap.add_argument("--cell", type=float, default=2.0)
    ap.add_argument("--center", nargs=2, type=float, required=True)
    ap.add_argument("--size", nargs=2, type=float, required=True)
    ap.add_argument("--rx-height", type=float, default=1.5)
    ap.add_argument("--samples", type=float, default=2e7, help="total rays per transmitter")
    ap.add_argument("--batch", type=float, default=2e7, help="rays per transmitter per solver call")
    ap.add_argument("--fc-ghz", type=float, default=3.5)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    t0 = time.perf_counter()
    import mitsuba as mi
    import drjit as dr
    import sionna.rt as rt
    from sionna.rt import load_scene, PlanarArray, Transmitter, RadioMapSolver

    scene = load_scene(getattr(rt.scene, a.scene))
    scene.frequency = a.fc_ghz * 1e9
    scene.tx_array = PlanarArray(num_rows=1, num_cols=1, pattern="iso", polarization="V")
    scene.rx_array = PlanarArray(num_rows=1, num_cols=1, pattern="iso", polarization="V")
    txs = np.asarray(a.tx, dtype=float)
    for i, p in enumerate(txs):
        scene.add(Transmitter(name=f"tx{i}", position=mi.Point3f(*map(float, p))))
    t_load = time.perf_counter() - t0

    solver = RadioMapSolver()
    total = int(round(a.samples))
    batch = int(round(a.batch))
    ncalls = -(-total // batch)
    sizes = [total // ncalls - i for i in range(ncalls)]  # distinct sizes -> distinct Fibonacci lattices
    total = sum(sizes)
    acc = None
    x = y = None
    t1 = time.perf_counter()
    for n in sizes:
        rm = solver(scene, center=mi.Point3f(a.center[0], a.center[1], a.rx_height),
                    orientation=mi.Point3f(0, 0, 0), size=mi.Point2f(a.size[0], a.size[1]),
                    cell_size=mi.Point2f(a.cell, a.cell), samples_per_tx=n, max_depth=0, los=True,
                    specular_reflection=False, diffuse_reflection=False, refraction=False,
                    diffraction=False, edge_diffraction=False, rr_depth=-1, seed=len(sizes))
        g = np.array(rm.path_gain, dtype=np.float64)  # [n_tx, cells_y, cells_x], row 0 = south
        if acc is None:
            acc = np.zeros_like(g)
            cc = np.array(rm.cell_centers, dtype=np.float64)  # [cells_y, cells_x, 3]
            x = cc[0, :, 0]
            y = cc[:, 0, 1]
            z = float(cc[0, 0, 2])
        acc += g * (n / total)
        del rm
    secs = time.perf_counter() - t1

    assert np.all(np.diff(y) > 0), "expected Sionna rows south-to-north"
    acc = acc[:, ::-1, :]
    y = y[::-1]
    lam = 299792458.0 / scene.frequency[0] if hasattr(scene.frequency, "__getitem__") else 299792458.0 / float(scene.frequency)
    xx, yy = np.meshgrid(x, y)
    dx = xx[None] - txs[:, 0, None, None]
    dy = yy[None] - txs[:, 1, None, None]
    dz = z - txs[:, 2, None, None]
    d3 = np.sqrt(dx * dx + dy * dy + dz * dz)
    g_fs = (lam / (4 * np.pi * d3)) ** 2
    n_exp = total * a.cell * a.cell * np.abs(dz) / (4 * np.pi * d3 ** 3)
    vis = acc / g_fs
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("sionna-rt", "mitsuba", "drjit")}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez_compressed(a.out, path_gain=acc, vis_frac=vis.astype(np.float32),
                        n_rays_expected=n_exp.astype(np.float32), x=x, y=y, z=z, tx=txs,
                        seconds=secs, seconds_load=t_load, samples_total=total, calls=len(sizes),
                        y_order="north-up (flipped from Sionna's south-to-north rows)",
                        versions=json.dumps(versions), variant=mi.variant(),
                        libllvm=str(os.environ.get("DRJIT_LIBLLVM_PATH")))
    print(json.dumps({"libllvm": os.environ.get("DRJIT_LIBLLVM_PATH"), "seconds": secs, "seconds_load": t_load, "calls": len(sizes), "samples_total": total,
                      "shape": list(acc.shape), "variant": mi.variant(), **versions,
                      "los_any_fraction": [float((acc[i] > 0).mean()) for i in range(len(txs))]}))


if __name__ == "__main__":
    main()
