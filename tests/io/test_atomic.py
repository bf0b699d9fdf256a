"""Atomic writes: whole file or nothing (STYLE.md P13)."""

import json
import math
import os

import numpy as np
import pytest

from cellscape.errors import DataFileError
from cellscape.io.atomic import json_ready, partial_path, write_atomic, write_json_atomic, write_text_atomic


def test_partial_name_is_hidden_in_same_folder_with_pid(tmp_path):
    tmp = partial_path(tmp_path / "map.tif")
    assert tmp.parent == tmp_path
    assert tmp.name == f".map.tif.{os.getpid()}.partial"


def test_writer_that_raises_leaves_no_file(tmp_path):
    target = tmp_path / "out.bin"

    def half_write(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(target, half_write)
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_leaves_old_file_untouched_and_no_partial(tmp_path):
    target = tmp_path / "kpis.json"
    target.write_text("old")

    def interrupted(tmp):
        tmp.write_text("new but incomplete")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, interrupted)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["kpis.json"]


def test_success_replaces_existing_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    assert write_text_atomic(target, "new") == target
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_missing_folder_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        write_text_atomic(tmp_path / "nope" / "a.txt", "x")


def test_writer_that_creates_nothing_is_an_error(tmp_path):
    with pytest.raises(DataFileError, match="created no file"):
        write_atomic(tmp_path / "a.txt", lambda tmp: None)


def test_json_converts_numpy_and_writes_nan_as_null(tmp_path):
    obj = {"n": np.int64(3), "x_m": np.float32(1.5), "v": np.array([1.0, np.nan]), "t": (1, -math.inf)}
    path = write_json_atomic(tmp_path / "k.json", obj)
    assert json.loads(path.read_text()) == {"n": 3, "x_m": 1.5, "v": [1.0, None], "t": [1, None]}


def test_unserialisable_json_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="cannot write a value of type object to JSON"):
        write_json_atomic(tmp_path / "k.json", {"a": object()})
    assert list(tmp_path.iterdir()) == []


def test_json_ready_keeps_bool_and_none():
    assert json_ready({"a": np.bool_(True), "b": None}) == {"a": True, "b": None}
