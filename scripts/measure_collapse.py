"""Measure posterior collapse at β = 1 with a MADE decoder, and its remedies, over seeds.

The measurements lecture 09 (``tutorials/09_posterior_collapse_strong_decoder.py``)
quotes with intervals; the lecture itself trains with a smaller budget. Each run
trains one model on mnist5k (dynamic binarization, Adam, lr 3e-3, batch 100),
then records on the fixed binarized test set: the KL of each latent unit, its
activity Var_x(mu_j), the number of active units (activity > 0.01), and the
mean −ELBO (one sample of z per image, the same noise for every model).

Settings: ``plain`` (VAE, MLP decoder), ``made`` (MADE-VAE), ``warmup`` (MADE-VAE,
β from 0 to 1 over the first ``--warmup`` epochs), ``freebits`` (MADE-VAE,
λ = ``--free-bits`` nats per unit) and ``alone`` (the MADE decoder with no z,
trained on −log p(x): the baseline a collapsed model can at best reach).

Usage (one BLAS thread; one JSON line per run appended to ``--out``)::

    python scripts/measure_collapse.py --settings plain made --seeds 0 1 2 --out runs.jsonl

Without ``--out`` the lines are appended to the file the lecture reads,
``numvae/course/data/collapse_runs.jsonl`` in this checkout: it ships inside
the package, so the lecture runs wherever numvae is installed. The lecture
keeps the last line of each (setting, seed), so a re-measured run replaces
the old one.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import numvae
from numvae import collapse, evaluate
from numvae.data import load_dataset
from numvae.data.binarization import binarize
from numvae.likelihoods import bernoulli_nll, bernoulli_nll_backward
from numvae.made import MADE
from numvae.made_vae import MADEVAE
from numvae.optim import Adam
from numvae.training import TrainConfig, Trainer
from numvae.training.trainer import evaluation_targets

LATENT_DIM, HIDDEN, LR, BATCH = 20, 400, 3e-3, 100
# The copy in this checkout (the one to commit), whichever numvae is imported.
RUNS_FILE = Path(__file__).resolve().parents[1] / "numvae" / "course" / "data" / "collapse_runs.jsonl"


def train_alone(x_train, x_test, epochs, seed):
    """The MADE with no z (latent_dim 0), trained on the mean −log p(x); its test −log p(x) per epoch."""
    rng = np.random.default_rng(seed)
    made = MADE(784, (HIDDEN,), 0, "relu", rng, np.float32)
    optimizer = Adam(made.parameters("made"), lr=LR)
    no_z = np.zeros((len(x_train), 0), dtype=np.float32)
    curve = []
    for _ in range(epochs):
        x_epoch = binarize(x_train, "dynamic", rng=rng)
        order = rng.permutation(len(x_epoch))
        for start in range(0, len(x_epoch), BATCH):
            x = x_epoch[order[start:start + BATCH]]
            logits = made.forward(x, no_z[: len(x)])
            made.backward(bernoulli_nll_backward(np.float32(1 / len(x)), x, logits))
            optimizer.step(made.gradients("made"))
        logits = made.forward(x_test, np.zeros((len(x_test), 0), np.float32), keep_cache=False)
        curve.append(float(bernoulli_nll(x_test, logits).mean()))
    return {"test_nll": curve[-1], "curve": curve}


def train_vae(setting, x_train, x_test_targets, epochs, seed, warmup, free_bits):
    if setting == "plain":
        model = numvae.VAE(784, (HIDDEN,), latent_dim=LATENT_DIM, dtype=np.float32, seed=seed)
    else:
        model = MADEVAE(784, (HIDDEN,), latent_dim=LATENT_DIM, dtype=np.float32, seed=seed,
                        free_bits=free_bits if setting == "freebits" else 0.0)
    config = TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, binarize="dynamic", seed=seed,
                         warmup_epochs=warmup if setting == "warmup" else 0.0)
    curve = []

    def record(trainer, row):
        mu, _ = model.encode(x_test_targets)
        curve.append({"epoch": row["epoch"], "kl": row["test_kl"], "active": collapse.active_units(mu),
                      "loss": row["test_loss"]})

    Trainer(model, x_train, x_test_targets, config).fit(on_epoch=record)
    mu, log_var = model.encode(x_test_targets)
    terms = evaluate.elbo_terms(model, x_test_targets, np.random.default_rng(12))
    return {"kl_per_unit": collapse.kl_per_unit(mu, log_var).tolist(), "activity": collapse.activity(mu).tolist(),
            "active_units": collapse.active_units(mu), "neg_elbo": terms["loss"],
            "reconstruction": terms["reconstruction"], "kl": terms["kl"], "curve": curve}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=("plain", "made", "warmup", "freebits", "alone"),
                        required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--free-bits", type=float, default=0.5)
    parser.add_argument("--out", default=str(RUNS_FILE), help="JSON lines to append to (default: %(default)s)")
    args = parser.parse_args()
    threadpool_limits(1)
    data = load_dataset("mnist5k")
    for seed in args.seeds:
        # The test targets are the Trainer's: binarized once, with the seed of the run.
        x_test_targets = evaluation_targets(data.x_test, "dynamic", 0)
        for setting in args.settings:
            start = time.perf_counter()
            if setting == "alone":
                result = train_alone(data.x_train, x_test_targets, args.epochs, seed)
            else:
                result = train_vae(setting, data.x_train, x_test_targets, args.epochs, seed, args.warmup,
                                   args.free_bits)
            result.update(setting=setting, seed=seed, epochs=args.epochs, warmup=args.warmup,
                          free_bits=args.free_bits, seconds=time.perf_counter() - start)
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(result) + "\n")
            print(setting, seed, {k: result.get(k) for k in ("neg_elbo", "kl", "active_units", "test_nll")},
                  f"{result['seconds']:.0f}s", flush=True)


if __name__ == "__main__":
    main()
