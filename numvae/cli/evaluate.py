"""``numvae evaluate``: the test ELBO and an importance-weighted estimate of log p(x).

Both are Monte Carlo estimates. By default the ELBO uses the very noise of
the training run's own test pass, so it repeats the last "test loss" that
``train`` printed for the same checkpoint (when β = 1). Memory stays flat for
any ``--iw-samples``, but time grows with it: a K whose estimate would take more
than :data:`MAX_IW_WORK` multiply-adds (about 17 minutes on one core) is refused
at once, with its estimated time and the largest K allowed.

A conditional VAE (``numvae train --model cvae``) is evaluated with the test
labels: its ELBO bounds log p(x|y), and the importance-weighted estimate is of
log p(x|y) too (add log p(y) = −log K, for K equally likely classes, to compare
with a VAE's log p(x)).
"""

import json
import math

import numpy as np

from .common import DATA_DIR_HELP, DOWNLOAD_HELP, CommandError, non_negative_int, path_text, positive_int, say

DEFAULT_CHECKPOINT = "runs/mnist5k/model.npz"
MEMORY_HINT = "the importance-weighted estimate holds --iw-samples draws per test image: try a smaller --iw-samples"

MAX_IW_WORK = 2 * 10**13
"""The most multiply-adds the importance-weighted estimate may take: K samples of
every test image, each decoded. Memory stays flat for any K (the samples are
taken in chunks), but time grows with K, so a K above this is refused at once
instead of running for ever. It allows the literature's K = 5,000 on the
10,000 test images of MNIST with the default model, and K = 60,000 on mnist5k."""

IW_RATE = 2 * 10**10
"""Multiply-adds per second of the estimate, measured on one core of the development
machine (float32): only to put the limit and a refused request in time units."""


def decoder_multiply_adds(model):
    """Multiply-adds of one decoder pass: the work of one importance sample (the rest is O(input_dim))."""
    config = model.config()
    sizes = (config["latent_dim"], *reversed(config["hidden_dims"]), config["input_dim"])
    return sum(fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def max_iw_samples(model, n_images):
    """The largest ``--iw-samples`` whose estimate stays within :data:`MAX_IW_WORK` for this model and data."""
    return MAX_IW_WORK // (n_images * decoder_multiply_adds(model))


def check_iw_samples(k, model, n_images):
    """Refuse, with the estimate and the largest K allowed, a K whose estimate would take hours or years."""
    work = k * n_images * decoder_multiply_adds(model)
    if work > MAX_IW_WORK:
        raise CommandError(
            f"--iw-samples: {k:,} samples of each of {n_images:,} images would take about "
            f"{_duration(work / IW_RATE)} ({work:.3g} multiply-adds, at {IW_RATE:.0e} a second); "
            f"expected at most {max_iw_samples(model, n_images):,} for this model and dataset "
            f"(a limit of {MAX_IW_WORK:.0e} multiply-adds, about {_duration(MAX_IW_WORK / IW_RATE)})"
        )


def _duration(seconds):
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:.0f} seconds"


