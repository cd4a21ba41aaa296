"""Zeroed flat buffers for the arrays a training step sweeps from end to end.

The parameters, the gradients and the optimizer's moments of a model live in
one flat buffer each (``layers.pack_parameters``, ``optim``). Adam reads and
writes every one of them at every step; for the default model they are 2.7 MB
each. The processor translates each address through a small cache of page
addresses, the TLB. With ordinary 4 KiB pages, 13 MB of buffers need more than
3,000 entries, more than that cache holds, so every sweep also pays for page
lookups. On 2 MiB pages ("transparent huge pages", which Linux gives to memory
that asks for them), seven entries cover the same memory.

:func:`zeros` asks for that where the operating system offers it. The
arithmetic is the same and so are the results, bit for bit. An epoch of the
benchmark model took 5 to 10 % less time with one thread, 3 to 8 % with two (side
by side, in one process; see
``benchmarks/README.md``). NumPy asks for huge pages by itself only for
arrays of 4 MiB or more. Elsewhere, on other systems, and for small buffers,
:func:`zeros` is ``np.zeros``.

The price is memory: a buffer is rounded up to whole huge pages, so it can take up
to 2 MiB more than its size (9 MiB more resident memory in all for the default model
and Adam, measured: 21.6 MiB instead of 12.6).
"""

import mmap

import numpy as np

HUGE_PAGE = 2 * 2**20
"""Bytes in one huge page on x86-64 and most arm64 Linux machines."""

MIN_BYTES = 2**20
"""Buffers below this stay on ordinary pages: a 2 MiB page would be mostly unused."""


def zeros(n, dtype):
    """A zeroed, writable 1-D array of ``n`` elements, on huge pages where possible.

    Parameters
    ----------
    n : int
        Number of elements.
    dtype : numpy dtype

    Returns
    -------
    ndarray, shape (n,)
        Backed by a private anonymous memory map (which the OS hands out zeroed)
        when it is large enough and the platform has ``MADV_HUGEPAGE``; else
        ``np.zeros(n, dtype)``. It behaves like any other array.
    """
    dtype = np.dtype(dtype)
    nbytes = n * dtype.itemsize
    if nbytes < MIN_BYTES or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.zeros(n, dtype=dtype)
    size = -(-nbytes // HUGE_PAGE) * HUGE_PAGE  # whole huge pages, so the tail gets one too
    try:
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        memory.madvise(mmap.MADV_HUGEPAGE)  # a request: Linux may still use small pages
    except OSError:  # e.g. a kernel without transparent huge pages
        return np.zeros(n, dtype=dtype)
    return np.frombuffer(memory, dtype=dtype, count=n)  # keeps ``memory`` alive as its base


def zeros_like(array):
    """:func:`zeros` with the size, dtype and shape of ``array`` (C order)."""
    array = np.asarray(array)
    return zeros(array.size, array.dtype).reshape(array.shape)
