"""numvae's flat buffers on huge pages against ordinary pages, side by side in one process.

Two trainers of the benchmark model (784-400-20-400-784, Bernoulli, Adam, batch
128, float32) start from the same weights and see the same data. One keeps its
parameters, gradients and Adam state in ``numvae.buffers.zeros`` (huge pages
where Linux gives them), the other in ``np.zeros``. Their epochs alternate, the
order flipping every round, so that load from elsewhere hits both alike. Prints
each one's median epoch, the rounds in which huge pages were faster, the median
per-round ratio, and whether both ended with the same parameters, bit for bit.

    python benchmarks/bench_huge_pages.py --rounds 8 --threads 1
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from numvae import buffers  # noqa: E402
from numvae.cli.common import positive_int  # noqa: E402
from numvae.data import DataUnavailableError, load_dataset  # noqa: E402
from numvae.training import TrainConfig, Trainer  # noqa: E402
from numvae.vae import VAE  # noqa: E402


def trainer(data, pages):
    """A trainer whose model and optimizer take their buffers from ``pages``' zeros."""
    huge = buffers.zeros
    if pages == "ordinary":
        buffers.zeros = lambda n, dtype: np.zeros(n, dtype=dtype)
    try:
        model = VAE(784, (400,), 20, dtype=np.float32, seed=0)
        return Trainer(model, data.x_train, config=TrainConfig(batch_size=128, lr=1e-3, seed=0))
    finally:
        buffers.zeros = huge


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive_int, default=8, help="epochs of each (default: 8)")
    parser.add_argument("--threads", type=positive_int, default=1, help="BLAS threads (default: 1)")
    parser.add_argument("--data", choices=("fashion-mnist", "mnist", "mnist5k"), default="fashion-mnist")
    args = parser.parse_args(argv)
    try:
        data = load_dataset(args.data, dtype=np.float32)
    except DataUnavailableError as error:
        sys.exit(f"bench_huge_pages.py: {error}")
    print(f"huge page size: {buffers.huge_page_size()} bytes (None: this machine gives none)")
    trainers = {"ordinary": trainer(data, "ordinary"), "huge": trainer(data, "huge")}
    seconds = {name: [] for name in trainers}
    with threadpool_limits(limits=args.threads):
        for t in trainers.values():
            t.train_epoch()  # warm up: first touch of every page
        for r in range(args.rounds):
            for name in (list(trainers) if r % 2 == 0 else list(trainers)[::-1]):
                start = time.perf_counter()
                trainers[name].train_epoch()
                seconds[name].append(time.perf_counter() - start)
    ratios = [h / o for h, o in zip(seconds["huge"], seconds["ordinary"])]
    for name, s in seconds.items():
        print(f"{name:>8} pages: median epoch {statistics.median(s):.2f} s  (all: {' '.join(f'{x:.2f}' for x in s)})")
    print(f"huge pages faster in {sum(x < 1 for x in ratios)} of {args.rounds} rounds; "
          f"median per-round ratio huge/ordinary {statistics.median(ratios):.3f}")
    same = np.array_equal(trainers["huge"].model.flat_params, trainers["ordinary"].model.flat_params)
    print(f"same parameters after training, bit for bit: {same}")


if __name__ == "__main__":
    main()
