"""Where numvae's training epoch spends its time: a CPU-time profile.

Trains the benchmark's model (784-400-20-400-784, batch 128, float32, Adam)
for one epoch under ``cProfile`` with ``time.process_time`` as its clock, so the
breakdown counts this process's CPU seconds and not the time other programs
on a busy machine took; prints the functions with the most time of their own.
``--pyinstrument`` prints pyinstrument's call tree instead (wall clock);
``--lines`` prints line_profiler's time per line of the hot path (wall clock),
which splits Adam, the likelihood and each layer into their NumPy operations.

    python benchmarks/profile_epoch.py --data mnist5k
    python benchmarks/profile_epoch.py --data fashion-mnist --threads 2 --lines
"""

import argparse
import cProfile
import importlib.util
import pstats
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from numvae.cli.common import positive_int  # noqa: E402
from numvae.data import DataUnavailableError, load_dataset  # noqa: E402
from numvae.training import TrainConfig, Trainer  # noqa: E402
from numvae.vae import VAE  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("fashion-mnist", "mnist", "mnist5k"), default="mnist5k")
    parser.add_argument("--threads", type=positive_int, default=1, help="BLAS threads (default: 1)")
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--pyinstrument", action="store_true",
                      help="pyinstrument's call tree (wall clock; pip install pyinstrument)")
    view.add_argument("--lines", action="store_true",
                      help="line_profiler's time per line of the hot path (wall clock; pip install line_profiler)")
    parser.add_argument("--top", type=positive_int, default=25,
                        help="rows of the default cProfile table (default: 25)")
    args = parser.parse_args(argv)
    view = "--pyinstrument" if args.pyinstrument else "--lines" if args.lines else None
    if view and args.top != parser.get_default("top"):
        parser.error(f"--top: only the default cProfile table has rows to count; drop it or drop {view}")
    needed = {"--pyinstrument": "pyinstrument", "--lines": "line_profiler"}.get(view)
    if needed and importlib.util.find_spec(needed) is None:
        sys.exit(f"profile_epoch.py: {view} needs {needed}, which is not installed: pip install {needed}")
    try:
        data = load_dataset(args.data, dtype=np.float32)
    except DataUnavailableError as error:
        sys.exit(f"profile_epoch.py: {error}")
    model = VAE(784, (400,), 20, dtype=np.float32, seed=0)
    trainer = Trainer(model, data.x_train, config=TrainConfig(batch_size=128, binarize="none"))
    with threadpool_limits(limits=args.threads):
        trainer.train_epoch()  # warm up: first-touch page faults, BLAS buffers
        if args.pyinstrument:
            from pyinstrument import Profiler

            with Profiler(interval=0.0005) as profiler:
                trainer.train_epoch()
            profiler.print(show_all=False)
            return
        if args.lines:
            profile_lines(trainer)
            return
        profile = cProfile.Profile(time.process_time)
        cpu = time.process_time()
        profile.runcall(trainer.train_epoch)
        cpu = time.process_time() - cpu
    print(f"one epoch of {args.data}: {cpu:.2f} CPU seconds (profiled)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


def profile_lines(trainer):
    """One epoch under line_profiler, over every function a training step runs."""
    from line_profiler import LineProfiler

    from numvae import activations, gaussian, layers, likelihoods, optim, vae
    from numvae.util import checks
    from numvae.training import trainer as train

    profiler = LineProfiler()
    for function in (
        train.Trainer.train_epoch, vae.VAE.loss, vae.VAE._forward, vae.VAE.backward, vae.VAE._draw_eps,
        checks.batch, layers.Dense.forward, layers.Dense.backward, activations.relu,
        activations.relu_backward, likelihoods.Bernoulli.nll, likelihoods.bernoulli_nll,
        likelihoods.bernoulli_nll_backward, activations.sigmoid, activations.softplus,
        gaussian.reparameterize, gaussian.reparameterize_backward, gaussian.kl_standard_normal,
        gaussian.kl_standard_normal_backward, optim.Adam.step,
    ):
        profiler.add_function(function)
    profiler.runcall(trainer.train_epoch)
    profiler.print_stats(output_unit=1e-3, stripzeros=True)


if __name__ == "__main__":
    main()
