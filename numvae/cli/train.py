"""``numvae train``: train a VAE, or resume one, writing checkpoint, history and figures.

``--model cvae`` trains a conditional VAE (:class:`numvae.cvae.CVAE`) on the
dataset's images and their labels, one class per label of the dataset.

The output directory is locked for the whole run (:mod:`numvae.cli.rundir`);
the checkpoint is saved after every epoch and ``history.csv`` is rewritten
from it, so the two always agree, whatever stops the run.
"""

import inspect
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..cvae import CVAE
from ..training.config import TrainConfig, default_binarize
from ..util import checks
from ..vae import VAE
from .common import DATA_DIR_HELP, DOWNLOAD_HELP, CommandError, flag, non_negative_int, number, path_text, positive_int, say
from .datasets import describe, saved_dataset

DEFAULT_OUT = "runs/{dataset}"
MODELS = {"vae": VAE, "cvae": CVAE}
"""``--model``: the VAE, or the conditional VAE trained with the labels."""
MEMORY_HINT = "the model or a batch is too large for this machine: try a smaller --hidden or --batch-size"

MODEL_FLAGS = {"latent_dim": "latent_dim", "hidden": "hidden_dims", "activation": "activation",
               "likelihood": "likelihood", "sigma": "sigma", "learn_sigma": "learn_sigma", "beta": "beta"}
"""The flags that build the ``VAE``, and the constructor argument each one sets."""

CONFIG_FLAGS = ("warmup_epochs", "binarize", "batch_size", "lr", "optimizer", "seed")
"""The flags that set a field of ``TrainConfig``, of the same name (``--epochs`` aside: see below)."""


def _train_defaults():
    model = inspect.signature(VAE).parameters
    config = {field.name: field.default for field in fields(TrainConfig)}
    return {"dataset": "mnist5k", "model": "vae",
            **{name: model[argument].default for name, argument in MODEL_FLAGS.items()},
            **{name: config[name] for name in CONFIG_FLAGS}}


TRAIN_DEFAULTS = _train_defaults()
"""Settings of ``numvae train`` that a checkpoint fixes: given with ``--resume``
they are refused rather than silently ignored, so their parser default is None
and these values are filled in for a new run. They are not written here but
read from ``VAE``'s signature and ``TrainConfig``'s fields, where they are
stated once (``binarize=None``: see :func:`numvae.training.config.default_binarize`;
``sigma=None``: the model's 0.1). ``--epochs``, which ``--resume`` may raise,
defaults to ``TrainConfig.epochs``.

Chosen by measurement (30 epochs on mnist5k, seeds 0-2): three hidden layers of
256 reach a test loss near 153 nats where one layer of 400 stays near 169 and
draws fragments among its prior samples; dynamic binarization makes the loss a
true (bound on a) log-likelihood, narrows the train/test gap and costs no time."""

SMALLEST_SIGMA = float(np.finfo(np.float32).max ** -0.25)
"""Below this σ (7.4e-10) the squared gradients Adam keeps, of order 1/σ⁴, overflow float32."""


