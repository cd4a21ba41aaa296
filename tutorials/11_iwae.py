# %% [markdown]
# # 11. Training with the importance-weighted bound (IWAE)
#
# Lectures 01 and 03 used the importance-weighted bound
#
# $$\mathcal L_K(x) = \log \frac1K \sum_{k=1}^K w_k, \qquad
#   w_k = \frac{p_\theta(x \mid z_k)\, p(z_k)}{q_\phi(z_k \mid x)}, \qquad
#   z_k = \mu_\phi(x) + \sigma_\phi(x)\,\varepsilon_k,$$
#
# only to *measure* a trained model: $\mathbb E[\mathcal L_1]$ is the ELBO,
# $\mathbb E[\mathcal L_K]$ grows with K towards $\log p(x)$. Burda, Grosse &
# Salakhutdinov (*Importance Weighted Autoencoders*, 2015, arXiv:1509.00519)
# *train* on it: the same encoder (parameters φ) and decoder (parameters θ),
# the same data, only the objective changes. We derive its gradient by hand,
# check it, train an IWAE beside a VAE of the same size from the same initial
# weights, and compare them on the ELBO, on $\mathcal L_{K}$ with large K, and
# on the number of latent dimensions they use.

# %% [markdown]
# ## Setup
#
# Both models are 784 → 200 → 2 × 50 and back (tanh), with a Bernoulli decoder
# trained on dynamically binarized mnist5k (a fresh draw of bits from the grey
# levels every epoch, lecture 05); the test images are binarized once. A
# 50-dimensional latent space leaves room for unused dimensions. In fast mode
# (``NUMVAE_FAST=1``) a few hundred images, one epoch and small K: the numbers
# are then placeholders.

# %%
import copy
import time

import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate
from numvae.data import load_dataset
from numvae.data.binarization import binarize
from numvae.gaussian import log_normal, log_standard_normal
from numvae.gradcheck import check_gradients
from numvae.iwae import IWAE
from numvae.training.trainer import evaluation_targets

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

K = 5  # importance samples per image during training
epochs = 1 if FAST else 10
n_eval = 30 if FAST else 200  # test images for the large-K bounds
ks = (1, 5, 50) if FAST else (1, 5, 50, 500)
ACTIVE = 0.01  # Burda et al.'s threshold on Cov_x(E_q[z_j])

data = load_dataset("mnist5k")
x_train = data.x_train  # (4000, 784) grey levels in [0, 1]
x_test = evaluation_targets(data.x_test, "dynamic", seed=0)  # (1000, 784) bits, drawn once
if FAST:
    x_train, x_test = x_train[:300], x_test[:100]
print("training on", x_train.shape, "testing on", x_test.shape)

# %% [markdown]
# ## 1. The gradient of $\mathcal L_K$, by hand
#
# Fix the noise $\varepsilon_1, \dots, \varepsilon_K$. Each
# $\log w_k = \log p_\theta(x|z_k) + \log p(z_k) - \log q_\phi(z_k|x)$ is then a
# differentiable function of the parameters, and the derivative of a log of
# a sum is
#
# $$\nabla \mathcal L_K = \frac{\sum_k \nabla w_k}{\sum_j w_j}
#   = \sum_k \frac{w_k}{\sum_j w_j}\, \nabla \log w_k
#   = \sum_k \tilde w_k\, \nabla \log w_k, \qquad
#   \tilde w_k = \mathrm{softmax}_k(\log w_1, \dots, \log w_K),$$
#
# using $\nabla w_k = w_k \nabla \log w_k$. Each $\nabla \log w_k$ is a one-sample
# ELBO gradient, the VAE's backward pass with the KL replaced by
# $\log q_\phi(z_k|x) - \log p(z_k)$ at the sample; the IWAE weighs them by
# $\tilde w_k$ where the VAE would give each sample $1/K$. Two new derivatives
# are needed (``numvae.gaussian.log_normal_backward``,
# ``log_standard_normal_backward``):
#
# $$\frac{\partial \log p(z)}{\partial z} = -z, \qquad
#   \frac{\partial \log q}{\partial z} = -\frac{z - \mu}{\sigma^2}, \quad
#   \frac{\partial \log q}{\partial \mu} = \frac{z - \mu}{\sigma^2}, \quad
#   \frac{\partial \log q}{\partial \log\sigma^2} = \tfrac12\Big(\frac{(z-\mu)^2}{\sigma^2} - 1\Big),$$
#
# and the chain rule through $z = \mu + \sigma\varepsilon$ adds the path
# through z to the direct ones. ``numvae.iwae.IWAE`` is a ``VAE`` whose
# ``loss(x, k, eps)`` and ``backward()`` do exactly this. As in lecture 00,
# the proof is a gradient check in float64 against central differences,
# with the noise fixed.

