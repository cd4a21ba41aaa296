"""Measure an IWAE-trained model against an ELBO-trained one of the same size and budget (mnist5k).

    PYTHONPATH=. python scripts/measure_iwae.py --epochs 100 --seeds 0 1 2 --out /tmp/iwae

For each seed, a VAE and an IWAE with the same architecture, the same initial
weights (same seed), the same minibatches and the same dynamic binarization of
every epoch, trained with Adam for the same number of epochs. Each is then
measured on the mnist5k test images (binarized once, as ``Trainer`` does):

* L_1, the ELBO: −(reconstruction + KL) with the analytic KL and the
  reconstruction term averaged over 10 samples, per image;
* L_5000 (``numvae.evaluate.importance_weighted_log_likelihood``) on the first
  ``--n-iw`` test images, per image;
* active units: Cov_x(E_q[z_j]) > 1e-2 over all test images (Burda et al.).

Per-image values and each model's parameters go to ``--out`` (an .npz per
model and seed), so that ``measure_amortization_gap.py`` and the lecture can
reuse them; the summary is printed. One BLAS thread throughout.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import numvae
from numvae import evaluate
from numvae.data import load_dataset
from numvae.data.binarization import binarize
from numvae.iwae import IWAE
from numvae.training.trainer import evaluation_targets

ACTIVE = 1e-2


def build(kind, seed, args):
    shape = dict(input_dim=784, hidden_dims=tuple(args.hidden), latent_dim=args.latent, activation=args.activation,
                 dtype=np.float32, seed=seed)
    return numvae.VAE(**shape) if kind == "elbo" else IWAE(k=args.k, **shape)


def train(model, x_train, seed, args, log, epochs=None):
    """Adam on the model's own loss; the batches and binarization depend on the seed only."""
    rng = np.random.default_rng([seed, 7])
    optimizer = numvae.Adam(model.parameters(), lr=args.lr)
    n, start = len(x_train), time.perf_counter()
    for epoch in range(args.epochs if epochs is None else epochs):
        x_epoch = binarize(x_train, "dynamic", rng=rng)  # a fresh draw of bits every epoch
        order = rng.permutation(n)
        total = 0.0
        for step in range(0, n, args.batch_size):
            batch = x_epoch[order[step : step + args.batch_size]]
            total += model.loss(batch).loss * len(batch)
            optimizer.step(model.backward())
        if (epoch + 1) % 10 == 0 or epoch == 0:
            log(f"  epoch {epoch + 1:4d}: training loss {total / n:8.3f}  ({time.perf_counter() - start:.0f} s)")


def elbo_per_image(model, x, rng, samples=10):
    """−(E_q[−log p(x|z)] + KL) per image, the expectation by ``samples`` draws; shape (n,)."""
    reconstruction = 0.0
    for _ in range(samples):
        rec, kl = model.per_example_terms(x, rng.standard_normal((len(x), model.latent_dim)).astype(np.float32))
        reconstruction = reconstruction + rec.astype(np.float64) / samples
    return -(reconstruction + kl.astype(np.float64))


def activity(model, x):
    mu, _ = model.encode(x)
    return mu.astype(np.float64).var(axis=0)  # (latent_dim,): Cov_x(E_q[z_j])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument("--latent", type=int, default=50)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--n-iw", type=int, default=300, help="test images for L_5000")
    parser.add_argument("--k-eval", type=int, default=5000)
    parser.add_argument("--kinds", nargs="+", choices=("elbo", "iwae"), default=["elbo", "iwae"])
    parser.add_argument("--elbo-epochs", type=int, help="epochs of the ELBO-trained model (default --epochs), "
                        "e.g. K times as many for a compute-matched baseline")
    parser.add_argument("--out", type=Path, default=Path("/tmp/numvae-iwae"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    threadpool_limits(1)

    data = load_dataset("mnist5k")
    x_train = data.x_train.astype(np.float32)
    x_test = evaluation_targets(data.x_test.astype(np.float32), "dynamic", 0)  # fixed bits, one draw
    print(vars(args), flush=True)
    results = {}
    for seed in args.seeds:
        for kind in args.kinds:
            model = build(kind, seed, args)
            epochs = args.elbo_epochs if kind == "elbo" and args.elbo_epochs else args.epochs
            print(f"{kind}, seed {seed}, {epochs} epochs", flush=True)
            start = time.perf_counter()
            train(model, x_train, seed, args, lambda s: print(s, flush=True), epochs)
            train_seconds = time.perf_counter() - start
            elbo = elbo_per_image(model, x_test, np.random.default_rng([seed, 11]))
            start = time.perf_counter()
            l_5000 = evaluate.importance_weighted_log_likelihood(model, x_test[: args.n_iw], args.k_eval,
                                                                 np.random.default_rng([seed, 12]))
            a = activity(model, x_test)
            results[kind, seed] = dict(elbo=elbo, l_5000=l_5000, activity=a)
            np.savez(args.out / f"{kind}_seed{seed}.npz", elbo=elbo, l_5000=l_5000, activity=a,
                     train_seconds=train_seconds, config=str(model.config()),
                     **{f"param/{name}": p for name, p in model.parameters().items()})
            print(f"  L_1 {elbo.mean():.2f} ± {elbo.std(ddof=1) / np.sqrt(len(elbo)):.2f}, "
                  f"L_{args.k_eval} {l_5000.mean():.2f} ± {l_5000.std(ddof=1) / np.sqrt(len(l_5000)):.2f} "
                  f"(IW took {time.perf_counter() - start:.0f} s), active units {np.sum(a > ACTIVE)}, "
                  f"training {train_seconds:.0f} s", flush=True)

    if len(args.kinds) < 2:
        return
    print("\nper seed: mean ± standard error over test images; IWAE − ELBO paired by image")
    for seed in args.seeds:
        e, i = results["elbo", seed], results["iwae", seed]
        for name in ("elbo", "l_5000"):
            d = i[name] - e[name]
            print(f"seed {seed} {name:7s} ELBO-trained {e[name].mean():8.2f} ± {e[name].std(ddof=1) / np.sqrt(len(d)):.2f}"
                  f"   IWAE-trained {i[name].mean():8.2f} ± {i[name].std(ddof=1) / np.sqrt(len(d)):.2f}"
                  f"   difference {d.mean():+6.2f} ± {d.std(ddof=1) / np.sqrt(len(d)):.2f}")
        print(f"seed {seed} active units: ELBO-trained {np.sum(e['activity'] > ACTIVE)}, "
              f"IWAE-trained {np.sum(i['activity'] > ACTIVE)}")
    if len(args.seeds) > 1:
        print("\nover seeds: mean ± standard error of the per-seed means")
        for name in ("elbo", "l_5000"):
            for kind in ("elbo", "iwae"):
                m = np.array([results[kind, s][name].mean() for s in args.seeds])
                print(f"{name:7s} {kind}-trained {m.mean():8.2f} ± {m.std(ddof=1) / np.sqrt(len(m)):.2f}")
        for kind in ("elbo", "iwae"):
            m = np.array([np.sum(results[kind, s]["activity"] > ACTIVE) for s in args.seeds])
            print(f"active units {kind}-trained: {m.tolist()}")


if __name__ == "__main__":
    main()
