"""Measure the amortization and approximation gaps (Cremer, Li & Duvenaud 2018) of trained models on mnist5k.

    PYTHONPATH=. python scripts/measure_amortization_gap.py --models /tmp/iwae/elbo_seed0.npz /tmp/iwae/iwae_seed0.npz \
        --short-epochs 10

Each model is one saved by ``measure_iwae.py`` (its parameters), or, with
``--short-epochs E``, an ELBO-trained model of the same size trained here for
only E epochs (same seed, batches and binarization as measure_iwae.py's
first E epochs): a second training length. For the first ``--n`` test images:

* q_φ: the encoder's output; q*: Adam on each image's (mu, log_var) from q_φ
  (``numvae.amortization.fit_local_posterior``);
* ELBO(q_φ) and ELBO(q*) with the analytic KL and 1,000 samples of the
  reconstruction term, the same noise for both (common random numbers);
* log p(x) by L_K with q* as the proposal (and with q_φ, to compare), with
  each image's delta-method standard error sqrt(1/ESS − 1/K).

Prints the gaps as mean ± standard error over images. One BLAS thread.
"""

import argparse
import ast
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import numvae
from numvae.amortization import elbo, fit_local_posterior, iw_log_likelihood
from numvae.data import load_dataset
from numvae.training.trainer import evaluation_targets

from measure_iwae import train  # noqa: E402  (scripts/ is on sys.path when run as a script)


def config_of(path):
    """The saved model's VAE configuration (an IWAE's without its k), in float32."""
    config = ast.literal_eval(str(np.load(path)["config"]))
    config.pop("k", None)
    return {**config, "dtype": np.float32}


def load_model(path):
    saved = np.load(path)
    model = numvae.VAE(**config_of(path))
    for name, p in model.parameters().items():
        p[...] = saved[f"param/{name}"]
    return model


def se(a):
    return a.std(ddof=1) / np.sqrt(len(a))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, nargs="*", default=[])
    parser.add_argument("--short-epochs", type=int, default=0)
    parser.add_argument("--short-config", type=Path, help="a saved model whose architecture the short run copies")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--k", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/numvae-amortization"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    threadpool_limits(1)
    data = load_dataset("mnist5k")
    x = evaluation_targets(data.x_test.astype(np.float32), "dynamic", 0)[: args.n]  # as measure_iwae.py's test set

    models = {path.stem: load_model(path) for path in args.models}
    if args.short_epochs:
        model = numvae.VAE(**config_of(args.short_config))  # the same initial weights as the saved model's
        train_args = argparse.Namespace(epochs=args.short_epochs, lr=1e-3, batch_size=100)
        train(model, data.x_train.astype(np.float32), model.seed, train_args, print)
        models[f"elbo_seed{model.seed}_{args.short_epochs}epochs"] = model

    eval_eps_rng = np.random.default_rng(2018)
    for name, model in models.items():
        start = time.perf_counter()
        mu_phi, log_var_phi = model.encode(x)
        eps = eval_eps_rng.standard_normal((1000, *mu_phi.shape)).astype(np.float32)  # shared by q_φ and q*
        trace = []

        def record(step, mu, log_var):
            if step % 50 == 0:
                trace.append((step, float(np.mean(elbo(model, x, mu, log_var, eps[:100])))))

        mu_star, log_var_star = fit_local_posterior(model, x, mu_phi, log_var_phi, np.random.default_rng(1),
                                                    args.steps, args.samples, args.lr, on_step=record)
        elbo_phi, elbo_star = elbo(model, x, mu_phi, log_var_phi, eps), elbo(model, x, mu_star, log_var_star, eps)
        log_px, ess = iw_log_likelihood(model, x, mu_star, log_var_star, args.k, np.random.default_rng(3))
        log_px_phi, ess_phi = iw_log_likelihood(model, x, mu_phi, log_var_phi, args.k, np.random.default_rng(4))
        log_px_se = np.sqrt(np.maximum(1 / ess - 1 / args.k, 0))
        amortization, approximation = elbo_star - elbo_phi, log_px - elbo_star
        np.savez(args.out / f"{name}.npz", elbo_phi=elbo_phi, elbo_star=elbo_star, log_px=log_px, ess=ess,
                 log_px_phi=log_px_phi, ess_phi=ess_phi, trace=np.array(trace))
        print(f"\n{name} ({args.n} test images, q* by {args.steps} Adam steps of {args.samples} samples; "
              f"{time.perf_counter() - start:.0f} s)")
        print("  ELBO(q*) on a 100-sample estimate every 50 steps: "
              + " ".join(f"{value:.2f}" for _, value in trace))
        print(f"  ELBO(q_φ)            {elbo_phi.mean():8.2f} ± {se(elbo_phi):.2f}")
        print(f"  ELBO(q*)             {elbo_star.mean():8.2f} ± {se(elbo_star):.2f}")
        print(f"  log p(x) ≈ L_{args.k}(q*)  {log_px.mean():8.2f} ± {se(log_px):.2f}   "
              f"(per image: median ESS {np.median(ess):.0f} of {args.k}, median se {np.median(log_px_se):.3f}, "
              f"max se {log_px_se.max():.3f})")
        print(f"  L_{args.k}(q_φ)          {log_px_phi.mean():8.2f} ± {se(log_px_phi):.2f}   "
              f"(median ESS {np.median(ess_phi):.0f}); L(q*) − L(q_φ) {np.mean(log_px - log_px_phi):+.3f} "
              f"± {se(log_px - log_px_phi):.3f}")
        print(f"  amortization gap ELBO(q*) − ELBO(q_φ)  {amortization.mean():6.2f} ± {se(amortization):.2f}  "
              f"(images with a negative gap: {np.sum(amortization < 0)})")
        print(f"  approximation gap log p(x) − ELBO(q*)  {approximation.mean():6.2f} ± {se(approximation):.2f}")
        print(f"  total gap log p(x) − ELBO(q_φ)         {np.mean(log_px - elbo_phi):6.2f} ± {se(log_px - elbo_phi):.2f}",
              flush=True)


if __name__ == "__main__":
    main()