# %%
tiny = IWAE(input_dim=10, hidden_dims=(6,), latent_dim=3, activation="tanh", k=4, seed=0)
check_rng = np.random.default_rng(0)
for p in tiny.parameters().values():  # biases start at 0, where a wrong bias gradient could hide
    p += 0.1 * check_rng.standard_normal(p.shape)
x_small = x_test[:5, 200:210].astype(np.float64)  # (5, 10): ten pixels of five test images
eps_fixed = check_rng.standard_normal((4, 5, 3))  # (k, batch, latent_dim)
tiny.loss(x_small, 4, eps_fixed)
analytic = {name: g.copy() for name, g in tiny.backward().items()}
report = check_gradients(lambda: tiny.loss(x_small, 4, eps_fixed).loss, tiny.parameters(), analytic)
print(report)
print(f"worst relative error {report.worst.relative_error:.1e} (a wrong backward scores 1e-2 or worse)")

# %% [markdown]
# Every parameter agrees to about $10^{-9}$ (printed), round-off for
# float64 central differences with h = 1e-5 (lecture 00).
#
# **K = 1 is the VAE, with the KL sampled.** At K = 1, $\tilde w_1 = 1$ and
# $-\mathcal L_1 = -\log p(x|z) + [\log q(z|x) - \log p(z)]$: the VAE's loss with
# its analytic KL replaced by a one-sample estimate at the same z (Kingma &
# Welling's estimator A). The decoder's gradients are then the VAE's exactly
# (the KL does not involve θ); the encoder's differ by the difference
# between the two KL gradients, which is zero on average over ε.
# ``tests/math/test_iwae.py`` checks both to round-off; here the loss:

# %%
eps_one = check_rng.standard_normal((5, 3))
iwae_one = tiny.loss(x_small, 1, eps_one[None]).loss
vae_terms = numvae.VAE.loss(tiny, x_small, eps_one)  # the same networks through the VAE's loss
mu, log_var = tiny.encode(x_small)
z = mu + np.exp(0.5 * log_var) * eps_one
sampled_kl = np.mean(log_normal(z, mu, log_var) - log_standard_normal(z))
print(f"IWAE loss at K = 1:                      {iwae_one:.12f}")
print(f"VAE reconstruction + sampled KL:         {vae_terms.reconstruction + sampled_kl:.12f}")
print(f"VAE reconstruction + analytic KL (β = 1): {vae_terms.loss:.12f}  (a different estimate of the same ELBO)")

# %% [markdown]
# The first two lines agree in every digit printed. The third differs by
# about a nat: the analytic KL and its one-sample estimate are two
# estimates of one ELBO, equal only on average over ε. The VAE uses the
# analytic one because its variance is lower; the IWAE cannot, since its
# weights need $\log q(z_k|x) - \log p(z_k)$ sample by sample.

