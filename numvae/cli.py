"""The ``numvae`` command: ``train``, ``evaluate``, ``sample`` and ``exercises``.

Run ``numvae train`` with no arguments for the offline default: a VAE with a
2-D latent space on the 5,000-image MNIST subset, in well under a minute,
writing ``runs/mnist5k/model.npz``, ``history.csv`` and the figures.

Every error (a bad argument, a missing or damaged file, unavailable data, a
diverged run) is printed as one line on stderr, with exit status 1 (2 for a
malformed command line), and no traceback.
"""

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__
from .exercises import cli as exercises_cli

DEFAULT_OUT = "runs/{dataset}"

TRAIN_DEFAULTS = {
    "dataset": "mnist5k",
    "latent_dim": 2,
    "hidden": [400],
    "activation": "relu",
    "likelihood": "bernoulli",
    "sigma": 0.1,
    "learn_sigma": False,
    "beta": 1.0,
    "warmup_epochs": 0.0,
    "binarize": "none",
    "batch_size": 100,
    "lr": 1e-3,
    "optimizer": "adam",
    "seed": 0,
}
"""Settings of ``numvae train`` that a checkpoint fixes: given with ``--resume``
they are refused rather than silently ignored, so their parser default is None
and these values are filled in for a new run."""


class CommandError(Exception):
    """An error the command line reports as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not usage + error) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _number(strict):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value) or value < 0 or (strict and value == 0):
            raise argparse.ArgumentTypeError(
                f"expected a {'positive' if strict else 'non-negative'} number, got {text!r}"
            )
        return value

    return parse


def build_parser():
    from .data import BINARIZE_METHODS, DATASETS
    from .vae import HIDDEN_ACTIVATIONS, LIKELIHOODS

    parser = _Parser(prog="numvae", description="A Variational Autoencoder in NumPy, for teaching.")
    parser.add_argument("--version", action="version", version=f"numvae {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{train,evaluate,sample,exercises}", parser_class=_Parser)
    commands.required = True

    train = commands.add_parser("train", help="train a VAE and write model, history and figures")
    d = TRAIN_DEFAULTS
    train.add_argument("--dataset", choices=DATASETS, help=f"default: {d['dataset']}")
    train.add_argument("--data-dir", help="directory holding the IDX files (mnist, fashion-mnist)")
    train.add_argument("--download", action="store_true", help="download mnist/fashion-mnist if not found")
    train.add_argument("--epochs", type=_positive_int, default=30, help="total epochs (default: %(default)s)")
    train.add_argument("--latent-dim", type=_positive_int, help=f"default: {d['latent_dim']}")
    train.add_argument("--hidden", type=_positive_int, nargs="+", help="hidden layer sizes (default: 400)")
    train.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, help=f"default: {d['activation']}")
    train.add_argument("--likelihood", choices=LIKELIHOODS, help=f"default: {d['likelihood']}")
    train.add_argument("--sigma", type=_number(strict=True), help=f"Gaussian σ (default: {d['sigma']})")
    train.add_argument("--learn-sigma", action="store_true", default=None,
                       help="Gaussian: learn a per-pixel σ, starting at --sigma")
    train.add_argument("--beta", type=_number(strict=False), help=f"KL weight (default: {d['beta']})")
    train.add_argument("--warmup-epochs", type=_number(strict=False), help="linear KL warm-up (default: 0)")
    train.add_argument("--binarize", choices=BINARIZE_METHODS, help=f"default: {d['binarize']}")
    train.add_argument("--batch-size", type=_positive_int, help=f"default: {d['batch_size']}")
    train.add_argument("--lr", type=_number(strict=True), help=f"default: {d['lr']}")
    train.add_argument("--optimizer", choices=("adam", "sgd"), help=f"default: {d['optimizer']}")
    train.add_argument("--seed", type=_non_negative_int, help=f"default: {d['seed']}")
    train.add_argument("--out", help="output directory (default: runs/DATASET)")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue OUT/model.npz up to --epochs in total, with the checkpoint's settings",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="test ELBO and importance-weighted log-likelihood")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--dataset", choices=DATASETS, help="default: the one the model was trained on")
    evaluate.add_argument("--data-dir", help="directory holding the IDX files (mnist, fashion-mnist)")
    evaluate.add_argument("--download", action="store_true", help="download mnist/fashion-mnist if not found")
    evaluate.add_argument("--iw-samples", type=_positive_int, default=100, help="K (default: %(default)s)")
    evaluate.add_argument("--seed", type=_non_negative_int, default=0)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    sample = commands.add_parser("sample", help="decode draws from the prior into a PNG grid")
    sample.add_argument("checkpoint")
    sample.add_argument("--n", type=_positive_int, default=64, help="default: %(default)s")
    sample.add_argument("--seed", type=_non_negative_int, default=0)
    sample.add_argument("--out", help="PNG path (default: next to the checkpoint)")
    exercises_cli.add_parser(commands)
    return parser


# --------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------


def _epoch_line(row, epochs):
    """One epoch in one line; loss = rec + beta * KL (the -ELBO when beta = 1)."""
    return (
        f"epoch {row['epoch']:>3}/{epochs}  "
        f"train loss {row['train_loss']:8.2f} (rec {row['train_reconstruction']:7.2f}, KL {row['train_kl']:6.2f})  "
        f"test loss {row['test_loss']:8.2f} (rec {row['test_reconstruction']:7.2f}, KL {row['test_kl']:6.2f})  "
        f"beta {row['beta']:.2f}  {row['seconds']:.1f}s"
    )


def write_history_csv(history, path):
    from .files import atomic_write

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(history)
    writer.writerows(zip(*history.values()))
    return atomic_write(path, lambda f: f.write(text.getvalue().encode()))


def write_figures(model, history, dataset, out_dir, seed=0):
    """The figures of a training run; returns the paths written."""
    from . import plots

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    written = [plots.plot_loss_curves(history, out_dir / "loss_curves.png")]
    x = dataset.x_test[:10]
    written.append(plots.plot_reconstructions(x, model.reconstruct(x), out_dir / "reconstructions.png"))
    written.append(
        plots.plot_image_grid(model.sample(64, rng=rng), out_dir / "prior_samples.png", title="Samples from the prior")
    )
    if model.latent_dim == 2:
        mu, _ = model.encode(dataset.x_test)
        written.append(plots.plot_latent_scatter(mu, dataset.y_test, out_dir / "latent_scatter.png"))
        written.append(plots.plot_manifold(model.decode, out_dir / "manifold.png"))
    return written


def _flag(name):
    return "--" + name.replace("_", "-")


def _resume_trainer(args, checkpoint):
    """The trainer of ``--resume``: the checkpoint's settings, its dataset."""
    from .checkpoint import load_checkpoint
    from .data import load_dataset
    from .train import Trainer

    given = [name for name in TRAIN_DEFAULTS if name != "dataset" and getattr(args, name) is not None]
    if given:
        raise CommandError(
            f"{_flag(given[0])}: cannot change a setting when resuming ({checkpoint} keeps its own); "
            "drop the flag, or train a new model into another --out"
        )
    ckpt = load_checkpoint(checkpoint)
    saved = ckpt.extra.get("dataset", TRAIN_DEFAULTS["dataset"])
    if args.dataset is not None and args.dataset != saved:
        raise CommandError(f"--dataset: {checkpoint} was trained on {saved}, got {args.dataset}")
    if ckpt.epoch >= args.epochs:
        raise CommandError(f"--epochs: {checkpoint} already has {ckpt.epoch} epochs, asked for {args.epochs} in total")
    dataset = load_dataset(saved, data_dir=args.data_dir, download=args.download, dtype=ckpt.model.dtype)
    trainer, _ = Trainer.resume(ckpt, dataset.x_train, dataset.x_test, epochs=args.epochs)
    print(f"resuming {checkpoint} at epoch {trainer.epoch}")
    return trainer, dataset


