"""IDX files, the container format of MNIST and Fashion-MNIST: read them, checked.

This module deals in files; :mod:`numvae.data` turns them into datasets.

An IDX file is a 4-byte magic number, then one big-endian ``uint32`` per
dimension, then the array's elements in C order, big-endian::

    byte 0-1   0x00 0x00           always zero
    byte 2     type code           0x08 ubyte, 0x09 sbyte, 0x0B int16,
                                   0x0C int32, 0x0D float32, 0x0E float64
    byte 3     ndim                number of dimensions, at least 1
    4 * ndim   dims                big-endian uint32 each
    rest       data                prod(dims) * itemsize bytes

MNIST's images are ``ubyte`` with dims ``(n, 28, 28)`` (magic 0x00000803) and
its labels ``ubyte`` with dims ``(n,)`` (magic 0x00000801). The files are
usually distributed gzip-compressed.

Reference: Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
handwritten digits", http://yann.lecun.com/exdb/mnist/ (section "File formats
for the MNIST database").

Downloading them, with SHA-256 verification, is :mod:`numvae.data.download`'s job.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXFormatError", "DataUnavailableError", "ChecksumError",
           "MAX_DATA_BYTES", "read_idx"]

# Type code -> big-endian dtype as stored in the file.
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
# The largest array read_idx accepts, from the header's promise (dims x itemsize).
# The largest IDX files in use (EMNIST "byclass" training images) hold 0.55 GB.
MAX_DATA_BYTES = 2**30


class IDXFormatError(ValueError):
    """An IDX file is malformed; the message names the file and the problem."""


class DataUnavailableError(RuntimeError):
    """The data cannot be had: not installed, not found, or not downloadable."""


class ChecksumError(DataUnavailableError):
    """A downloaded file's SHA-256 digest is not the expected one."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian array.

    Compression is detected from the content (the gzip magic bytes
    ``1f 8b``), not from the file name, so a ``.gz`` that was unpacked but
    kept its name, or the reverse, still reads.

    The header is read and checked before any data: an array that would take
    more than :data:`MAX_DATA_BYTES` is refused from its header alone, a raw
    file is compared with its size on disk, and a gzip stream is decompressed
    only up to the promised size plus one byte. So a file whose header
    promises terabytes, or a small gzip "bomb" that inflates to gigabytes,
    costs neither that memory nor that time.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    array : np.ndarray, shape dims
        A new, writable array in native byte order, with the dtype given by
        the file's type code (``uint8`` for MNIST images and labels).

    Raises
    ------
    IDXFormatError
        If the file is empty, not valid gzip, truncated, has a bad magic
        number, an unknown type code, zero dimensions, promises more than
        :data:`MAX_DATA_BYTES`, or has more or fewer data bytes than its
        dimensions promise.
    OSError
        If the file cannot be opened.
    """
    name = os.fspath(path)

    def fail(problem: str) -> IDXFormatError:
        return IDXFormatError(f"{name}: {problem}")

    with open(path, "rb") as raw_file:
        compressed = raw_file.read(2) == _GZIP_MAGIC
        raw_file.seek(0)
        stream = gzip.GzipFile(fileobj=raw_file, mode="rb") if compressed else raw_file
        try:
            return _read_idx_stream(stream, compressed, os.fstat(raw_file.fileno()).st_size, fail)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            # EOFError is what a cut-off download looks like.
            raise fail(f"corrupt or truncated gzip stream ({exc})") from exc


def _read_idx_stream(stream, compressed, file_size, fail):
    """The array in ``stream`` (a raw file or a GzipFile), checked at every step."""
    magic = stream.read(4)
    if not magic and not compressed:
        raise fail("empty file")
    if len(magic) < 4:
        raise fail(f"too short for the 4-byte magic number ({len(magic)} bytes)")
    zero, code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00":
        raise fail(f"bad magic number 0x{magic.hex()}: the first two bytes must be zero")
    if code not in _CODE_TO_DTYPE:
        known = ", ".join(f"0x{c:02X}" for c in _CODE_TO_DTYPE)
        raise fail(f"unknown type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise fail("number of dimensions is 0, must be at least 1")

    header_size = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise fail(
            f"truncated header: {ndim} dimensions need {header_size} bytes, "
            f"found {4 + len(dims)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))

    file_dtype = _CODE_TO_DTYPE[code]
    # Python ints: prod(dims) of four uint32 can overflow int64.
    expected = math.prod(shape) * file_dtype.itemsize
    if expected > MAX_DATA_BYTES:
        raise fail(
            f"the header promises an array of shape {shape} ({file_dtype.name}), "
            f"{expected:,} bytes of data, more than numvae reads "
            f"({MAX_DATA_BYTES:,} bytes, numvae.data.idx.MAX_DATA_BYTES); refusing to read it"
        )
    if not compressed:
        found = file_size - header_size  # known from the size on disk, before reading the data
    else:
        payload = _read_at_most(stream, expected + 1)  # one byte more reveals trailing data
        found = len(payload)
    if found < expected:
        raise fail(
            f"truncated: expected {expected} bytes of data after the header, found {found}"
        )
    if found > expected:
        shown = f"{found}" if not compressed else "more"
        raise fail(
            f"trailing bytes: expected {expected} bytes of data after the header, "
            f"found {shown}"
        )
    if not compressed:
        payload = stream.read(expected)
        if len(payload) != expected:  # the file changed under us
            raise fail(f"truncated: expected {expected} bytes of data after the header, "
                       f"found {len(payload)}")

    data = np.frombuffer(payload, dtype=file_dtype, count=math.prod(shape)).reshape(shape)
    # astype copies, giving a writable array in the machine's byte order.
    return data.astype(file_dtype.newbyteorder("="))


def _read_at_most(stream, limit, chunk_size=1 << 20):
    """Up to ``limit`` bytes of ``stream``, read in chunks.

    ``stream.read(limit)`` would allocate ``limit`` bytes at once, however
    little the stream holds; chunks make memory follow what actually arrives.
    """
    payload = bytearray()
    while len(payload) < limit:
        chunk = stream.read(min(chunk_size, limit - len(payload)))
        if not chunk:
            break
        payload += chunk
    return payload
