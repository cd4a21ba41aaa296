"""Shared by the command-line tests: a tiny 'mnist' in IDX files, and running ``python -m numvae``."""

import os
import subprocess
import sys

import numpy as np

from numvae.data.idx import write_idx


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
