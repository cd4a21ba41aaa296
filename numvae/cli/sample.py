"""``numvae sample``: decode draws from the prior into a PNG grid."""

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
        description="Draw z from the prior N(0, I), decode it, and tile the images into one PNG.",
    )
    p.add_argument("checkpoint", nargs="?", default=DEFAULT_CHECKPOINT, type=path_text,
                   help="a model.npz written by numvae train (default: %(default)s)")
    p.add_argument("--n", type=bounded_int(MAX_IMAGES, "images in one PNG grid"), default=64,
                   help="how many images (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the draws from the prior: same seed, same images (default: %(default)s)")
    p.add_argument("--out", type=path_text, metavar="PNG",
                   help="where to write the grid (default: samples_seedSEED.png next to the checkpoint)")
    return p


def default_out(checkpoint, seed):
    return Path(checkpoint).with_name(f"samples_seed{seed}.png")


def run(args):
    from ..training.checkpoint import load_checkpoint
    from ..plots import plot_image_grid

    out = Path(args.out) if args.out else default_out(args.checkpoint, args.seed)
    if out.suffix.lower() != ".png":
        raise CommandError(f"--out: expected a path ending in .png, got {str(out)!r}")
    if out.is_dir():
        raise CommandError(f"--out: {str(out)!r} is a directory; expected a PNG file name")
    ckpt = load_checkpoint(args.checkpoint)
    images = ckpt.model.sample(args.n, rng=np.random.default_rng(args.seed))
    noun = "sample" if args.n == 1 else "samples"
    say(str(plot_image_grid(images, out, title=f"{args.n} {noun} from the prior (seed {args.seed})")))
