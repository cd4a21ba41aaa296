"""Loading a dataset for a command: where it was found, and a clear message when it was not."""

from pathlib import Path

from .common import CommandError


def saved_dataset(ckpt):
    """The dataset a checkpoint was trained on (``extra.dataset``; mnist5k if not recorded)."""
    from ..data.datasets import DATASETS

    name = ckpt.extra.get("dataset", "mnist5k")
    if name not in DATASETS:
        raise CommandError(f"{ckpt.path}: extra.dataset: expected one of {', '.join(DATASETS)}, got {name!r}")
    return name


def load(name, data_dir, download, dtype):
    """Load dataset ``name``; returns ``(dataset, where)``, ``where`` a phrase naming its source."""
    from ..data.datasets import IDX_FILES, DataUnavailableError, load_dataset, search_dirs

    if name != "mnist5k" and data_dir is not None and Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise CommandError(f"--data-dir: expected a directory, got the file {str(data_dir)!r}")
    try:
        dataset = load_dataset(name, data_dir=data_dir, download=download, dtype=dtype)
    except DataUnavailableError:
        if name == "mnist5k" or download:
            raise
        searched = ", ".join(str(d) for d in search_dirs(name, data_dir))
        raise CommandError(
            f"{name}: its four IDX files were not found. "
            f"Pass --download to fetch them, or --data-dir DIR to name a directory holding them. "
            f"Searched: {searched}."
        ) from None
    if name == "mnist5k":
        return dataset, "the copy built into numvae"
    for directory in search_dirs(name, data_dir):
        if all(_exists(Path(directory) / f) for f in IDX_FILES.values()):
            return dataset, str(directory)
    return dataset, "its IDX files"


def _exists(path):
    return path.is_file() or path.with_name(path.name + ".gz").is_file()


def describe(dataset, where):
    """One line: what the data is and where it came from."""
    return (
        f"data: {dataset.name} from {where}: "
        f"{len(dataset.x_train):,} train / {len(dataset.x_test):,} test images"
    )
