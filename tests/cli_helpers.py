"""Shared by the command-line and data tests: IDX files, a tiny 'mnist' in them, and running ``python -m numvae``."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
"""IDX's type code of each dtype (kind and size), as in numvae.data.idx's table."""


def write_idx(path, array):
    """Write ``array`` (1-D or more) as an IDX file, gzip-compressed if ``path`` ends in .gz.

    numvae only reads IDX files; the tests write their own: the magic number
    (two zero bytes, the type code, the number of dimensions), one big-endian
    uint32 per dimension, then the elements in C order, big-endian.
    """
    array = np.asarray(array)
    header = bytes([0, 0, IDX_TYPE_CODES[f"{array.dtype.kind}{array.dtype.itemsize}"], array.ndim])
    raw = header + np.asarray(array.shape, ">u4").tobytes() + array.astype(array.dtype.newbyteorder(">")).tobytes()
    Path(path).write_bytes(gzip.compress(raw, mtime=0) if str(path).endswith(".gz") else raw)


def tiny_mnist(root, n_train=60, n_test=20):
    """Write a tiny 'mnist' (blurry bars) as IDX files under ``root/mnist``; returns ``root``."""
    (root / "mnist").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        labels = rng.integers(0, 10, n)
        images = np.zeros((n, 28, 28))
        for i, label in enumerate(labels):
            images[i, :, 2 + 2 * label : 5 + 2 * label] = rng.uniform(0.5, 1.0)
        write_idx(root / "mnist" / f"{prefix}-images-idx3-ubyte", (images * 255).astype(np.uint8))
        write_idx(root / "mnist" / f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8))
    return root


def train_argv(data_dir, out, *extra, epochs=2):
    """``train`` arguments for a small, fast run on :func:`tiny_mnist` data."""
    return ["train", "--dataset", "mnist", "--data-dir", str(data_dir), "--out", str(out),
            "--epochs", str(epochs), "--hidden", "16", "--batch-size", "20", "--no-progress", *extra]


def environment():
    """The test's environment for a subprocess: this checkout first on the path, one BLAS thread."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(p for p in [root, os.environ.get("PYTHONPATH", "")] if p)
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}


def numvae_process(*args, **popen):
    """Start ``python -m numvae ARGS``; returns the Popen (text mode)."""
    return subprocess.Popen([sys.executable, "-m", "numvae", *args], env=environment(), text=True, **popen)


def run_numvae(*args, timeout=300):
    """Run ``python -m numvae ARGS`` to the end; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "numvae", *args], env=environment(), text=True,
                          capture_output=True, timeout=timeout)


def assert_one_line_error(stderr, *needles):
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in stderr, stderr
