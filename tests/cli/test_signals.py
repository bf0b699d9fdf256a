"""SIGINT and SIGTERM during `cellscape run`, `run --stream`, `plan` and `simulate`: the process
ends with one line and a non-zero status, the output folder holds only whole files (no
``.NAME.PID.partial`` left, every file parses), a streamed run keeps its journal and no final map,
and the same command run again succeeds.

The commands run in a subprocess through ``cellscape.cli.app:main`` (the installed executable's
entry point). To land the signal at a known moment, the child is started through :data:`CHILD`,
which only waits (in a sleep the signal breaks) at the first progress report of the pipeline
("compute"), or just before the first atomic rename of an output ("write": its temporary file
complete, not yet renamed); the test sends the signal from outside once the child says it waits.
The last test sends it to the plain executable at the first temporary file it sees, no hook at all.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
import yaml
from PIL import Image
from typer.testing import CliRunner

from cellscape.cli._signals import FORCE_AFTER, Interrupted, interrupts_raise
from cellscape.cli.app import app

from .test_app import scenario_dict, write
from .test_plan_cli import plan_files
from .test_simulate_cli import sim_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "helsinki.yaml"
WAIT_S = 120.0
PARTIAL_DIR = ".coverage.partial"        # cellscape.io.stream_writer.PARTIAL_DIR: a streamed run's journal

CHILD = textwrap.dedent("""
    import importlib, os, sys, time
    from pathlib import Path

    marker, hook, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]

    def pause():
        marker.write_text(str(os.getpid()))
        time.sleep(120)                                   # the test's signal breaks this sleep
        raise SystemExit("the signal never came")

    if hook == "write":                                   # just before the first rename of a finished temp file
        real_replace, seen = os.replace, []

        def replace(src, dst, *a, **k):
            if not seen and str(src).endswith(".partial"):
                seen.append(src)
                pause()
            return real_replace(src, dst, *a, **k)

        os.replace = replace
    else:                                                 # "MODULE:FUNCTION:MIN": at a progress report >= MIN
        name, func, least = hook.split(":")
        module = importlib.import_module(name)
        real = getattr(module, func)

        def wrapped(*a, progress=None, **k):
            def report(*p):
                if not isinstance(p[0], int) or p[0] >= int(least):
                    pause()
                if progress is not None:
                    progress(*p)
            return real(*a, progress=report, **k)

        setattr(module, func, wrapped)
    from cellscape.cli.app import main
    sys.argv = ["cellscape", *argv]
    main()
""")


def interrupt(args: list[str], signum: int, hook: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `cellscape ARGS` through CHILD; send ``signum`` once it waits at ``hook``; return the result."""
    marker = tmp_path / "child-waits"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), hook, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + WAIT_S
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None or not marker.exists():
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the child never reached {hook!r} (status {proc.returncode}): {out} {err}")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=WAIT_S)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def assert_interrupted(r: subprocess.CompletedProcess) -> None:
    """Non-zero, one 'interrupted' line at the end of stderr, no traceback, nothing reported written."""
    assert r.returncode not in (0, None) and r.returncode > 0, (r.returncode, r.stderr)  # an exit, not a kill
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("interrupted"), r.stderr
    assert sum(line.startswith("interrupted") for line in lines) == 1, r.stderr
    assert "wrote" not in r.stdout


def assert_whole(out: Path, *, journal_allowed: bool = False) -> list[str]:
    """Every file under ``out`` is whole (it opens and parses) and none is a temporary one; return the
    names. A streamed run's work folder (its journal) is allowed with ``journal_allowed``."""
    names = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if path.is_dir():
            assert journal_allowed and rel.as_posix() == PARTIAL_DIR, f"unexpected folder {rel}"
            continue
        assert not path.name.endswith((".partial", ".tmp")), f"temporary file left: {rel}"
        assert not path.name.startswith(".") and path.stat().st_size > 0, f"temporary or empty file: {rel}"
        suffix = path.suffix
        if suffix == ".tif":
            with rasterio.open(path) as src:
                assert src.read().shape[0] == src.count
        elif suffix in (".json", ".geojson"):
            json.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".csv":
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            assert rows and len({len(row) for row in rows}) == 1, f"ragged CSV {rel}"
        elif suffix == ".parquet":
            pq.read_table(path)
        elif suffix == ".png":
            with Image.open(path) as im:
                im.load()
        elif suffix == ".npz":
            with np.load(path) as z:
                [z[k] for k in z.files]
        elif suffix in (".md", ".html"):
            assert path.read_text(encoding="utf-8").strip()
        else:
            pytest.fail(f"no check for {rel}")
        names.append(rel.as_posix())
    return names


def rerun(args: list[str]) -> str:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.stdout


def tiny_run(tmp_path: Path, **compute) -> Path:
    """The 60 x 40 pixel, 4-sector scenario of test_app: `cellscape run` in about a second."""
    return write(tmp_path, scenario_dict(**({"compute": compute} if compute else {})))


# -- cellscape run -----------------------------------------------------------------------------------


