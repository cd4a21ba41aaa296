"""The settings of a training run: ``TrainConfig``, checked when built, and what a resumed run may change.

A checkpoint stores a ``TrainConfig`` as the JSON object of its fields (see
:mod:`numvae.training.checkpoint`), so every field is a plain int, float or str.
:func:`check_overrides` decides which fields ``Trainer.resume`` (in
:mod:`numvae.training.trainer`) may replace.
"""

from dataclasses import dataclass, fields

from ..util import checks
from ..data.binarization import BINARIZE_METHODS

OPTIMIZERS = ("adam", "sgd")


@dataclass
class TrainConfig:
    """Settings of a training run.

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    batch_size : int
        Examples per step (the last batch of an epoch may be smaller).
    lr : float
        Learning rate.
    optimizer : {"adam", "sgd"}
        Adam (decay rates ρ₁=0.9, ρ₂=0.999), or SGD with momentum γ=0.9.
    warmup_epochs : float
        The KL weight grows linearly from 0 to the model's β over this many
        epochs (0: no warm-up). Helps avoid posterior collapse.
    binarize : {"none", "threshold", "dynamic"}
        Grey levels as they are, x > 0.5, or a fresh Bernoulli draw each epoch.
    seed : int
        Seeds the trainer's Generator (shuffling, dynamic binarization).
    """

    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-3
    optimizer: str = "adam"
    warmup_epochs: float = 0.0
    binarize: str = "none"
    seed: int = 0

    def __post_init__(self):
        # Plain ints and floats, not NumPy scalars: the checkpoint stores them as JSON.
        self.epochs = checks.positive_int("epochs", self.epochs)
        self.batch_size = checks.positive_int("batch_size", self.batch_size)
        self.lr = checks.real("lr", self.lr, minimum=0, strict=True)
        checks.choice("optimizer", self.optimizer, OPTIMIZERS)
        self.warmup_epochs = checks.real("warmup_epochs", self.warmup_epochs, minimum=0)
        checks.choice("binarize", self.binarize, BINARIZE_METHODS)
        self.seed = checks.non_negative_int("seed", self.seed)


def check_overrides(saved, overrides):
    """Refuse an override of ``Trainer.resume`` as the caller's mistake (ValueError), not the file's.

    An override must name a field of TrainConfig and hold a valid value; the
    optimizer cannot change, since the checkpoint holds its state (Adam's m
    and v are not SGD's velocity).
    """
    names = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"overrides: expected fields of TrainConfig ({', '.join(names)}), got {', '.join(unknown)}")
    TrainConfig(**overrides)  # each value checked as in any config
    optimizer = saved.get("optimizer", TrainConfig.optimizer)
    if overrides.get("optimizer", optimizer) != optimizer:
        raise ValueError(f"optimizer: the checkpoint holds the state of {optimizer!r}, so a run resumes "
                         f"only with it, got {overrides['optimizer']!r}")