# %% [markdown]
# ## 2. Two models, one budget, and a third with the IWAE's compute
#
# A VAE and an IWAE with K = 5 start from the same weights (the same seed
# builds the same networks), see the same minibatches of the same binarized
# images, and take the same number of Adam steps. Each prints its own
# training loss: the VAE's $-$ELBO, the IWAE's $-\mathcal L_5$.
#
# The IWAE decodes K = 5 samples per image, so each of its steps costs more
# (the time per epoch is printed). Whatever it gains could then come from
# the compute, not the bound. The baseline that tests this is the VAE given
# the same compute: trained on for four times the epochs (the same batches
# for the first ones, so it continues the first VAE).

# %%
def train(model, epochs, keep_after=None, seed=0):
    """Adam, batch 100, dynamic binarization. Returns seconds per epoch, and a copy after ``keep_after`` epochs."""
    rng = np.random.default_rng([seed, 7])  # the batches and bits depend on the seed only
    optimizer = numvae.Adam(model.parameters(), lr=1e-3)
    kept, start = None, time.perf_counter()
    for epoch in range(epochs):
        x_epoch = binarize(x_train, "dynamic", rng=rng)
        order = rng.permutation(len(x_train))
        losses = []
        for step in range(0, len(x_train), 100):
            terms = model.loss(x_epoch[order[step : step + 100]])
            optimizer.step(model.backward())
            losses.append(terms.loss)
        if epoch in (0, epochs - 1) or (epoch + 1) % 10 == 0:
            print(f"  epoch {epoch + 1:3d}: training loss {np.mean(losses):7.2f}")
        if epoch + 1 == keep_after:
            kept = copy.deepcopy(model)
            seconds = (time.perf_counter() - start) / keep_after
    return (time.perf_counter() - start) / epochs if kept is None else seconds, kept


shape = dict(input_dim=784, hidden_dims=(200,), latent_dim=50, activation="tanh", dtype=np.float32, seed=0)
vae_name, iwae_name, long_name = f"VAE, {epochs} epochs", f"IWAE K={K}, {epochs} epochs", f"VAE, {4 * epochs} epochs"
print(iwae_name)
iwae_model = IWAE(k=K, **shape)
iwae_seconds, _ = train(iwae_model, epochs)
print(f"VAE, {4 * epochs} epochs (a copy is kept after {epochs})")
long_vae = numvae.VAE(**shape)
vae_seconds, vae = train(long_vae, 4 * epochs, keep_after=epochs)
models = {vae_name: vae, iwae_name: iwae_model, long_name: long_vae}
print(f"seconds per epoch: VAE {vae_seconds:.2f}, IWAE {iwae_seconds:.2f} ({iwae_seconds / vae_seconds:.1f} times)")
x_500 = binarize(x_train[:500], "dynamic", rng=np.random.default_rng(3))
final = iwae_model.loss(x_500)
log_w_vae = evaluate.log_importance_weights(vae, x_500, K, np.random.default_rng(4))  # (K, 500)
ess_vae = np.mean(1 / np.sum(evaluate.normalized_weights(log_w_vae) ** 2, axis=0))
print(f"effective sample size 1/Σ w̃² of K = {K} samples, mean over 500 training images "
      f"(1: one sample takes all the weight; {K}: all weigh the same): IWAE {final.ess:.2f}, VAE {ess_vae:.2f}")

# %% [markdown]
# An IWAE epoch costs 2.7 to 4.5 times a VAE epoch in our runs (printed;
# the ratio moved between runs with the machine's load): the decoder runs
# on K = 5 samples per image, the encoder once. That is why the third
# model exists. The effective sample size says how the IWAE uses its
# five samples: about 1.2 of 5 (printed), so in most images one sample
# takes nearly all the weight and nearly all the gradient. Measured on the
# 10-epoch VAE's weights, the same number is a little larger (printed):
# training on $\mathcal L_5$ does not make the samples weigh more equally;
# the IWAE learns to profit from the best of several.
#
# ## 3. Measured on the test images
#
# Three measurements of each model, on the same test images:
#
# * $\mathcal L_1$, the ELBO: analytic KL, reconstruction term averaged over
#   10 samples;
# * $\mathcal L_K$ for K up to 500 (``numvae.evaluate.importance_weighted_log_likelihood``),
#   the closest we get to $\log p(x)$;
# * active units: dimension j is active if $\mathrm{Cov}_x(\mathbb E_q[z_j]) > 0.01$
#   (Burda et al.; lecture 08).
#
# The models are measured on the same images, so their differences are
# taken image by image (paired), and their standard error is that of the
# per-image differences. The baselines are the VAE of the same epochs and
# the VAE of the same compute: any claim for the IWAE is a difference from
# both larger than its uncertainty.

