"""The training loop: shuffled minibatches, Adam or SGD, KL warm-up, history.

One step is the three lines every lecture shows::

    terms = model.loss(x_batch)      # forward: caches what backward needs
    grads = model.backward()         # hand-written backprop
    optimizer.step(grads)            # in-place update

``Trainer`` adds what a real run needs around them: an epoch loop over a
shuffled copy of the data (its own ``np.random.Generator``), an optional
binarization per epoch, a linear KL warm-up, the test loss after every epoch,
a stop with a clear message when the loss stops being finite, checkpoints
after every epoch, and resuming from one. The same seed, data and settings
give bit-identical parameters and history; so does a run that was stopped
and resumed from a checkpoint.

Its settings, ``TrainConfig``, are in :mod:`numvae.training.config`; the error a
diverging run raises, ``TrainingDiverged``, and the cause its message names are
in :mod:`numvae.training.diverged`. Both names are importable from here too.
"""

import math
import time
from dataclasses import asdict, replace

import numpy as np

from ..util import checks
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from ..data.binarization import binarize
from ..evaluate import elbo_terms
from ..optim import SGD, Adam
from .config import OPTIMIZERS, TrainConfig, check_overrides, default_binarize
from .diverged import TrainingDiverged, likely_cause

__all__ = ["HISTORY_KEYS", "Trainer", "evaluation_targets",
           # moved to train_config and train_diverged; still importable from here
           "OPTIMIZERS", "TrainConfig", "TrainingDiverged"]

HISTORY_KEYS = (
    "epoch",
    "beta",
    "train_loss",
    "train_reconstruction",
    "train_kl",
    "test_loss",
    "test_reconstruction",
    "test_kl",
)
"""Columns of ``Trainer.history``. Wall-clock time is left out on purpose: the
history of a run is reproducible bit for bit, and timings are not."""


def evaluation_targets(x_test, method, seed):
    """The fixed test set a run is evaluated on, binarized like its training data.

    "none": the grey levels; "threshold": x > 0.5; "dynamic": one Bernoulli
    draw from a Generator seeded by ``seed``, the same at every epoch and in
    ``numvae evaluate``, so test losses compare fairly.
    """
    return binarize(x_test, method, rng=np.random.default_rng([seed, 2]))


