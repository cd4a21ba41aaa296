"""What ``numvae exercises train`` trains: numvae's VAE, M2 or M1+M2, computing with a student's functions.

:func:`settle_flags` refuses the flags of another model than ``--model``
and fills in the defaults; :func:`train_vae` writes what ``numvae train``
writes, :func:`train_semi` prints what ``numvae semi`` prints, from the same
code (:func:`numvae.cli.semi.train_and_report`), so the solutions give the
same numbers. :mod:`.swap` puts the student's functions into the engine.
"""

import contextlib
import shlex
import time
from pathlib import Path

import numpy as np

from ..cli.common import say


def _train_defaults():
    """Each model's flags and their defaults (DIR and --seed aside): a flag missing from a model's row is refused."""
    from ..cli.train import TRAIN_DEFAULTS  # the VAE has numvae train's hidden layers

    semi = {"hidden": [256], "labels_per_class": 10, "alpha": None}  # numvae semi's (α None: its default)
    return {
        "vae": {"epochs": 30, "hidden": TRAIN_DEFAULTS["hidden"], "latent_dim": 2, "activation": "relu",
                "likelihood": "bernoulli", "binarize": None, "batch_size": 100, "lr": 1e-3, "out": None,
                "overwrite": False},
        "m2": {"epochs": 20, **semi},
        "m1m2": {"epochs": 50, "m1_epochs": 30, **semi},
    }


def settle_flags(args):
    """Refuse a flag of another model than ``--model`` (one line, naming it), and fill in the defaults of this one."""
    from ..cli.common import flag

    defaults = _train_defaults()
    for name in dict.fromkeys(name for row in defaults.values() for name in row):
        if name not in defaults[args.model] and getattr(args, name) not in (None, False):
            models = " or ".join(model for model, row in defaults.items() if name in row)
            raise ValueError(f"{flag(name)}: only used with --model {models}, got --model {args.model}")
    for name, value in defaults[args.model].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.model != "vae" and len(args.hidden) != 1:
        raise ValueError(f"--hidden: M2's networks have one hidden layer, as in numvae semi; "
                         f"expected one size, got {len(args.hidden)}")


@contextlib.contextmanager
def stopped_in_one_line(directory):
    """A student's function that raises (or calls exit()) mid-run stops the training with one line.

    The traceback's frames are gone from one line: ``check`` names the
    function, and why, and the line says so.
    """
    from ..cli.common import CommandError
    from .properties.core import describe

    try:
        yield
    except (OSError, CommandError):
        raise
    except (Exception, SystemExit) as exc:
        raise ValueError(f"training stopped: {describe(exc)} (numvae exercises check {shlex.quote(directory)} "
                         "tests each of your functions on its own)") from None


def train_vae(args, directory, functions):
    """Train numvae's VAE on ``functions`` into --out, as numvae train does; returns the exit status."""
    from ..cli import rundir
    from .swap import swapped

    out = Path(args.out) if args.out else directory / "run"
    # As numvae train: --out checked writable and locked for the whole run (a second run on it
    # refuses, naming the holder), and stale temporaries of a killed save removed.
    with rundir.prepare(out):
        if (out / "model.npz").exists() and not args.overwrite:
            raise ValueError(f"--out: {out / 'model.npz'} exists; add --overwrite to train again into it, "
                             "or choose another --out")
        with swapped(functions):  # numvae's VAE and Adam, built and run on the student's functions
            return _train_into(args, out)


def train_semi(args, functions):
    """Train M2 or M1+M2 on ``functions`` as numvae semi does (nothing written); returns the exit status."""
    from ..cli.semi import train_and_report
    from ..data.datasets import load_dataset
    from .swap import swapped

    dataset = load_dataset("mnist5k", dtype=np.float32)
    with swapped(functions), stopped_in_one_line(args.dir):  # numvae's M2, VAE and Adam on the student's functions
        train_and_report(dataset, args.model, args.labels_per_class, args.epochs, args.m1_epochs, args.hidden[0],
                         args.alpha, args.seed, every=10)
    return 0


def _train_into(args, out):
    """Train numvae's VAE into the prepared directory ``out``; returns the exit status."""
    from ..cli import write_figures, write_history_csv
    from ..cli.train import default_binarize
    from ..data.datasets import load_dataset
    from ..training.trainer import TrainConfig, Trainer
    from ..vae import VAE

    dataset = load_dataset("mnist5k", dtype=np.float32)
    model = VAE(
        input_dim=dataset.x_train.shape[1], hidden_dims=args.hidden, latent_dim=args.latent_dim,
        likelihood=args.likelihood, activation=args.activation,
        sigma=0.1 if args.likelihood == "gaussian" else None, dtype=np.float32, seed=args.seed,
    )
    binarize = args.binarize or default_binarize(args.likelihood)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, binarize=binarize, seed=args.seed)
    trainer = Trainer(model, dataset.x_train, dataset.x_test, config)  # numvae.Adam on model.parameters()
    history_csv = out / "history.csv"

    def on_epoch(t, row):
        say(f"epoch {row['epoch']:>3}/{config.epochs}  train loss {row['train_loss']:8.2f}  "
            f"test loss {row['test_loss']:8.2f}  {row['seconds']:.1f}s")
        write_history_csv(t.history, history_csv)

    start = time.perf_counter()
    with stopped_in_one_line(args.dir):
        trainer.fit(checkpoint_path=out / "model.npz", checkpoint_extra={"dataset": dataset.name}, on_epoch=on_epoch)
    written = [out / "model.npz", history_csv, *write_figures(model, trainer.history, dataset, out, seed=args.seed)]
    say(f"trained {trainer.epoch} epochs in {time.perf_counter() - start:.1f}s; wrote "
        + ", ".join(str(p) for p in written))
    return 0
