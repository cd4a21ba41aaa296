"""IDX files, the container format of MNIST and Fashion-MNIST: read, write, download.

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

:func:`download_files` fetches files from a list of mirrors and keeps one only
if its SHA-256 digest is the expected one.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from numvae.files import atomic_write

__all__ = ["IDXFormatError", "DataUnavailableError", "ChecksumError",
           "read_idx", "write_idx", "download_files"]

# Type code -> big-endian dtype as stored in the file.
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Keyed by (kind, itemsize) so that native- and big-endian arrays both map.
_KIND_SIZE_TO_CODE = {(dt.kind, dt.itemsize): code for code, dt in _CODE_TO_DTYPE.items()}

_GZIP_MAGIC = b"\x1f\x8b"


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
        number, an unknown type code, zero dimensions, or more or fewer data
        bytes than its dimensions promise.
    OSError
        If the file cannot be opened.
    """
    name = os.fspath(path)

    def fail(problem: str) -> IDXFormatError:
        return IDXFormatError(f"{name}: {problem}")

    raw = Path(path).read_bytes()
    if not raw:
        raise fail("empty file")
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            # EOFError is what a cut-off download looks like.
            raise fail(f"corrupt or truncated gzip stream ({exc})") from exc

    if len(raw) < 4:
        raise fail(f"too short for the 4-byte magic number ({len(raw)} bytes)")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00":
        raise fail(f"bad magic number 0x{raw[:4].hex()}: the first two bytes must be zero")
    if code not in _CODE_TO_DTYPE:
        known = ", ".join(f"0x{c:02X}" for c in _CODE_TO_DTYPE)
        raise fail(f"unknown type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise fail("number of dimensions is 0, must be at least 1")

    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise fail(
            f"truncated header: {ndim} dimensions need {header_size} bytes, "
            f"found {len(raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))

    file_dtype = _CODE_TO_DTYPE[code]
    # Python ints: prod(dims) of four uint32 can overflow int64.
    expected = math.prod(shape) * file_dtype.itemsize
    found = len(raw) - header_size
    if found < expected:
        raise fail(
            f"truncated: expected {expected} bytes of data after the header, found {found}"
        )
    if found > expected:
        raise fail(
            f"trailing bytes: expected {expected} bytes of data after the header, "
            f"found {found}"
        )

    data = np.frombuffer(raw, dtype=file_dtype, offset=header_size).reshape(shape)
    # astype copies, giving a writable array in the machine's byte order.
    return data.astype(file_dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file, atomically; gzip if `path` ends in ``.gz``.

    The bytes go to a temporary file in the destination directory, which is
    then renamed over `path` with :func:`os.replace`. A reader therefore sees
    either the old file or the complete new one, never a partial write. The
    gzip header carries no file name or time stamp, so equal arrays give
    byte-identical files.

    Parameters
    ----------
    path : str or os.PathLike
        The destination file.
    array : array_like, shape dims
        At least 1-D, every dimension below 2**32, with a dtype IDX can hold:
        uint8, int8, int16, int32, float32 or float64 (any byte order).

    Raises
    ------
    ValueError
        If the array is 0-D, has more than 255 dimensions, a dimension of
        2**32 or more, or a dtype IDX cannot store.
    """
    array = np.asarray(array)
    code = _KIND_SIZE_TO_CODE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise ValueError(
            f"array: IDX cannot store dtype {array.dtype}; "
            "use uint8, int8, int16, int32, float32 or float64"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array: IDX needs 1 to 255 dimensions, got {array.ndim}")
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(f"array: every dimension must be below 2**32, got {array.shape}")

    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()

    def write(raw_file):
        if Path(path).name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw_file, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            raw_file.write(header)
            raw_file.write(payload)

    atomic_write(path, write)


def download_files(dest_dir: str | os.PathLike, files: Mapping[str, str | None],
                   mirrors: Sequence[str], *, timeout: float = 60.0) -> dict[str, Path]:
    """Download files into `dest_dir`, verifying each SHA-256 digest.

    For each file, mirrors are tried in order (URL = mirror + file name)
    until one answers; a network or HTTP error moves on to the next mirror,
    but a digest mismatch stops at once, since a wrong file is not a network
    hiccup. Data is written to a temporary file in `dest_dir` and renamed
    into place only once its digest matches, so no partial or unverified
    file ever has the final name. A file already present with the right
    digest is not fetched again.

    Parameters
    ----------
    dest_dir : str or os.PathLike
        Created if missing.
    files : mapping of str to str
        File name -> expected SHA-256 hex digest. A missing digest (None or
        "") is refused rather than downloading unverified data.
    mirrors : sequence of str
        Base URLs, tried in order.
    timeout : float
        Seconds to wait for a connection or for data before giving up on a mirror.

    Returns
    -------
    dict of str to Path
        File name -> path of the verified file.

    Raises
    ------
    ChecksumError
        Downloaded bytes do not match the expected digest.
    DataUnavailableError
        No digest for a file, or every mirror failed (each URL and its error
        are listed).
    """
    unverifiable = [file_name for file_name, digest in files.items() if not digest]
    if unverifiable:
        raise DataUnavailableError(
            f"no known SHA-256 digest for {', '.join(unverifiable)}; "
            "refusing to download a file that cannot be verified"
        )
    if not mirrors:
        raise ValueError("mirrors must list at least one base URL")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for file_name, expected in files.items():
        target = dest_dir / file_name
        if not (target.is_file() and _sha256_of_file(target) == expected.lower()):
            _fetch_verified(file_name, expected.lower(), target, mirrors, timeout)
        paths[file_name] = target
    return paths


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_verified(file_name: str, expected: str, target: Path,
                    mirrors: Sequence[str], timeout: float) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        # Some servers turn away urllib's default User-Agent.
        request = urllib.request.Request(url, headers={"User-Agent": "numvae"})

        def fetch(out):
            digest = hashlib.sha256()
            with urllib.request.urlopen(request, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise ChecksumError(f"{file_name}: SHA-256 mismatch for {url}: "
                                    f"expected {expected}, got {digest.hexdigest()}")

        try:
            atomic_write(target, fetch)
            return
        except (OSError, http.client.HTTPException) as exc:
            # URLError, HTTPError and timeouts are OSErrors; a dropped connection
            # can surface as http.client.IncompleteRead.
            failures.append(f"{url}: {exc}")
    raise DataUnavailableError(f"could not download {file_name} from any mirror:\n  "
                               + "\n  ".join(failures))
