"""numvae against PyTorch on the CPU: the pytorch/examples VAE, epoch by epoch.

Both frameworks train the same network (784-400-20-400-784, ReLU, Bernoulli
decoder from logits, loss = summed BCE + KL per example, averaged over the
batch), from the same initial weights, with Adam (lr 1e-3), batch 128,
float32, on the same data in the same shuffled order, with the same number of
threads. Epochs are **interleaved** (numvae, torch, torch, numvae, ...), so a
burst of load from elsewhere on the machine hits both alike; only the median
ratio of an interleaved run means much on a busy machine.

Per epoch it prints the training seconds of each (training steps only, wall
clock; CPU seconds in brackets), their ratio, examples per second and the test
loss of each (one reparameterized sample per test image). Then the median
ratio, the time of the matrix products alone (the floor no framework beats;
one floor epoch is timed after each round of epochs) and numvae's multiple of
it, and peak memory.

Run from the repository root::

    python benchmarks/bench_vs_torch.py --epochs 10
    python benchmarks/bench_vs_torch.py --data mnist5k --epochs 3 --threads 1

Without PyTorch installed it prints numvae's numbers alone, with a note.
"""

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from numvae.cli.common import positive_int  # noqa: E402
from numvae.data import DataUnavailableError, load_dataset  # noqa: E402
from numvae.evaluate import elbo_terms  # noqa: E402
from numvae.training import TrainConfig, Trainer  # noqa: E402
from numvae.vae import VAE  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