def add_parser(subparsers):
    from ..data.datasets import DATASETS

    p = subparsers.add_parser(
        "evaluate",
        help="test ELBO and importance-weighted log-likelihood",
        description="Estimate the test ELBO and log p(x) (importance-weighted, Burda et al. 2015) of a checkpoint.",
    )
    p.add_argument("checkpoint", nargs="?", default=DEFAULT_CHECKPOINT, type=path_text,
                   help="a model.npz written by numvae train (default: %(default)s)")
    p.add_argument("--dataset", choices=DATASETS, help="test images to use (default: the ones the model was trained on)")
    p.add_argument("--data-dir", type=path_text, metavar="DIR", help=DATA_DIR_HELP)
    p.add_argument("--download", action="store_true", help=DOWNLOAD_HELP)
    p.add_argument("--iw-samples", type=positive_int, default=100, metavar="K",
                   help="importance samples per image for log p(x); refused if the estimate would take more than about "
                        f"{_duration(MAX_IW_WORK / IW_RATE)} (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int,
                   help="seed of the noise; default: the training run's, so the ELBO repeats train's last test loss")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def run(args):
    from ..training.checkpoint import load_checkpoint
    from ..evaluate import elbo_terms, importance_weighted_log_likelihood
    from ..training.config import TrainConfig, default_binarize
    from ..training.trainer import evaluation_targets
    from ..training.threads import set_blas_threads
    from .datasets import load, saved_dataset

    set_blas_threads()  # once, before any matrix product: see numvae/training/threads.py
    ckpt = load_checkpoint(args.checkpoint)
    config = TrainConfig(**ckpt.train_config) if ckpt.train_config else TrainConfig()
    binarize = config.binarize or default_binarize(ckpt.model.likelihood_name)  # None: no training state saved
    name = args.dataset or saved_dataset(ckpt)
    dataset, _ = load(name, args.data_dir, args.download, ckpt.model.dtype)
    if dataset.x_test.shape[1] != ckpt.model.input_dim:
        raise CommandError(
            f"--dataset: {name} has {dataset.x_test.shape[1]} values per image, the model expects {ckpt.model.input_dim}"
        )
    check_iw_samples(args.iw_samples, ckpt.model, len(dataset.x_test))
    labels = None
    if ckpt.model.n_classes:
        labels = dataset.y_test
        if labels.max() >= ckpt.model.n_classes:
            raise CommandError(f"--dataset: {name} has labels up to {labels.max()}, the model knows "
                               f"{ckpt.model.n_classes} classes (0..{ckpt.model.n_classes - 1})")
    seed = config.seed if args.seed is None else args.seed
    # The targets and the noise of Trainer.evaluate_test: its test loss, repeated.
    x = evaluation_targets(dataset.x_test, binarize, config.seed)
    model = ckpt.model
    # With β = 1 and the training run's noise, the ELBO repeats train's last test loss.
    repeats_train = args.seed is None and model.beta == 1.0 and name == saved_dataset(ckpt)
    model.beta = 1.0  # report the ELBO itself, whatever β the model was trained with
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        given = {} if labels is None else {"labels": labels}  # what the model conditions on, besides x
        terms = elbo_terms(model, x, np.random.default_rng([seed, 1]), **given)
        iw = importance_weighted_log_likelihood(model, x, args.iw_samples, np.random.default_rng([seed, 0]), **given)
    of = "log p(x)" if labels is None else "log p(x|y)"
    result = {
        "checkpoint": str(args.checkpoint),
        "dataset": name,
        "model_kind": "vae" if labels is None else "cvae",
        "bound_on": of,  # what the ELBO bounds and the IW estimate approaches
        "n_test": int(len(x)),
        "seed": seed,
        "elbo": -terms["loss"],
        "reconstruction": terms["reconstruction"],
        "kl": terms["kl"],
        "iw_samples": args.iw_samples,
        "iw_log_likelihood": float(np.mean(iw)),
        # Undefined for one image: null in JSON, never a made-up 0 or a bare NaN.
        "iw_standard_error": float(np.std(iw, ddof=1) / np.sqrt(len(iw))) if len(iw) > 1 else None,
    }
    bad = [key for key, value in result.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise CommandError(
            f"{args.checkpoint}: {bad[0]} is {result[bad[0]]}, not a finite number: the model's outputs "
            f"overflow {model.dtype} on {name} (are its weights damaged or far too large?)"
        )
    if args.json:
        say(json.dumps(result, allow_nan=False))
        return
    say(f"{name}: {result['n_test']} test images, nats per image, seed {seed}"
        + ("" if labels is None else "; a conditional VAE, given the test labels y: bounds on log p(x|y)"))
    say(
        f"  ELBO               {result['elbo']:9.2f}  (= -(reconstruction {terms['reconstruction']:.2f} "
        f"+ KL {terms['kl']:.2f}); one noise draw per image"
        + (", as train's last test loss)" if repeats_train else ")")
    )
    se = result["iw_standard_error"]
    say(
        f"  {of}, IW K={args.iw_samples:<4} {result['iw_log_likelihood']:9.2f}  "
        + (f"(± {se:.2f} standard error over images)" if se is not None else "(one image: no standard error)")
    )
