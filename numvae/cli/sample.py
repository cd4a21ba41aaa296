"""``numvae sample``: decode draws from the prior into a PNG grid; ``--class`` draws one class of a CVAE."""

from pathlib import Path

import numpy as np

from .common import CommandError, bounded_int, non_negative_int, path_text, say
from .evaluate import DEFAULT_CHECKPOINT

MAX_IMAGES = 10_000
MEMORY_HINT = "--n images do not fit in memory: try a smaller --n"


def add_parser(subparsers):
    p = subparsers.add_parser(
        "sample",
        help="decode draws from the prior into a PNG grid",
        description="Draw z from the prior N(0, I), decode it, and tile the images into one PNG. "
                    "A conditional VAE (numvae train --model cvae) draws the class --class, "
                    "or every class in turn, one column each.",
    )
    p.add_argument("checkpoint", nargs="?", default=DEFAULT_CHECKPOINT, type=path_text,
                   help="a model.npz written by numvae train (default: %(default)s)")
    p.add_argument("--n", type=bounded_int(MAX_IMAGES, "images in one PNG grid"), default=64,
                   help="how many images (default: %(default)s)")
    p.add_argument("--class", dest="class_", type=non_negative_int, metavar="K",
                   help="conditional VAE only: draw images of class K (0, 1, ...; default: every class in turn)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the draws from the prior: same seed, same images (default: %(default)s)")
    p.add_argument("--out", type=path_text, metavar="PNG",
                   help="where to write the grid (default: samples_seedSEED.png next to the checkpoint, "
                        "samples_classK_seedSEED.png with --class)")
    return p


def default_out(checkpoint, seed, class_=None):
    name = f"samples_seed{seed}.png" if class_ is None else f"samples_class{class_}_seed{seed}.png"
    return Path(checkpoint).with_name(name)


def run(args):
    from ..training.checkpoint import load_checkpoint
    from ..plots import plot_image_grid

    out = Path(args.out) if args.out else default_out(args.checkpoint, args.seed, args.class_)
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out: expected a path ending in .png, got {str(out)!r}")
    if out.is_dir():
        raise CommandError(f"--out: {str(out)!r} is a directory; expected a PNG file name")
    ckpt = load_checkpoint(args.checkpoint)
    model, rng = ckpt.model, np.random.default_rng(args.seed)
    noun = "sample" if args.n == 1 else "samples"
    if not model.n_classes:
        if args.class_ is not None:
            raise CommandError(f"--class: {args.checkpoint} holds a VAE, which cannot be asked for a class; "
                               "train a conditional one with numvae train --model cvae")
        say(str(plot_image_grid(model.sample(args.n, rng=rng), out,
                                title=f"{args.n} {noun} from the prior (seed {args.seed})")))
        return
    if args.class_ is not None and args.class_ >= model.n_classes:
        raise CommandError(f"--class: expected a class in 0..{model.n_classes - 1}, got {args.class_}")
    if args.class_ is None:  # every class in turn: column k holds class k
        images = model.sample(args.n, rng=rng)
        title, ncols = f"{args.n} {noun} (seed {args.seed}), column k of class k", min(args.n, model.n_classes)
    else:
        images = model.sample(np.full(args.n, args.class_), rng=rng)
        title, ncols = f"{args.n} {noun} of class {args.class_}{_name(ckpt, args.class_)} (seed {args.seed})", None
    say(str(plot_image_grid(images, out, title=title, ncols=ncols)))


def _name(ckpt, k):
    """" (Sneaker)": the class's name in the dataset the model was trained on, when it is not the number itself."""
    from ..data.datasets import CLASS_NAMES

    names = CLASS_NAMES.get(ckpt.extra.get("dataset"), ())
    return f" ({names[k]})" if k < len(names) and names[k] != str(k) else ""
