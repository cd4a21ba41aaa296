"""``numvae semi``: train M2 or M1+M2 on a few labels per class and report the test accuracy.

The labelled images are drawn from the training set (``--labels-per-class``
of each class, the draw set by ``--seed``); every training image is used
without its label. Nothing is written: the result is the printed accuracy.
"""

import time

import numpy as np

from .common import DATA_DIR_HELP, DOWNLOAD_HELP, CommandError, non_negative_int, number, positive_int, say
from .datasets import describe, load

MODELS = ("m2", "m1m2")
PIXEL_ALPHA = 10.0  # M2 on pixels: the paper's α = 0.1·N at 100 labelled images (M1+M2 keeps M1M2's own α)
MEMORY_HINT = "M2's networks are too large for this machine: try a smaller --hidden"


def add_parser(subparsers):
    from ..data.datasets import DATASETS

    p = subparsers.add_parser(
        "semi",
        help="semi-supervised learning: M2 or M1+M2 from a few labels per class",
        description="Train M2 (on pixels) or M1+M2 (M2 on a VAE's codes) with --labels-per-class labelled "
                    "training images of each class and all training images unlabelled; print the test accuracy.",
    )
    p.add_argument("--model", choices=MODELS, default="m1m2", help="the model (default: %(default)s)")
    p.add_argument("--labels-per-class", type=positive_int, default=10,
                   help="labelled training images of each class (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seeds the label draw, the models and their training (default: %(default)s)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist5k", help="the images (default: %(default)s)")
    p.add_argument("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    p.add_argument("--download", action="store_true", help=DOWNLOAD_HELP)
    p.add_argument("--epochs", type=positive_int,
                   help="M2's passes over the unlabelled images (default: 50 for m2, 100 for m1m2)")
    p.add_argument("--m1-epochs", type=positive_int,
                   help="m1m2 only: epochs of the VAE whose codes M2 learns from (default: 100)")
    p.add_argument("--hidden", type=positive_int, default=256, metavar="UNITS",
                   help="units of the one hidden layer of M2's three networks (default: %(default)s)")
    p.add_argument("--alpha", type=number(strict=False),
                   help="weight α of the labelled cross-entropy (default: 10 for m2, 1 for m1m2)")
    p.add_argument("--every", type=positive_int, default=10, metavar="EPOCHS",
                   help="print the test accuracy every this many epochs (default: %(default)s)")
    return p


def run(args):
    from ..training.threads import set_blas_threads

    if args.model == "m2" and args.m1_epochs is not None:
        raise CommandError("--m1-epochs: only used with --model m1m2, got --model m2")
    set_blas_threads()
    dataset, where = load(args.dataset, args.data_dir, args.download, np.float32)
    say(describe(dataset, where))
    epochs = args.epochs or (50 if args.model == "m2" else 100)
    train_and_report(dataset, args.model, args.labels_per_class, epochs, args.m1_epochs or 100, args.hidden,
                     args.alpha, args.seed, args.every)


def train_and_report(dataset, model_name, labels_per_class, epochs, m1_epochs, hidden, alpha, seed, every):
    """Draw the labelled images, train M2 or M1+M2 on ``dataset``, print its progress and test accuracy.

    What ``numvae semi`` runs, and ``numvae exercises train --model m2|m1m2``
    inside :func:`~numvae.course.swap.swapped`: the same settings give the
    same numbers. ``m1_epochs`` is unused with ``model_name`` "m2". ``alpha``
    None is PIXEL_ALPHA for M2 on pixels and M1M2's default for m1m2.

    Returns
    -------
    M2 or M1M2
        The trained model.
    """
    from ..m2 import M2
    from ..training.semi import M1M2, draw_labelled, fit_m2

    smallest = int(np.bincount(dataset.y_train, minlength=10).min())
    if labels_per_class > smallest:
        raise CommandError(f"--labels-per-class: expected at most {smallest} (the training set's smallest class), "
                           f"got {labels_per_class}")
    labelled = draw_labelled(dataset.y_train, labels_per_class, np.random.default_rng(seed))
    x_l, y_l = dataset.x_train[labelled], dataset.y_train[labelled]
    start = time.perf_counter()

    def report(epoch, terms, predict):
        if epoch % every == 0 or epoch == epochs:
            accuracy = np.mean(predict(dataset.x_test) == dataset.y_test)
            say(f"epoch {epoch}/{epochs}: loss {terms['loss']:.2f} (labelled {terms['labelled']:.2f}, "
                f"cross-entropy {terms['classification']:.3f}, unlabelled {terms['unlabelled']:.2f}); "
                f"test accuracy {accuracy:.3f}  [{time.perf_counter() - start:.0f}s]")

    if model_name == "m2":
        model = M2(dataset.x_train.shape[1], 10, (hidden,), 50, alpha=PIXEL_ALPHA if alpha is None else alpha,
                   dtype=np.float32, seed=seed)
        say(f"M2 on pixels, {labels_per_class} labels per class, {epochs} epochs, α = {model.alpha:g}")
        fit_m2(model, x_l, y_l, dataset.x_train, epochs, binarize_method="dynamic", seed=seed,
               on_epoch=lambda e, t: report(e, t, model.predict))
    else:
        own_alpha = {} if alpha is None else {"alpha": alpha}  # None: M1M2's own α
        model = M1M2(m1_epochs=m1_epochs, m2_hidden_dims=(hidden,), m2_epochs=epochs, seed=seed, **own_alpha)
        say(f"M1: a VAE 784-400-50 on all {len(dataset.x_train):,} training images, {m1_epochs} epochs")
        model.fit_m1(dataset.x_train)
        say(f"M2 on its codes, {labels_per_class} labels per class, {epochs} epochs, α = {model.alpha:g}")
        model.fit_m2(x_l, y_l, dataset.x_train, on_epoch=lambda e, t: report(e, t, model.predict))
    accuracy = np.mean(model.predict(dataset.x_test) == dataset.y_test)
    say(f"test accuracy {accuracy:.3f} ({model_name}, {labels_per_class} labels per class, seed {seed}, "
        f"{len(dataset.x_test):,} test images, {time.perf_counter() - start:.0f}s)")
    return model