# %%
def elbo_per_image(model, x, rng, samples=10):
    """ELBO of each image: reconstruction averaged over ``samples`` draws, analytic KL; (n,)."""
    reconstruction = 0.0
    for _ in range(samples):
        rec, kl = model.per_example_terms(x, rng.standard_normal((len(x), model.latent_dim)).astype(np.float32))
        reconstruction = reconstruction + rec.astype(np.float64) / samples
    return -(reconstruction + kl.astype(np.float64))


def se(values):
    return values.std(ddof=1) / np.sqrt(len(values))


x_eval = x_test[:n_eval]
bounds, activity = {}, {}
for name, model in models.items():
    bounds[name] = {1: elbo_per_image(model, x_eval, np.random.default_rng(11))}
    for k in ks[1:]:
        bounds[name][k] = evaluate.importance_weighted_log_likelihood(model, x_eval, k, np.random.default_rng(k))
    mu_test, _ = model.encode(x_test)  # all test images for the activity
    activity[name] = mu_test.astype(np.float64).var(axis=0)  # (50,)

k_max = ks[-1]
print(f"{n_eval} test images, mean ± standard error over images")
print(f"{'':22s} {'L_1 (ELBO)':>16s} {f'L_{k_max}':>16s} {'active units':>13s}")
for name in models:
    print(f"{name:22s} {bounds[name][1].mean():9.2f} ± {se(bounds[name][1]):.2f} "
          f"{bounds[name][k_max].mean():9.2f} ± {se(bounds[name][k_max]):.2f} "
          f"{np.sum(activity[name] > ACTIVE):8d} of 50")
for baseline in (vae_name, long_name):
    for k in (1, k_max):
        difference = bounds[iwae_name][k] - bounds[baseline][k]
        print(f"IWAE − ({baseline}) on L_{k}: {difference.mean():+.2f} ± {se(difference):.2f} nats (paired by image)")
for name in models:
    gap = bounds[name][k_max] - bounds[name][1]
    print(f"{name}: L_{k_max} − L_1 = {gap.mean():.2f} ± {se(gap):.2f} nats")

# %%
fig = Figure(figsize=(12, 4.6), layout="constrained")
left, right = fig.subplots(1, 2)
for color, name in enumerate(models):
    above_vae_elbo = [bounds[name][k] - bounds[vae_name][1] for k in ks]  # (n_eval,) each: paired by image
    left.errorbar(ks, [d.mean() for d in above_vae_elbo], yerr=[se(d) for d in above_vae_elbo], fmt="o-",
                  color=f"C{color}", capsize=3, label=name)
    right.plot(np.arange(1, 51), np.sort(activity[name])[::-1], "o-", ms=3, color=f"C{color}", label=name)
left.axhline(0, color="0.5", lw=1)
left.set_xscale("log")
left.set_xticks(ks, [str(k) for k in ks])
left.set_xlabel("K, importance samples", fontsize=12)
left.set_ylabel(rf"mean $\mathcal{{L}}_K$ − ELBO of the {epochs}-epoch VAE, nats", fontsize=12)
left.set_title(r"$\mathcal{L}_K$ above the first VAE's ELBO (±1 s.e., paired)", fontsize=12)
right.axhline(ACTIVE, color="k", ls="--", lw=1, label="threshold 0.01")
right.set_yscale("log")
right.set_xlabel("latent dimension, sorted by activity", fontsize=12)
right.set_ylabel(r"activity $\mathrm{Cov}_x(\mathbb{E}_q[z_j])$", fontsize=12)
right.set_title("Activity of the 50 latent dimensions", fontsize=12)
for ax in (left, right):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10)
save(fig, "11_iwae_vs_vae.png")

