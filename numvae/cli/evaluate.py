"""``numvae evaluate``: the test ELBO and an importance-weighted estimate of log p(x).

Both are Monte Carlo estimates. By default the ELBO uses the very noise of
the training run's own test pass, so it repeats the last "test loss" that
``train`` printed for the same checkpoint (when β = 1).
"""

import json
import math

import numpy as np

from .common import DATA_DIR_HELP, DOWNLOAD_HELP, CommandError, non_negative_int, path_text, positive_int, say

DEFAULT_CHECKPOINT = "runs/mnist5k/model.npz"
MEMORY_HINT = "the importance-weighted estimate holds --iw-samples draws per test image: try a smaller --iw-samples"


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
                   help="importance samples per image for log p(x) (default: %(default)s)")
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
    seed = config.seed if args.seed is None else args.seed
    # The targets and the noise of Trainer.evaluate_test: its test loss, repeated.
    x = evaluation_targets(dataset.x_test, binarize, config.seed)
    model = ckpt.model
    # With β = 1 and the training run's noise, the ELBO repeats train's last test loss.
    repeats_train = args.seed is None and model.beta == 1.0 and name == saved_dataset(ckpt)
    model.beta = 1.0  # report the ELBO itself, whatever β the model was trained with
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        terms = elbo_terms(model, x, np.random.default_rng([seed, 1]))
        iw = importance_weighted_log_likelihood(model, x, args.iw_samples, np.random.default_rng([seed, 0]))
    result = {
        "checkpoint": str(args.checkpoint),
        "dataset": name,
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
    say(f"{name}: {result['n_test']} test images, nats per image, seed {seed}")
    say(
        f"  ELBO               {result['elbo']:9.2f}  (= -(reconstruction {terms['reconstruction']:.2f} "
        f"+ KL {terms['kl']:.2f}); one noise draw per image"
        + (", as train's last test loss)" if repeats_train else ")")
    )
    se = result["iw_standard_error"]
    say(
        f"  log p(x), IW K={args.iw_samples:<4} {result['iw_log_likelihood']:9.2f}  "
        + (f"(± {se:.2f} standard error over images)" if se is not None else "(one image: no standard error)")
    )