def add_parser(subparsers):
    from ..data.binarization import BINARIZE_METHODS
    from ..data.datasets import DATASETS
    from ..vae import HIDDEN_ACTIVATIONS, LIKELIHOODS

    d = TRAIN_DEFAULTS
    p = subparsers.add_parser(
        "train",
        help="train a VAE and write model, history and figures",
        description="Train a VAE on a dataset and write its checkpoint, history.csv and figures to --out.",
    )
    p.add_argument("--model", choices=tuple(MODELS),
                   help="vae, or cvae: a conditional VAE trained with the labels, which draws a chosen class "
                        f"(numvae sample --class) (default: {d['model']})")
    p.add_argument("--dataset", choices=DATASETS, help=f"the images to train on (default: {d['dataset']}, built in)")
    p.add_argument("--data-dir", type=path_text, metavar="DIR", help=DATA_DIR_HELP)
    p.add_argument("--download", action="store_true", help=DOWNLOAD_HELP)
    p.add_argument("--epochs", type=positive_int, default=TrainConfig.epochs,
                   help="total passes over the training set, also with --resume (default: %(default)s)")
    p.add_argument("--latent-dim", type=positive_int, help=f"size J of the latent code z (default: {d['latent_dim']})")
    p.add_argument("--hidden", type=positive_int, nargs="+", metavar="UNITS",
                   help="hidden layer sizes of the encoder; the decoder mirrors them "
                        f"(default: {' '.join(map(str, d['hidden']))})")
    p.add_argument("--activation", choices=HIDDEN_ACTIVATIONS,
                   help=f"nonlinearity between hidden layers (default: {d['activation']})")
    p.add_argument("--likelihood", choices=LIKELIHOODS,
                   help=f"the decoder's p(x|z): Bernoulli pixels, or Gaussian with std σ (default: {d['likelihood']})")
    p.add_argument("--sigma", type=number(strict=True),
                   help="Gaussian only: the decoder's standard deviation σ (default: 0.1)")
    p.add_argument("--learn-sigma", action="store_true", default=None,
                   help="Gaussian only: learn a per-pixel σ, starting at --sigma")
    p.add_argument("--beta", type=number(strict=False),
                   help=f"KL weight β; the loss is reconstruction + β·KL (default: {d['beta']:g})")
    p.add_argument("--warmup-epochs", type=number(strict=False),
                   help=f"grow β linearly from 0 over this many epochs (default: {d['warmup_epochs']:g}, no warm-up)")
    p.add_argument("--binarize", choices=BINARIZE_METHODS,
                   help="none: grey levels as they are; threshold: pixel > 0.5; dynamic: a fresh 0/1 "
                        f"draw with P(1) = the grey level, every epoch (default: {default_binarize('bernoulli')} "
                        f"with a Bernoulli likelihood, {default_binarize('gaussian')} with a Gaussian one)")
    p.add_argument("--batch-size", type=positive_int, help=f"images per optimizer step (default: {d['batch_size']})")
    p.add_argument("--lr", type=number(strict=True), help=f"learning rate η (default: {d['lr']:g})")
    p.add_argument("--optimizer", choices=("adam", "sgd"),
                   help=f"adam, or sgd with momentum 0.9 (default: {d['optimizer']})")
    p.add_argument("--seed", type=non_negative_int,
                   help=f"seeds the weights, shuffling and noise: same seed, same run (default: {d['seed']})")
    p.add_argument("--out", type=path_text, metavar="DIR", help="output directory (default: runs/DATASET)")
    p.add_argument("--resume", action="store_true",
                   help="continue OUT/model.npz up to --epochs in total, with the checkpoint's settings")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def _settings_line(model, config, dataset_name, out):
    """The settings of a run as the flags that reproduce it, in one line."""
    model_config = model.config()
    settings = {
        "dataset": dataset_name,
        "epochs": config.epochs,
        "latent_dim": model_config["latent_dim"],
        "hidden": " ".join(map(str, model_config["hidden_dims"])),
        "activation": model_config["activation"],
        "likelihood": model_config["likelihood"],
    }
    if model_config["likelihood"] == "gaussian":
        settings["sigma"] = f"{model_config['sigma']:g}"
    settings.update(
        beta=f"{model_config['beta']:g}",
        warmup_epochs=f"{config.warmup_epochs:g}",
        binarize=config.binarize,
        batch_size=config.batch_size,
        lr=f"{config.lr:g}",
        optimizer=config.optimizer,
        seed=config.seed,
        out=out,
    )
    if model.n_classes:  # the default --model vae goes unsaid
        settings = {"model": "cvae", **settings}
    line = " ".join(f"{flag(name)} {value}" for name, value in settings.items())
    if model_config["learn_sigma"]:
        line += " --learn-sigma"
    return "settings: " + line