def _new_trainer(args, checkpoint):
    from .data import load_dataset
    from .train import TrainConfig, Trainer
    from .vae import VAE

    if checkpoint.exists():
        raise CommandError(f"--out: {checkpoint} exists; pass --resume to continue it, or choose another --out")
    for name, value in TRAIN_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    dataset = load_dataset(args.dataset, data_dir=args.data_dir, download=args.download, dtype=np.float32)
    model = VAE(
        input_dim=dataset.x_train.shape[1],
        hidden_dims=args.hidden,
        latent_dim=args.latent_dim,
        likelihood=args.likelihood,
        activation=args.activation,
        beta=args.beta,
        sigma=args.sigma if args.likelihood == "gaussian" else None,
        learn_sigma=args.learn_sigma,
        dtype=np.float32,
        seed=args.seed,
    )
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        warmup_epochs=args.warmup_epochs,
        binarize=args.binarize,
        seed=args.seed,
    )
    return Trainer(model, dataset.x_train, dataset.x_test, config), dataset


def cmd_train(args):
    out = Path(args.out or DEFAULT_OUT.format(dataset=args.dataset or TRAIN_DEFAULTS["dataset"]))
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out: expected a directory, got the file {str(out)!r}")
    checkpoint = out / "model.npz"
    trainer, dataset = (_resume_trainer if args.resume else _new_trainer)(args, checkpoint)
    print(
        f"training on {dataset.name}: {len(dataset.x_train)} train / {len(dataset.x_test)} test images, "
        f"{trainer.model.flat_params.size:,} parameters"
    )
    history_csv = out / "history.csv"

    def on_epoch(t, row):
        print(_epoch_line(row, t.config.epochs), flush=True)
        write_history_csv(t.history, history_csv)  # kept in step with the checkpoint

    start = time.perf_counter()
    trainer.fit(
        checkpoint_path=checkpoint,
        checkpoint_extra={"dataset": dataset.name},
        on_epoch=on_epoch,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    elapsed = time.perf_counter() - start
    written = [checkpoint, history_csv]
    written += write_figures(trainer.model, trainer.history, dataset, out, seed=trainer.config.seed)
    print(f"trained {trainer.epoch} epochs in {elapsed:.1f}s; wrote " + ", ".join(str(p) for p in written))


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------


def cmd_evaluate(args):
    from .checkpoint import load_checkpoint
    from .data import load_dataset
    from .evaluate import elbo_terms, importance_weighted_log_likelihood
    from .train import evaluation_targets

    ckpt = load_checkpoint(args.checkpoint)
    name = args.dataset or ckpt.extra.get("dataset", "mnist5k")
    dataset = load_dataset(name, data_dir=args.data_dir, download=args.download, dtype=ckpt.model.dtype)
    if dataset.x_test.shape[1] != ckpt.model.input_dim:
        raise CommandError(
            f"--dataset: {name} has {dataset.x_test.shape[1]} values per image, the model expects {ckpt.model.input_dim}"
        )
    x = evaluation_targets(dataset.x_test, ckpt.train_config.get("binarize", "none"), ckpt.train_config.get("seed", 0))
    model = ckpt.model
    model.beta = 1.0  # report the ELBO itself, whatever β the model was trained with
    terms = elbo_terms(model, x, np.random.default_rng([args.seed, 0]))
    iw = importance_weighted_log_likelihood(model, x, args.iw_samples, np.random.default_rng([args.seed, 1]))
    result = {
        "checkpoint": str(args.checkpoint),
        "dataset": name,
        "n_test": int(len(x)),
        "elbo": -terms["loss"],
        "reconstruction": terms["reconstruction"],
        "kl": terms["kl"],
        "iw_samples": args.iw_samples,
        "iw_log_likelihood": float(np.mean(iw)),
        "iw_standard_error": float(np.std(iw, ddof=1) / np.sqrt(len(iw))) if len(iw) > 1 else float("nan"),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{name}: {result['n_test']} test images, nats per image")
    print(f"  ELBO               {result['elbo']:9.2f}  (= -(reconstruction {terms['reconstruction']:.2f} + KL {terms['kl']:.2f}))")
    print(
        f"  log p(x), IW k={args.iw_samples:<4} {result['iw_log_likelihood']:9.2f}  "
        f"(± {result['iw_standard_error']:.2f} standard error over images)"
    )


# --------------------------------------------------------------------------
# sample
# --------------------------------------------------------------------------


def cmd_sample(args):
    from .checkpoint import load_checkpoint
    from .plots import plot_image_grid

    ckpt = load_checkpoint(args.checkpoint)
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name(f"samples_seed{args.seed}.png")
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out: expected a path ending in .png, got {str(out)!r}")
    images = ckpt.model.sample(args.n, rng=np.random.default_rng(args.seed))
    print(plot_image_grid(images, out, title=f"{args.n} samples from the prior (seed {args.seed})"))


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "sample": cmd_sample, "exercises": exercises_cli.run}


def main(argv=None):
    """Entry point of ``numvae`` and ``python -m numvae``; returns the exit status."""
    from .checkpoint import CheckpointError
    from .data import DataUnavailableError
    from .idx import IDXFormatError
    from .train import TrainingDiverged

    args = build_parser().parse_args(argv)
    expected = (
        CommandError,
        CheckpointError,
        DataUnavailableError,
        IDXFormatError,
        TrainingDiverged,
        ValueError,
        ImportError,
        OSError,
    )
    try:
        status = COMMANDS[args.command](args)
    except expected as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message held
        print(f"numvae {args.command}: error: {message}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"numvae {args.command}: error: out of memory: try a smaller --hidden or --batch-size", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"numvae {args.command}: interrupted", file=sys.stderr)
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