# %% [markdown]
# Left: for each model, the mean $\mathcal L_K$ over the test images minus
# the 10-epoch VAE's ELBO on the same image, against K (bars: ±1 standard
# error of the per-image difference). Right: the activity of each latent
# dimension, sorted, with Burda et al.'s threshold dashed.
#
# **Per epoch, the IWAE wins the bound it trains on and loses the ELBO.**
# After the same 10 epochs, the IWAE's $\mathcal L_{500}$ is about 6 nats
# above the VAE's, and its ELBO about 9 nats below (table, paired standard
# errors under 1.5 nats). The curves cross between K = 1 and K = 5: each
# model is best at the bound it was trained on. The IWAE's
# $\mathcal L_{500} - \mathcal L_1$ is about 26 nats against the VAE's 11
# (printed): its $q_\phi$ is a worse posterior approximation by the ELBO's
# measure, and the model leans on the K samples for its $\mathcal L_K$.
#
# **Per unit of compute, the VAE wins here.** The VAE given the IWAE's
# compute, 40 epochs, is above the IWAE on every K, by about 22 nats on
# $\mathcal L_{500}$ (printed). This early in training, more steps matter
# far more than a tighter bound: the IWAE's advantage per epoch is not an
# advantage per second. Whether it becomes one when both have converged
# is a question for a longer run (the last cell).
#
# **Active units: no difference yet.** All 50 dimensions of all three
# models are active, their activities between about 0.05 and 1 (right),
# far above 0.01, though the 40-epoch VAE's quietest dimensions have begun
# to fall towards it (green). Burda et al.'s finding, that the IWAE keeps
# more units active, is about the end of training, when the VAE has
# switched units off; 10 epochs is too early for that.


# %% [markdown]
# ## 4. A longer run, over three seeds
#
# This lecture trains for 10 epochs to run in about a minute. The same
# comparison over 100 epochs, with Burda et al.'s architecture
# (784 → 200 → 200 → 2 × 50, tanh), three seeds, $\mathcal L_{5000}$ on 300
# test images and the ELBO on all 1,000, was run by
# ``scripts/measure_iwae.py``; the VAE given the IWAE's compute was trained
# for 270 and for 400 epochs (an IWAE step measured 2.7 to 3.7 times a VAE
# step on a shared machine, so the two bracket equal compute).
# ``scripts/compare_iwae_runs.py`` pairs the models by test image. Its
# printout (``scripts/results/compare_iwae_runs.txt``) is copied here, not
# recomputed.

# %%
longer = {  # model: L_1 over seeds, L_5000 over seeds (mean ± s.e. of the 3 per-seed means), active units per seed
    "IWAE K=5, 100 epochs": ((-118.28, 0.34), (-104.46, 0.20), (48, 50, 49)),
    "VAE, 100 epochs": ((-118.73, 0.49), (-110.38, 0.61), (22, 46, 37)),
    "VAE, 270 epochs": ((-109.87, 0.23), (-101.27, 0.36), (15, 16, 14)),
    "VAE, 400 epochs": ((-109.31, 0.20), (-100.02, 0.17), (15, 16, 14)),
}
iwae_minus = {  # IWAE − model, paired by image: (difference, s.e.) for seeds 0, 1, 2, first L_1 then L_5000
    "VAE, 100 epochs": (((0.16, 0.21), (0.40, 0.21), (0.81, 0.24)), ((5.53, 0.31), (5.46, 0.31), (6.75, 0.33))),
    "VAE, 270 epochs": (((-8.31, 0.26), (-8.27, 0.25), (-8.65, 0.28)), ((-2.99, 0.36), (-3.56, 0.34), (-3.02, 0.39))),
    "VAE, 400 epochs": (((-8.84, 0.27), (-8.77, 0.28), (-9.28, 0.29)), ((-4.29, 0.42), (-4.45, 0.41), (-4.58, 0.42))),
}
print(f"{'':22s} {'L_1 (ELBO)':>16s} {'L_5000':>16s}   active units (seeds 0, 1, 2)")
for name, ((l1, l1_se), (l5000, l5000_se), active) in longer.items():
    print(f"{name:22s} {l1:9.2f} ± {l1_se:.2f} {l5000:9.2f} ± {l5000_se:.2f}   {active}")