def _check_new_run_flags(args):
    if (args.likelihood or TRAIN_DEFAULTS["likelihood"]) == "bernoulli":
        for name in ("sigma", "learn_sigma"):
            if getattr(args, name) is not None:
                raise CommandError(f"{flag(name)}: only used with --likelihood gaussian, got --likelihood bernoulli")
    if args.sigma is not None and args.sigma < SMALLEST_SIGMA:
        if args.sigma**2 < np.finfo(np.float32).tiny:
            why = f"σ² = {args.sigma ** 2:.3g} underflows in float32, so 1/σ² is infinite"
        else:
            why = f"the squared gradients, of order 1/σ⁴ = {args.sigma ** -4:.3g}, overflow float32"
        raise CommandError(f"--sigma: {why}; expected σ ≥ {SMALLEST_SIGMA:.2g}, got {args.sigma:g}")


def _check_model_fits(input_dim, hidden, latent_dim, dtype, n_classes=0):
    """Refuse, naming the widest layer's setting, a model whose training state would not fit in memory.

    Checked before the model is built: numpy would otherwise fail deep inside
    ("Maximum allowed dimension exceeded"), or the OS grant the memory lazily
    and the OOM killer end the run much later.
    """
    encoder = (input_dim + n_classes, *hidden, 2 * latent_dim)
    decoder = (latent_dim + n_classes, *reversed(hidden), input_dim)
    n = sum((fan_in + 1) * fan_out for sizes in (encoder, decoder) for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    name, value, option = ("latent_dim", latent_dim, "--latent-dim")
    if max(hidden, default=0) > latent_dim:
        name, value, option = ("hidden_dims", tuple(hidden), "--hidden")
    try:
        # Parameters, gradients and an optimizer's state (Adam: m, v and a scratch buffer).
        checks.fits_in_memory(name, value, 5 * n * np.dtype(dtype).itemsize,
                              f"{n:,} parameters with their gradients and Adam's state")
    except ValueError as exc:
        raise CommandError(f"{exc}; try a smaller {option}") from None


def _new_trainer(args, checkpoint):
    from ..data.datasets import CLASS_NAMES
    from ..training.trainer import Trainer
    from .datasets import load

    if checkpoint.exists():
        raise CommandError(f"--out: {checkpoint} exists; pass --resume to continue it, or choose another --out")
    _check_new_run_flags(args)
    for name, value in TRAIN_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    config = TrainConfig(epochs=args.epochs, **{name: getattr(args, name) for name in CONFIG_FLAGS})
    dataset, where = load(args.dataset, args.data_dir, args.download, np.float32)
    conditional = {"n_classes": len(CLASS_NAMES[dataset.name])} if args.model == "cvae" else {}
    _check_model_fits(dataset.x_train.shape[1], args.hidden, args.latent_dim, np.float32, **conditional)
    model = MODELS[args.model](
        input_dim=dataset.x_train.shape[1],
        **conditional,
        **{argument: getattr(args, name) for name, argument in MODEL_FLAGS.items()},
        dtype=np.float32,
        seed=args.seed,
    )
    labels = {"y_train": dataset.y_train, "y_test": dataset.y_test} if conditional else {}
    return Trainer(model, dataset.x_train, dataset.x_test, config, **labels), dataset, where


def _resume_trainer(args, checkpoint):
    """The trainer of ``--resume``: the checkpoint's settings, its dataset."""
    from ..training.checkpoint import load_checkpoint
    from ..training.trainer import Trainer
    from .datasets import load

    given = [name for name in TRAIN_DEFAULTS if name != "dataset" and getattr(args, name) is not None]
    if given:
        raise CommandError(
            f"{flag(given[0])}: cannot change a setting when resuming ({checkpoint} keeps its own); "
            "drop the flag, or train a new model into another --out"
        )
    if not checkpoint.exists():
        raise CommandError(f"--resume: no such checkpoint file {checkpoint}; drop --resume to train a new model")
    ckpt = load_checkpoint(checkpoint)
    saved = saved_dataset(ckpt)
    if args.dataset is not None and args.dataset != saved:
        raise CommandError(f"--dataset: {checkpoint} was trained on {saved}, got {args.dataset}")
    if ckpt.epoch >= args.epochs:
        raise CommandError(f"--epochs: {checkpoint} already has {ckpt.epoch} epochs, asked for {args.epochs} in total")
    dataset, where = load(saved, args.data_dir, args.download, ckpt.model.dtype)
    labels = {"y_train": dataset.y_train, "y_test": dataset.y_test} if ckpt.model.n_classes else {}
    trainer, _ = Trainer.resume(ckpt, dataset.x_train, dataset.x_test, epochs=args.epochs, **labels)
    return trainer, dataset, where


def run(args):
    from ..training.checkpoint import CheckpointError
    from . import rundir
    from .figures import write_figures

    from ..training.threads import set_blas_threads

    out = Path(args.out or DEFAULT_OUT.format(dataset=args.dataset or TRAIN_DEFAULTS["dataset"]))
    checkpoint, history_csv = out / "model.npz", out / "history.csv"
    threads, reason = set_blas_threads()  # once, before any matrix product: see numvae/training/threads.py
    with rundir.prepare(out) as removed:
        if removed:
            say(f"removed {removed} temporary file(s) an interrupted save left in {out}")
        trainer, dataset, where = (_resume_trainer if args.resume else _new_trainer)(args, checkpoint)
        first_epoch = trainer.epoch
        if args.resume:
            rundir.write_history_csv(trainer.history, history_csv)  # whatever state the CSV was left in
            say(f"resuming {checkpoint} at epoch {first_epoch}")
        say(_settings_line(trainer.model, trainer.config, dataset.name, out))
        say(describe(dataset, where) + f"; {sum(p.size for p in trainer.model.parameters().values()):,} parameters")
        say(f"BLAS threads: {'as ' + reason + ' says' if threads is None else f'{threads} ({reason})'}")

        def on_epoch(t, row):
            rundir.write_history_csv(t.history, history_csv)  # the history just saved in the checkpoint
            say(_epoch_line(row, t.config.epochs))

        start = time.perf_counter()
        try:
            trainer.fit(
                checkpoint_path=checkpoint,
                checkpoint_extra={"dataset": dataset.name},
                on_epoch=on_epoch,
                progress=not args.no_progress and _stderr_is_terminal(),
            )
        except BaseException:
            # Stopped between a save and its CSV (Ctrl-C, a full disk): the CSV
            # follows the checkpoint, with a second Ctrl-C held back until it is
            # written. If even this fails, the next --resume does it.
            if checkpoint.exists():
                with rundir.sigint_held():
                    try:
                        rundir.write_history_csv(rundir.history_of(checkpoint), history_csv)
                    except (OSError, CheckpointError):
                        pass
            raise
        elapsed = time.perf_counter() - start
        written = [checkpoint, history_csv]
        written += write_figures(trainer.model, trainer.history, dataset, out, seed=trainer.config.seed)
    done = trainer.epoch - first_epoch
    if args.resume:
        what = f"trained {done} more epoch{'s' * (done != 1)} ({first_epoch} → {trainer.epoch})"
    else:
        what = f"trained {done} epoch{'s' * (done != 1)}"
    say(f"{what} in {elapsed:.1f}s; wrote " + ", ".join(str(p) for p in written))
    say(f"the test loss is a one-noise-draw estimate of the -ELBO; numvae evaluate {checkpoint} "
        f"repeats it and estimates {'log p(x|y)' if trainer.model.n_classes else 'log p(x)'}")


def _epoch_line(row, epochs):
    """One epoch in one line; loss = rec + beta * KL (the -ELBO when beta = 1)."""
    return (
        f"epoch {row['epoch']:>3}/{epochs}  "
        f"train loss {row['train_loss']:8.2f} (rec {row['train_reconstruction']:7.2f}, KL {row['train_kl']:6.2f})  "
        f"test loss {row['test_loss']:8.2f} (rec {row['test_reconstruction']:7.2f}, KL {row['test_kl']:6.2f})  "
        f"beta {row['beta']:.2f}  {row['seconds']:.1f}s"
    )


def _stderr_is_terminal():
    import sys

    try:
        return sys.stderr.isatty()
    except ValueError:
        return False