def test_sigterm_while_computing_a_run_leaves_no_output_and_a_rerun_succeeds(tmp_path):
    sc, out = tiny_run(tmp_path), tmp_path / "out"
    args = ["run", str(sc), "-o", str(out), "--no-png", "--backend", "numpy"]
    r = interrupt(args, signal.SIGTERM, "cellscape.pipeline:run_coverage:0", tmp_path)
    assert_interrupted(r)
    assert not out.exists() or assert_whole(out) == []
    rerun(args)
    assert {"coverage.tif", "best_sector.tif", "kpis.json", "scenario.json"} <= set(assert_whole(out))


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_a_signal_while_writing_a_run_keeps_the_files_from_before_whole(tmp_path, signum):
    """The folder holds a finished run; a new run of another scenario is interrupted just before its
    first file (coverage.tif) would replace the old one: the old files are there, unchanged, the temp
    file is gone; the rerun replaces them."""
    out = tmp_path / "out"
    first = write(tmp_path, scenario_dict(name="before"), "before.yaml")
    rerun(["run", str(first), "-o", str(out), "--no-png", "--backend", "numpy"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["run", str(tiny_run(tmp_path)), "-o", str(out), "--no-png", "--backend", "numpy"]
    r = interrupt(args, signum, "write", tmp_path)
    assert_interrupted(r)
    assert sorted(assert_whole(out)) == sorted(before)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    rerun(args)
    assert_whole(out)
    assert json.loads((out / "scenario.json").read_text())["scenario"]["name"] == "tiny"


def test_an_interrupted_streamed_run_keeps_its_journal_and_no_final_map_then_resumes(tmp_path):
    sc, out = tiny_run(tmp_path, mem_limit_mb=0.1), tmp_path / "out"      # numpy: 8 strips of 5 rows
    args = ["run", str(sc), "-o", str(out), "--stream", "--backend", "numpy"]
    r = interrupt(args, signal.SIGTERM, "cellscape.io.stream_writer:run_coverage_streamed:1", tmp_path)
    assert_interrupted(r)
    assert "--resume" in r.stderr
    names = assert_whole(out, journal_allowed=True)
    assert not {"coverage.tif", "best_sector.tif", "kpis.json"} & set(names)        # no final map that looks whole
    with np.load(out / PARTIAL_DIR / "journal.npz") as journal:
        done = len(journal["done"])
    assert done >= 1
    said = rerun(args + ["--resume"])
    computed, total = (int(v) for v in re.search(r"(\d+) of (\d+) tiles computed", said).groups())
    assert total > done and computed == total - done, said
    assert {"coverage.tif", "best_sector.tif", "kpis.json", "scenario.json"} <= set(assert_whole(out))
    assert not (out / PARTIAL_DIR).exists()


# -- cellscape plan and simulate ---------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "hook"), [
    (signal.SIGTERM, "write"),
    pytest.param(signal.SIGINT, "cellscape.pipeline:run_plan:0", marks=pytest.mark.slow)])
def test_an_interrupted_plan_leaves_no_partial_output_and_a_rerun_succeeds(tmp_path, signum, hook):
    p, out = plan_files(tmp_path, tuning={"enabled": False}), tmp_path / "out"
    args = ["plan", str(p), "-o", str(out), "--no-png", "--backend", "numpy"]
    r = interrupt(args, signum, hook, tmp_path)
    assert_interrupted(r)
    assert not out.exists() or assert_whole(out) == []             # "write": stopped before the first rename
    rerun(args)
    assert {"plan.geojson", "plan.json", "rollout.csv", "plan.md"} <= set(assert_whole(out))


@pytest.mark.parametrize(("signum", "hook"), [
    (signal.SIGTERM, "cellscape.pipeline.simulate:run_simulate:0"),
    pytest.param(signal.SIGINT, "write", marks=pytest.mark.slow)])
def test_an_interrupted_simulation_leaves_no_partial_output_and_a_rerun_succeeds(tmp_path, signum, hook):
    s, out = sim_file(tmp_path), tmp_path / "out"
    args = ["simulate", str(s), "-o", str(out), "--no-png", "--backend", "numpy"]
    r = interrupt(args, signum, hook, tmp_path)
    assert_interrupted(r)
    assert not out.exists() or assert_whole(out) == []
    rerun(args)
    assert {"ue_kpis.parquet", "summary.json"} <= set(assert_whole(out))


# -- the handlers themselves -------------------------------------------------------------------------


def test_the_first_signal_raises_the_second_is_ignored_and_the_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(Interrupted) as caught:
        with interrupts_raise():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            finally:                                       # cleanup: a second signal must not break into it
                os.kill(os.getpid(), signal.SIGTERM)
                cleaned = True
    assert cleaned and caught.value.signum == signal.SIGINT and isinstance(caught.value, KeyboardInterrupt)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_third_signal_stops_at_once():
    code = ("import os, signal, time\nfrom cellscape.cli._signals import interrupts_raise\n"
            "with interrupts_raise():\n"
            "    try:\n        os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)\n"
            "    finally:\n" + "".join("        os.kill(os.getpid(), signal.SIGTERM)\n" for _ in range(FORCE_AFTER - 1))
            + "        print('cleanup finished')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 128 + signal.SIGTERM and "cleanup finished" not in r.stdout
    assert r.stderr.strip() == "interrupted again: stopping at once, without cleaning up"


# -- no hook: the real executable, the real example --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_helsinki_example_interrupted_at_its_first_file(tmp_path, signum):
    """`cellscape run examples/helsinki.yaml` (at 5 m, with PNGs) as installed, the signal sent when
    the first temporary output file shows up; then the same command again."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["area"]["resolution_m"] = 5.0
    data["sites_file"] = str(EXAMPLE.parent / data["sites_file"])
    sc, out = tmp_path / "helsinki.yaml", tmp_path / "out"
    sc.write_text(yaml.safe_dump(data))
    exe = Path(sys.executable).with_name("cellscape")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cellscape.cli.app import main; main()"]
    args = ["run", str(sc), "-o", str(out)]
    proc = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and not (out.is_dir() and any(out.iterdir())):
        time.sleep(0.002)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    assert_interrupted(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr))
    assert len(assert_whole(out)) <= 1
    r = subprocess.run(cmd + args, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert len(assert_whole(out)) >= 15
