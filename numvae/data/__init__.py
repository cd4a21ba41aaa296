"""The data a VAE trains on: datasets, their files, and binarization (machinery, not math).

* :mod:`.datasets`     — ``load_dataset(name)``: mnist5k, MNIST, Fashion-MNIST as arrays in [0, 1]
* :mod:`.mnist5k`      — the 5,000-image MNIST subset shipped in the package (``mnist5k.npz``)
* :mod:`.idx`          — reading (and checking) the IDX files MNIST and Fashion-MNIST come in
* :mod:`.download`     — the optional verified download, with :mod:`.watchdog` for stalled mirrors
* :mod:`.binarization` — grey levels to bits (threshold, or a fresh draw per epoch)
"""

from .datasets import CLASS_NAMES, DATASETS, Dataset, load_dataset
from .idx import DataUnavailableError

__all__ = ["CLASS_NAMES", "DATASETS", "Dataset", "DataUnavailableError", "load_dataset"]