for name, rows in iwae_minus.items():
    for bound, row in zip(("L_1", "L_5000"), rows):
        print(f"IWAE − ({name}) on {bound:6s}: " + ",  ".join(f"{d:+.2f} ± {e:.2f}" for d, e in row)
              + "  (seeds 0, 1, 2; s.e. over images)")

# %% [markdown]
# **Per epoch, the IWAE still wins, on every seed.** After 100 epochs its
# $\mathcal L_{5000}$ is 5.5 to 6.8 nats above the VAE's, more than 17
# standard errors on each seed; its ELBO no longer lags (it is ahead by 0.2 to 0.8
# nats; the smallest of these is within one standard error). And here is
# Burda et al.'s finding on active units: 48 to 50 of 50 for the IWAE, 22
# to 46 for the VAE, on the same seeds.
#
# **Per unit of compute, the VAE wins, on every seed.** Trained for 270 or
# 400 epochs, the VAE is 3.0 to 4.6 nats above the IWAE on
# $\mathcal L_{5000}$ and 8.3 to 9.3 nats on the ELBO, while it uses only
# 14 to 16 units. On 4,000 images and at these budgets, the training has not
# converged, and more steps buy more than a tighter bound. Burda et al.
# compare models trained to convergence (3,280 passes over 60,000 images),
# where more epochs no longer help; that comparison is not made here.
#
# **Active units are not likelihood.** The model with the fewest active
# units, the long-trained VAE, has the best $\mathcal L_{5000}$. The count
# says how many dimensions the encoder uses, not how well the model fits
# the data.


# %% [markdown]
# ## Exercises for this lecture
#
# The IWAE's loss is the importance-weighted bound, and its gradient runs
# through the sampler and the densities: write the bound, the sampler and
# the KL yourself, then check them (`numvae exercises hint lecture11 NAME` gives
# a hint at a time):
#
# ```bash
# numvae exercises start lecture11 --only reparameterize,kl,iw_bound
# numvae exercises check lecture11
# ```
#
# **Questions.**
#
# 1. Why is the gradient of $\mathcal L_K$ a *weighted* sum of one-sample
#    gradients, and what happens to it when one weight dominates?
# 2. At K = 1 the IWAE's loss equals the VAE's with a sampled KL. Why does
#    the VAE use the analytic KL, and why can the IWAE not?
# 3. The IWAE-trained model has the lower ELBO but the higher
#    $\mathcal L_{500}$. Which of the two would you report as its
#    log-likelihood, and why?
#
# **Numerical questions**, graded by `numvae exercises check lecture11 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough).
#
# - `iwae_q1`: Three importance samples have log-weights −2, −2 and
#   −2 + log 2 (so w₃ = 2·w₁). What is the normalised weight w̃₃, the share
#   of the IWAE's gradient the third sample gets?
# - `iwae_q2`: For the same three samples, the effective sample size
#   $1/\sum_k \tilde w_k^2$?
# - `iwae_q3`: One latent dimension, z = μ + σε: the total derivative of
#   log q(z|x) in log σ², through both paths, at ε = 0.5 and log σ² = 0?
