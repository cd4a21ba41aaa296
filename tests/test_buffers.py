"""numvae.buffers: zeroed buffers on huge pages, which change the speed and nothing else."""

import errno
import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from numvae import Adam, VAE, buffers

THP = Path("/sys/kernel/mm/transparent_hugepage")


def _on_a_memory_map(array):
    """Whether the memory under ``array`` belongs to an mmap (following views to their base)."""
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def _mapping(address):
    """The /proc/self/smaps fields of the mapping that holds ``address``."""
    fields, inside = {}, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            if inside:
                break
            start, end = (int(x, 16) for x in head.split("-"))
            inside = start <= address < end
        elif inside:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    assert fields, f"no mapping holds address {address:#x}"
    return fields


def _linux_gives_huge_pages():
    """Read here, independently of numvae.buffers, so a broken detection cannot skip its own test."""
    try:
        size = int((THP / "hpage_pmd_size").read_text())
        modes = (THP / "enabled").read_text()
        sized = THP / f"hugepages-{size // 1024}kB" / "enabled"
        modes += sized.read_text() if sized.exists() else ""
    except (OSError, ValueError):
        return False
    return sys.platform.startswith("linux") and "[never]" not in modes


@pytest.mark.parametrize("n", [0, 1, 1000, 2**18, 700_001])
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


@pytest.mark.skipif(not _linux_gives_huge_pages(),
                    reason="needs Linux with transparent huge pages set to 'always' or 'madvise'")
def test_a_large_buffer_is_aligned_advised_and_given_huge_pages():
    huge = int((THP / "hpage_pmd_size").read_text())
    assert buffers.huge_page_size() == huge
    large = buffers.zeros(2 * huge // 4, np.float32)  # two huge pages of float32
    assert _on_a_memory_map(large)
    assert large.ctypes.data % huge == 0, "the buffer does not start on a huge-page boundary"
    fields = _mapping(large.ctypes.data)
    assert "hg" in fields["VmFlags"].split(), "the mapping was not advised MADV_HUGEPAGE"
    before = int(fields["AnonHugePages"].split()[0]) * 1024
    large[:] = 1  # pages are only given when first touched
    after = int(_mapping(large.ctypes.data)["AnonHugePages"].split()[0]) * 1024
    assert after - before >= huge, f"touching the buffer added {after - before} bytes of huge pages"


def test_a_small_buffer_stays_on_ordinary_pages():
    assert not _on_a_memory_map(buffers.zeros(1000, np.float32))


class _RefusingMap(mmap.mmap):
    """An mmap whose madvise fails, as under a kernel or sandbox that refuses the advice."""

    def madvise(self, *args):
        raise OSError(errno.EINVAL, "Invalid argument")


def _no_map(*args, **kwargs):
    raise OSError(errno.ENOMEM, "Cannot allocate memory")


@pytest.mark.parametrize("refusal", [_RefusingMap, _no_map], ids=["madvise fails", "mmap fails"])
def test_a_refused_map_falls_back_to_np_zeros(monkeypatch, refusal):
    monkeypatch.setattr(buffers, "huge_page_size", lambda: 2 * 2**20)
    monkeypatch.setattr(buffers.mmap, "mmap", refusal)
    a = buffers.zeros(700_000, np.float32)
    assert not _on_a_memory_map(a) and a.shape == (700_000,) and not a.any()


def test_no_huge_pages_means_np_zeros(monkeypatch):
    monkeypatch.setattr(buffers, "huge_page_size", lambda: None)
    assert not _on_a_memory_map(buffers.zeros(700_000, np.float32))


def test_the_model_and_adam_use_these_buffers_and_train_to_the_same_bits(monkeypatch):
    def train(model):
        x = np.random.default_rng(0).random((64, 784)).astype(np.float32)
        optimizer = Adam({"all": model.flat_params}, lr=1e-3)
        for _ in range(3):
            model.loss(x)
            model.backward()
            optimizer.step({"all": model.flat_grads})
        return model, optimizer

    model, optimizer = train(VAE(784, (400,), 20, dtype=np.float32, seed=0))
    # The wiring: the large arrays come from buffers.zeros, whatever this machine makes of it.
    n = model.flat_params.size
    from_buffers = _on_a_memory_map(buffers.zeros(n, np.float32))
    for array in (model.flat_params, model.flat_grads, optimizer.m["all"], optimizer.v["all"]):
        assert _on_a_memory_map(array) == from_buffers
    monkeypatch.setattr(buffers, "zeros", lambda n, dtype: np.zeros(n, dtype=dtype))
    ordinary, _ = train(VAE(784, (400,), 20, dtype=np.float32, seed=0))
    assert not _on_a_memory_map(ordinary.flat_params)
    assert np.array_equal(model.flat_params, ordinary.flat_params)