class Trainer:
    """Trains a VAE, or a conditional VAE on labelled examples, on arrays of examples.

    Parameters
    ----------
    model : VAE or CVAE
    x_train : array, shape (n_train, input_dim), values in [0, 1] for Bernoulli
    x_test : array, shape (n_test, input_dim), optional
        Evaluated after every epoch (the same noise every epoch, from a
        Generator seeded by ``config.seed``, so epochs compare fairly).
    config : TrainConfig, optional
        Default ``TrainConfig()``. Its ``binarize=None`` becomes
        ``default_binarize(model.likelihood_name)`` here.
    y_train, y_test : array of int, shape (n_train,), (n_test,)
        The labels of x_train and x_test: for a CVAE (``model.n_classes`` > 0)
        only, which needs them; each batch is trained with its own labels.
    """

    def __init__(self, model, x_train, x_test=None, config=None, *, y_train=None, y_test=None):
        self.model = model
        if config is not None and not isinstance(config, TrainConfig):
            raise ValueError(f"config: expected a TrainConfig, got {type(config).__name__}")
        # replace() runs TrainConfig's checks again: a field may have been set since it was built.
        self.config = TrainConfig() if config is None else replace(config)
        if self.config.binarize is None:  # decided here, where the likelihood is known; a checkpoint stores the choice
            self.config = replace(self.config, binarize=default_binarize(model.likelihood_name))
        # Values read as probabilities, by the Bernoulli likelihood or by a
        # binarization, must be in [0, 1]: checked here, naming the array.
        if model.likelihood_name == "bernoulli":
            unit_interval = "for a Bernoulli likelihood"
        else:
            unit_interval = self.config.binarize != "none" and "to binarize them"
        self.x_train = checks.batch("x_train", x_train, model.input_dim, model.dtype, unit_interval=unit_interval)
        self.x_test = None if x_test is None else checks.batch(
            "x_test", x_test, model.input_dim, model.dtype, unit_interval=unit_interval)
        self.y_train = _labels_of(model, "y_train", y_train, self.x_train)
        self.y_test = None if self.x_test is None else _labels_of(model, "y_test", y_test, self.x_test)
        self._x_evaluation_targets = None  # x_test binarized once, on first use
        self.beta = model.beta  # the target β; model.beta follows the warm-up
        self.rng = np.random.default_rng(self.config.seed)
        params = model.parameters()
        if self.config.optimizer == "adam":
            self.optimizer = Adam(params, lr=self.config.lr)
        else:
            self.optimizer = SGD(params, lr=self.config.lr, momentum=0.9)
        self.epoch = 0
        self.history = {key: [] for key in HISTORY_KEYS}
        self.checkpoint_path = None  # where the last good epoch was saved, if anywhere
        self.saved_epoch = None

    # -- one epoch ------------------------------------------------------

    def _warmup_factor(self, step_in_epoch, steps_per_epoch):
        if self.config.warmup_epochs == 0:
            return 1.0
        progress = self.epoch + step_in_epoch / steps_per_epoch
        return min(1.0, progress / self.config.warmup_epochs)

    def train_epoch(self, progress=False):
        """One pass over shuffled training data; returns mean loss terms (dict)."""
        n = len(self.x_train)
        batch_size = self.config.batch_size
        steps = math.ceil(n / batch_size)
        x_epoch = binarize(self.x_train, self.config.binarize, rng=self.rng)
        order = self.rng.permutation(n)
        rec_sum = kl_sum = 0.0
        bar = _progress_bar(steps, f"epoch {self.epoch + 1}", enabled=progress)
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            batch = (x_epoch[index],) if self.y_train is None else (x_epoch[index], self.y_train[index])  # x[, y]
            self.model.beta = self.beta * self._warmup_factor(step, steps)
            # A diverging run overflows before it turns NaN; the check below
            # reports that once and clearly, instead of NumPy warning per op.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                terms = self.model.loss(*batch)
                if not math.isfinite(terms.loss):
                    raise self._diverged(f"the training loss became {terms.loss}", f"step {step + 1}")
                self.optimizer.step(self.model.backward())
            rec_sum += terms.reconstruction * len(index)
            kl_sum += terms.kl * len(index)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{terms.loss:.2f}", refresh=False)
        if bar is not None:
            bar.close()
        rec, kl = rec_sum / n, kl_sum / n
        return {"loss": rec + self.beta * kl, "reconstruction": rec, "kl": kl}

    def _diverged(self, what, where=""):
        where = f"epoch {self.epoch + 1}" + (f", {where}" if where else "")
        if self.saved_epoch is None:
            saved = "no checkpoint was written"
        else:
            saved = f"the checkpoint of epoch {self.saved_epoch} in {self.checkpoint_path} is intact"
        cause = likely_cause(self.model, self.beta, self.config.lr)
        return TrainingDiverged(f"{what} at {where} ({cause}); {saved}")

    def evaluate_test(self):
        """Mean test loss terms (with the target β), or NaNs without test data."""
        if self.x_test is None:
            return {"loss": math.nan, "reconstruction": math.nan, "kl": math.nan}
        if self._x_evaluation_targets is None:
            self._x_evaluation_targets = evaluation_targets(self.x_test, self.config.binarize, self.config.seed)
        beta, self.model.beta = self.model.beta, self.beta
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return elbo_terms(self.model, self._x_evaluation_targets, np.random.default_rng([self.config.seed, 1]),
                                  labels=self.y_test)
        finally:
            self.model.beta = beta

    # -- the loop ---------------------------------------------------------

    def fit(self, epochs=None, checkpoint_path=None, on_epoch=None, progress=False, checkpoint_extra=None):
        """Train until ``epochs`` epochs in total (default ``config.epochs``) are done.

        After every epoch: evaluate the test set, append to ``history``, save
        ``checkpoint_path`` (if given) and call ``on_epoch(trainer, row)``,
        where ``row`` is the epoch's history entry plus its ``"seconds"``.
        Returns ``history``.
        """
        epochs = self.config.epochs if epochs is None else checks.positive_int("epochs", epochs)
        if epochs > self.config.epochs:  # a checkpoint's config records the total asked for
            self.config = replace(self.config, epochs=epochs)
        if checkpoint_path is not None:
            self.checkpoint_path = checkpoint_path
        while self.epoch < epochs:
            start = time.perf_counter()
            train = self.train_epoch(progress=progress)
            if not all(np.all(np.isfinite(p)) for p in self.model.parameters().values()):
                raise self._diverged("the parameters became non-finite", "after its last step")
            state = self.optimizer.state_dict()
            if not all(np.all(np.isfinite(v)) for v in state.values()):  # e.g. Adam's v overflows: g² > 3e38
                raise self._diverged("the optimizer's state became non-finite", "after its last step")
            test = self.evaluate_test()
            if self.x_test is not None and not math.isfinite(test["loss"]):
                raise self._diverged(f"the test loss became {test['loss']}")
            self.epoch += 1
            self.model.beta = self.beta * self._warmup_factor(0, 1)
            row = {
                "epoch": self.epoch,
                "beta": self.model.beta,
                **{f"train_{k}": v for k, v in train.items()},
                **{f"test_{k}": v for k, v in test.items()},
                "seconds": time.perf_counter() - start,
            }
            for key in HISTORY_KEYS:
                self.history[key].append(row[key])
            if checkpoint_path is not None:
                self.save(checkpoint_path, extra=checkpoint_extra)
                self.saved_epoch = self.epoch
            if on_epoch is not None:
                on_epoch(self, row)
        self.model.beta = self.beta
        return self.history

    # -- checkpoints --------------------------------------------------------

    def save(self, path, extra=None):
        """Checkpoint the model, optimizer, history, RNG states and epoch."""
        beta, self.model.beta = self.model.beta, self.beta  # store the target β
        try:
            return save_checkpoint(
                path,
                self.model,
                epoch=self.epoch,
                history=self.history,
                train_config=asdict(self.config),
                optimizer_state=self.optimizer.state_dict(),
                rng_states={
                    "trainer": self.rng.bit_generator.state,
                    "model": self.model.rng.bit_generator.state,
                },
                extra=extra,
            )
        finally:
            self.model.beta = beta

    @classmethod
    def resume(cls, checkpoint, x_train, x_test=None, *, y_train=None, y_test=None, **overrides):
        """Rebuild a trainer from a checkpoint, ready to continue with ``fit``.

        Parameters
        ----------
        checkpoint : path or Checkpoint
            A file written by ``save`` (or the result of ``load_checkpoint``).
        x_train, x_test : arrays
            The data the run was trained on.
        y_train, y_test : arrays of int, optional
            Their labels, for a CVAE.
        **overrides
            Fields of the saved ``TrainConfig`` to replace (typically
            ``epochs``, to train further).

        Returns
        -------
        (Trainer, Checkpoint)
        """
        ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
        if set(ckpt.rng_states) != {"trainer", "model"} or not ckpt.train_config:
            raise CheckpointError(f"{ckpt.path}: holds a model but no training state to resume from")
        check_overrides(ckpt.train_config, overrides)
        try:
            config = TrainConfig(**{**ckpt.train_config, **overrides})
            trainer = cls(ckpt.model, x_train, x_test, config, y_train=y_train, y_test=y_test)
            trainer.optimizer.load_state_dict(ckpt.optimizer_state)
            trainer.rng.bit_generator.state = ckpt.rng_states["trainer"]
            trainer.model.rng.bit_generator.state = ckpt.rng_states["model"]
            trainer.epoch = int(ckpt.epoch)
            if ckpt.path is not None:
                trainer.checkpoint_path, trainer.saved_epoch = ckpt.path, trainer.epoch
            trainer.history = {key: list(ckpt.history.get(key, [])) for key in HISTORY_KEYS}
        except (KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"{ckpt.path}: damaged training state ({type(exc).__name__}: {exc})") from None
        except ValueError as exc:
            if str(exc).startswith(("x_train", "x_test", "y_train", "y_test")):
                raise  # the data does not fit the model: not the file's fault
            raise CheckpointError(f"{ckpt.path}: damaged training state ({exc})") from None
        return trainer, ckpt


def _labels_of(model, name, y, x):
    """The checked labels ``y`` of ``x`` for a CVAE; None for a VAE, which takes none."""
    if not model.n_classes:
        if y is not None:
            raise ValueError(f"{name}: a VAE trains on images alone; labels are for a CVAE")
        return None
    if y is None:
        raise ValueError(f"{name}: a CVAE trains on labelled images: pass the labels of {name.replace('y', 'x', 1)}")
    return checks.labels(name, y, model.n_classes, len(x))


def _progress_bar(total, description, enabled):
    """A tqdm bar if asked for, else None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm  # imported only when a bar is shown: it is slow to import

    return tqdm(total=total, desc=description, leave=False, unit="batch")
