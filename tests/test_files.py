"""Tests of numvae.util.files.atomic_write: all or nothing, never a stray temporary."""

import os

import pytest

from numvae.util.files import atomic_write


def test_writes_the_bytes_and_creates_parent_directories(tmp_path):
    target = tmp_path / "a" / "b" / "out.bin"
    assert atomic_write(target, lambda f: f.write(b"hello")) == target
    assert target.read_bytes() == b"hello"
    assert os.listdir(target.parent) == ["out.bin"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")

    def half_then_fail(f):
        f.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_replaces_an_existing_file_on_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    atomic_write(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_an_unwritable_destination_names_the_target_not_the_temporary(tmp_path):
    target = tmp_path / "missing-dir" / "out.bin"
    # A file where the directory should be: the temporary cannot be created.
    (tmp_path / "missing-dir").write_text("a file, not a directory")
    with pytest.raises(OSError) as exc_info:
        atomic_write(target, lambda f: f.write(b"x"))
    assert ".tmp" not in str(exc_info.value)
    assert "missing-dir" in str(exc_info.value)