HIDDEN, LATENT, BATCH, LR = 400, 20, 128, 1e-3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=positive_int, default=10, help="epochs for each framework (default: 10)")
    parser.add_argument(
        "--data",
        choices=("auto", "fashion-mnist", "mnist", "mnist5k"),
        default="auto",
        help="auto: Fashion-MNIST if found (Debian's dataset-fashion-mnist), else mnist5k",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=len(os.sched_getaffinity(0)),
        help="threads for both frameworks' BLAS/OpenMP (default: the cores this process may use)",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def load(choice):
    if choice != "auto":
        return load_dataset(choice, dtype=np.float32)
    try:
        return load_dataset("fashion-mnist", dtype=np.float32)
    except DataUnavailableError:
        return load_dataset("mnist5k", dtype=np.float32)


# --------------------------------------------------------------------------
# numvae: the public API, as a student would use it
# --------------------------------------------------------------------------


class NumvaeRun:
    name = "numvae"

    def __init__(self, data, seed):
        self.model = VAE(784, (HIDDEN,), LATENT, dtype=np.float32, seed=seed)
        config = TrainConfig(batch_size=BATCH, lr=LR, binarize="none", seed=seed)  # grey levels, as torch sees them
        self.trainer = Trainer(self.model, data.x_train, config=config)
        self.x_test = data.x_test
        self.seed = seed

    def train_epoch(self):
        self.trainer.train_epoch()

    def test_loss(self):
        return elbo_terms(self.model, self.x_test, np.random.default_rng([self.seed, 1]))["loss"]


# --------------------------------------------------------------------------
# PyTorch: pytorch/examples vae/main.py, with numvae's initial weights
# --------------------------------------------------------------------------


def torch_run_class():
    class VAETorch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(784, HIDDEN)
            self.fc21 = torch.nn.Linear(HIDDEN, LATENT)
            self.fc22 = torch.nn.Linear(HIDDEN, LATENT)
            self.fc3 = torch.nn.Linear(LATENT, HIDDEN)
            self.fc4 = torch.nn.Linear(HIDDEN, 784)

        def forward(self, x):
            h1 = torch.relu(self.fc1(x))
            mu, log_var = self.fc21(h1), self.fc22(h1)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(log_var)
            logits = self.fc4(torch.relu(self.fc3(z)))
            return logits, mu, log_var

    def loss_per_example(logits, x, mu, log_var):
        # The example's loss (summed BCE + KL), divided by the batch size so
        # that both frameworks follow exactly the same objective.
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
        return (bce + kl) / x.shape[0]

    class TorchRun:
        name = "torch"

        def __init__(self, data, seed, initial):
            torch.manual_seed(seed)
            self.model = VAETorch()
            copy_weights(self.model, initial)
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
            self.x_train = torch.from_numpy(data.x_train)
            self.x_test = torch.from_numpy(data.x_test)
            self.rng = np.random.default_rng(seed)

        def train_epoch(self):
            self.model.train()
            order = torch.from_numpy(self.rng.permutation(len(self.x_train)))
            for start in range(0, len(order), BATCH):
                x = self.x_train[order[start : start + BATCH]]
                self.optimizer.zero_grad()
                loss = loss_per_example(*_swap(self.model(x), x))
                loss.backward()
                self.optimizer.step()

        @torch.no_grad()
        def test_loss(self):
            self.model.eval()
            total = 0.0
            for start in range(0, len(self.x_test), 500):
                x = self.x_test[start : start + 500]
                total += float(loss_per_example(*_swap(self.model(x), x))) * len(x)
            return total / len(self.x_test)

    return TorchRun


def _swap(outputs, x):
    logits, mu, log_var = outputs
    return logits, x, mu, log_var


def copy_weights(model, initial):
    """numvae's initial weights into the torch model (torch stores W transposed)."""
    W1, b1 = initial["encoder.0.W"], initial["encoder.0.b"]
    W2, b2 = initial["encoder.1.W"], initial["encoder.1.b"]  # (400, 2 latent): [mu | log_var]
    pairs = [
        (model.fc1, W1, b1),
        (model.fc21, W2[:, :LATENT], b2[:LATENT]),
        (model.fc22, W2[:, LATENT:], b2[LATENT:]),
        (model.fc3, initial["decoder.0.W"], initial["decoder.0.b"]),
        (model.fc4, initial["decoder.1.W"], initial["decoder.1.b"]),
    ]
    with torch.no_grad():
        for layer, W, b in pairs:
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            layer.bias.copy_(torch.from_numpy(b.copy()))


# --------------------------------------------------------------------------
# The floor: an epoch of the same matrix products and nothing else
# --------------------------------------------------------------------------


def matmul_epoch_seconds(n_train, rng):
    """Wall and CPU seconds of one epoch's 11 matrix products per step (4 forward, 7 backward)."""
    f32 = np.float32
    x = rng.random((BATCH, 784), dtype=f32)
    W = {k: rng.standard_normal(s, dtype=f32) * 0.05 for k, s in
         {"e0": (784, HIDDEN), "e1": (HIDDEN, 2 * LATENT), "d0": (LATENT, HIDDEN), "d1": (HIDDEN, 784)}.items()}
    h1, out1 = np.empty((BATCH, HIDDEN), f32), np.empty((BATCH, 2 * LATENT), f32)
    h2, out2 = np.empty((BATCH, HIDDEN), f32), np.empty((BATCH, 784), f32)
    z = rng.standard_normal((BATCH, LATENT), dtype=f32)
    g = {k: np.empty_like(w) for k, w in W.items()}
    dh2, dz, dh1 = np.empty_like(h2), np.empty_like(z), np.empty_like(h1)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(-(-n_train // BATCH)):
        np.matmul(x, W["e0"], out=h1)
        np.matmul(h1, W["e1"], out=out1)
        np.matmul(z, W["d0"], out=h2)
        np.matmul(h2, W["d1"], out=out2)
        np.matmul(h2.T, out2, out=g["d1"])
        np.matmul(out2, W["d1"].T, out=dh2)
        np.matmul(z.T, dh2, out=g["d0"])
        np.matmul(dh2, W["d0"].T, out=dz)
        np.matmul(h1.T, out1, out=g["e1"])
        np.matmul(out1, W["e1"].T, out=dh1)
        np.matmul(x.T, dh1, out=g["e0"])
    return time.perf_counter() - wall, time.process_time() - cpu


def numvae_step_peak_bytes(run):
    """Peak bytes NumPy allocates during a few training steps (tracemalloc)."""
    x = run.trainer.x_train[:BATCH]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(5):
        run.model.loss(x)
        run.trainer.optimizer.step(run.model.backward())
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    args = parse_args(argv)
    try:
        data = load(args.data)
    except DataUnavailableError as error:
        sys.exit(f"bench_vs_torch.py: {error}")
    n = len(data.x_train)
    print(f"data: {data.name}, {n} train / {len(data.x_test)} test; batch {BATCH}, float32, Adam lr {LR}")
    print(f"threads: {args.threads} for both (cores available: {len(os.sched_getaffinity(0))}, "
          f"load average {os.getloadavg()[0]:.2f})")
    if torch is not None:
        torch.set_num_threads(args.threads)
    runs = [NumvaeRun(data, args.seed)]
    if torch is None:
        print("note: PyTorch is not installed (pip install torch==2.13.0): numvae's numbers only, no ratios")
    else:
        initial = {k: v.copy() for k, v in runs[0].model.parameters().items()}
        runs.append(torch_run_class()(data, args.seed, initial))
        print(f"torch {torch.__version__}; both start from numvae's initial weights")

    seconds = {r.name: [] for r in runs}
    header = "epoch  " + "  ".join(f"{r.name + ' s (cpu)':>17}" for r in runs)
    if len(runs) == 2:
        header += "   ratio"
    header += "  " + "  ".join(f"{r.name + ' ex/s':>11}" for r in runs)
    header += "  " + "  ".join(f"{r.name + ' test':>11}" for r in runs)
    print(header)
    floors, rng = [], np.random.default_rng(args.seed)
    with threadpool_limits(limits=args.threads):
        for epoch in range(1, args.epochs + 1):
            # Alternate who goes first, so neither always follows the other's cache misses.
            order = runs if epoch % 2 else runs[::-1]
            times = {r.name: timed(r.train_epoch) for r in order}
            floors.append(matmul_epoch_seconds(n, rng))  # interleaved too: the same load as the epochs
            losses = {r.name: r.test_loss() for r in runs}
            line = f"{epoch:5d}  " + "  ".join(
                f"{times[r.name][0]:8.2f} ({times[r.name][1]:5.2f})" for r in runs)
            if len(runs) == 2:
                line += f"  {times['numvae'][0] / times['torch'][0]:6.2f}"
            line += "  " + "  ".join(f"{n / times[r.name][0]:11.0f}" for r in runs)
            line += "  " + "  ".join(f"{losses[r.name]:11.2f}" for r in runs)
            print(line, flush=True)
            for r in runs:
                seconds[r.name].append(times[r.name])
        wall = {name: statistics.median(t[0] for t in s) for name, s in seconds.items()}
        cpu = {name: statistics.median(t[1] for t in s) for name, s in seconds.items()}
        if len(runs) == 2:
            ratios = [a[0] / b[0] for a, b in zip(seconds["numvae"], seconds["torch"])]
            cpu_ratios = [a[1] / b[1] for a, b in zip(seconds["numvae"], seconds["torch"])]
            print(f"median ratio numvae/torch {statistics.median(ratios):.2f}")
            print(f"median CPU-time ratio numvae/torch {statistics.median(cpu_ratios):.2f} "
                  "(CPU seconds count spinning threads too; compare at --threads 1 on a busy machine)")
            print(f"median epoch: numvae {wall['numvae']:.2f} s (cpu {cpu['numvae']:.2f}), "
                  f"torch {wall['torch']:.2f} s (cpu {cpu['torch']:.2f})")
        else:
            print(f"median epoch: numvae {wall['numvae']:.2f} s (cpu {cpu['numvae']:.2f})")
        floor_wall = statistics.median(f[0] for f in floors)
        floor_cpu = statistics.median(f[1] for f in floors)
        print(f"matrix products alone: {floor_wall:.2f} s per epoch (cpu {floor_cpu:.2f}); "
              f"numvae is {wall['numvae'] / floor_wall:.2f}x that (cpu {cpu['numvae'] / floor_cpu:.2f}x)")
        step_peak = numvae_step_peak_bytes(runs[0])
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: process {max_rss:.0f} MiB (data, {' and '.join(r.name for r in runs)}); "
          f"numvae allocates at most {step_peak / 2**20:.1f} MiB during a training step")


if __name__ == "__main__":
    main()
