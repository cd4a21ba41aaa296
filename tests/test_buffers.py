"""numvae.buffers: zeroed buffers on huge pages, which change the speed and nothing else."""

import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from numvae import Adam, VAE, buffers


@pytest.mark.parametrize("n", [0, 1, 1000, buffers.MIN_BYTES // 4, 700_001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zeros_behaves_like_np_zeros(n, dtype):
    a = buffers.zeros(n, dtype)
    assert a.shape == (n,) and a.dtype == dtype and a.flags.writeable and a.flags.c_contiguous
    assert not a.any()
    a[:] = np.arange(n)  # writable over its whole length, and nothing beyond it
    assert np.array_equal(a, np.arange(n, dtype=dtype))


def test_zeros_like_keeps_shape_and_dtype():
    template = np.ones((600, 700), dtype=np.float32)
    a = buffers.zeros_like(template)
    assert a.shape == template.shape and a.dtype == template.dtype and not a.any()


def _on_a_memory_map(array):
    """Whether the memory under ``array`` belongs to an mmap (following views to their base)."""
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def _huge_page_bytes(address):
    """AnonHugePages of the mapping of this process that holds ``address``, from /proc/self/smaps."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(x, 16) for x in head.split("-"))
            inside = start <= address < end
        elif inside and line.startswith("AnonHugePages:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no mapping holds address {address:#x}")


def _transparent_huge_pages():
    try:
        setting = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[never]" not in setting


@pytest.mark.skipif(not (sys.platform.startswith("linux") and _transparent_huge_pages()),
                    reason="huge pages on request need Linux with transparent huge pages enabled")
def test_a_large_buffer_gets_huge_pages_and_a_small_one_stays_ordinary():
    large = buffers.zeros(4 * 2**20 // 4, np.float32)  # 4 MiB
    large[:] = 1  # pages are only given when first touched
    assert _on_a_memory_map(large)
    assert _huge_page_bytes(large.ctypes.data) >= 2 * 2**20, "the kernel gave no huge page"
    small = buffers.zeros(1000, np.float32)
    assert not _on_a_memory_map(small)


def test_training_on_huge_page_buffers_gives_the_same_bits(monkeypatch):
    def train(model):
        x = np.random.default_rng(0).random((64, 784)).astype(np.float32)
        optimizer = Adam({"all": model.flat_params}, lr=1e-3)
        for _ in range(3):
            model.loss(x)
            model.backward()
            optimizer.step({"all": model.flat_grads})
        return model.flat_params.copy(), optimizer

    on_huge_pages, optimizer = train(VAE(784, (400,), 20, dtype=np.float32, seed=0))
    if hasattr(mmap, "MADV_HUGEPAGE"):
        model = VAE(784, (400,), 20, dtype=np.float32, seed=0)
        assert _on_a_memory_map(model.flat_params)
        assert _on_a_memory_map(optimizer.m["all"])
    monkeypatch.setattr(buffers, "zeros", lambda n, dtype: np.zeros(n, dtype=dtype))
    ordinary, _ = train(VAE(784, (400,), 20, dtype=np.float32, seed=0))
    assert np.array_equal(on_huge_pages, ordinary)
