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
        Passes over the training set (default 30).
    batch_size : int
        Examples per step; the last batch of an epoch may be smaller (default 100).
    lr : float
        Learning rate (default 1e-3).
    optimizer : {"adam", "sgd"}
        Adam (decay rates ρ₁=0.9, ρ₂=0.999), or SGD with momentum γ=0.9 (default "adam").
    warmup_epochs : float
        The KL weight grows linearly from 0 to the model's β over this many
        epochs (default 0: no warm-up). Helps avoid posterior collapse.
    binarize : {"none", "threshold", "dynamic"} or None
        Grey levels as they are, x > 0.5, or a fresh Bernoulli draw each epoch.
        None (the default) picks by the model's likelihood when the
        ``Trainer`` is built: see :func:`default_binarize`.
    seed : int
        Seeds the trainer's Generator: shuffling, dynamic binarization (default 0).

    Notes
    -----
    These defaults, with those of ``VAE``'s signature, are the ones
    ``numvae train`` uses and the README's table measures.
    """

    epochs: int = 30
    batch_size: int = 100
    lr: float = 1e-3
    optimizer: str = "adam"
    warmup_epochs: float = 0.0
    binarize: str | None = None
    seed: int = 0

    def __post_init__(self):
        # Plain ints and floats, not NumPy scalars: the checkpoint stores them as JSON.
        self.epochs = checks.positive_int("epochs", self.epochs)
        self.batch_size = checks.positive_int("batch_size", self.batch_size)
        self.lr = checks.real("lr", self.lr, minimum=0, strict=True)
        checks.choice("optimizer", self.optimizer, OPTIMIZERS)
        self.warmup_epochs = checks.real("warmup_epochs", self.warmup_epochs, minimum=0)
        if self.binarize is not None:
            checks.choice("binarize", self.binarize, BINARIZE_METHODS)
        self.seed = checks.non_negative_int("seed", self.seed)


def default_binarize(likelihood):
    """The binarization of ``binarize=None``: "dynamic" for a Bernoulli likelihood, "none" for a Gaussian.

    Bernoulli pixels are coins, so their targets are drawn as 0/1, afresh each
    epoch, and the loss is a true bound on a log-probability (Salakhutdinov &
    Murray 2008); a Gaussian models the grey levels themselves.
    """
    return "dynamic" if likelihood == "bernoulli" else "none"


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
