# %% [markdown]
# # 8. Posterior collapse, active units and the importance-weighted bound
#
# Give a VAE a 20-dimensional latent space and it will not necessarily use
# 20 dimensions. The KL term charges for every nat a code carries, and a
# latent dimension whose posterior equals the prior, $q(z_j|x) = \mathcal
# N(0, 1)$ for every $x$, costs nothing and says nothing: the decoder learns
# to ignore it. That is *posterior collapse*, of one dimension or of all. We
# measure it per dimension, with the KL and with Burda et al.'s active units
# (*Importance Weighted Autoencoders*, 2015, arXiv:1509.00519), see what the
# KL weight β and a KL warm-up do to it, and end with the importance-weighted
# bound $\mathcal L_K$ from $K = 1$ to $1000$ on one model, next to its ELBO.

# %% [markdown]
# ## Setup
#
# Every model has the architecture of lecture 4: 784 → 400 → 2 × 20 and back,
# a Bernoulli decoder, trained with Adam on the 4,000 grey-level training
# images. In fast mode (``NUMVAE_FAST=1``) a few hundred images, one epoch,
# small K.

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate
from numvae.data import load_dataset
from numvae.gaussian import kl_standard_normal
from numvae.train import TrainConfig, Trainer

# lecture.py, next to this file, is plumbing only: fast mode and where figures go.
from lecture import FAST, save

rng = np.random.default_rng(1509)
latent_dim = 20
epochs = 1 if FAST else 15
warmup_epochs = 1 if FAST else 5
seeds = (0,) if FAST else (0, 1)
ks = (1, 3, 10, 30) if FAST else (1, 3, 10, 30, 100, 300, 1000)
n_iw = 50 if FAST else 300  # test images for the importance-weighted bounds
ACTIVE = 0.01  # Burda et al.'s threshold on Cov_x(E_q[z_j])

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784)
if FAST:
    x_train, x_test = x_train[:300], x_test[:200]


def train(beta, seed, warmup_epochs=0.0):
    """A 20-D VAE trained with KL weight ``beta`` (reached after ``warmup_epochs``)."""
    model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim, beta=beta, dtype=np.float32,
                       seed=seed)
    Trainer(model, x_train, config=TrainConfig(epochs=epochs, warmup_epochs=warmup_epochs, seed=seed)).fit()
    return model


# %% [markdown]
# ## 1. KL per dimension and active units
#
# The encoder's $q(z|x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma^2(x))$
# factorises over dimensions, and so does its KL to the prior:
#
# $$D_{KL}\big(q(z|x)\,\|\,\mathcal N(0, I)\big) = \sum_{j=1}^{J} \tfrac12\big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big).$$
#
# Averaged over the test images, term $j$ is the KL *of dimension j*: how
# many nats that one coordinate carries. Burda et al. measure the same
# thing from the other side: a unit is **active** if its posterior mean
# moves with the input,
#
# $$A_j = \mathrm{Cov}_x\big(\mathbb E_{q(z|x)}[z_j]\big) = \mathrm{Var}_x\big(\mu_j(x)\big) > 0.01 .$$
#
# A collapsed dimension has $\mu_j(x) \approx 0$ and $\sigma_j(x) \approx 1$
# for every image, so both numbers are near zero. (The threshold 0.01 is
# theirs; we will see whether the values sit near it or far from it.)
# We start with a standard VAE, β = 1.

# %%
def per_dimension(model, x):
    """Mean KL of each latent dimension (J,) and the activity Var_x(mu_j) (J,), over images x."""
    mu, log_var = model.encode(x)  # (n, J) each
    mu, log_var = mu.astype(np.float64), log_var.astype(np.float64)
    kl = 0.5 * (mu**2 + np.expm1(log_var) - log_var)  # (n, J): the terms of the sum above
    total = kl_standard_normal(mu, log_var)  # (n,)
    assert np.allclose(kl.sum(axis=1), total), "the per-dimension terms must add up to numvae's KL"
    return kl.mean(axis=0), mu.var(axis=0)


model = train(beta=1.0, seed=0)
kl_j, activity = per_dimension(model, x_test)
order = np.argsort(-kl_j)
print(" dim   KL_j (nats)   A_j = Var(mu_j)   median sigma_j")
sigma_median = np.median(np.exp(0.5 * model.encode(x_test)[1]), axis=0)  # (J,)
for j in order:
    print(f"{j:4d}   {kl_j[j]:11.3f}   {activity[j]:15.4f}   {sigma_median[j]:14.3f}")
print(f"active units (A_j > {ACTIVE}): {np.sum(activity > ACTIVE)} of {latent_dim}; "
      f"total KL {kl_j.sum():.2f} nats, of which the active units carry {kl_j[activity > ACTIVE].sum():.2f}")

# %% [markdown]
# The table is sorted by KL. Read it from the bottom: the dimensions with the
# smallest KL have an activity far below the threshold and a posterior
# standard deviation near 1, the prior's. Those dimensions are collapsed:
# whatever the image, the encoder returns the prior, and the decoder has
# learned to ignore $z_j$. The active ones are the opposite: the activity is of
# order 1 (the aggregate of the codes spreads like the prior), the posterior
# standard deviation is a small fraction of it, and each carries several
# nats. The gap between the two groups is wide, so the threshold hardly
# matters here: anything between the largest inactive and the smallest
# active value would count the same units.
#
# ## 2. What β and a KL warm-up do
#
# Now the knobs. A larger β makes every nat dearer, so more dimensions should
# switch off; a smaller one should keep more. A **KL warm-up** (Bowman et al.
# 2016; Sønderby et al. 2016) starts with β = 0 and raises it linearly to
# its final value (here over the first few epochs): early on the encoder is
# free to put information into $z$, before the KL term can push unused
# dimensions back to the prior. It is the classic remedy for collapse.
#
# We train β = 0.5, 1, 2, 4 and a warmed-up β = 1, each with two seeds, for
# the same number of epochs, and report for each: active units, the total KL,
# the reconstruction term, and the −ELBO with β = 1 (so that all compare),
# on the test set. The simplest baseline for active units is the latent size,
# 20: what an encoder that used every dimension would show.

# %%
settings = {f"β = {beta:g}": dict(beta=beta) for beta in (0.5, 1.0, 2.0, 4.0)}
settings[f"β = 1, warm-up {warmup_epochs:g} ep."] = dict(beta=1.0, warmup_epochs=warmup_epochs)
results = {}  # name -> list over seeds of (active units, kl_j, reconstruction, -ELBO)
for name, arguments in settings.items():
    results[name] = []
    for seed in seeds:
        trained = model if (arguments == dict(beta=1.0) and seed == 0) else train(seed=seed, **arguments)
        kl_seed, activity_seed = per_dimension(trained, x_test)
        trained.beta = 1.0  # evaluate every model on the same objective, the ELBO
        terms = evaluate.elbo_terms(trained, x_test, np.random.default_rng(0))
        trained.beta = arguments["beta"]
        results[name].append((int(np.sum(activity_seed > ACTIVE)), kl_seed, terms["reconstruction"],
                              terms["loss"], activity_seed))
print(f"{'':26s} active units    KL (nats)    reconstruction    -ELBO        (one value per seed {seeds})")
for name, rows in results.items():
    active = " ".join(f"{r[0]:2d}" for r in rows)
    kl = " ".join(f"{r[1].sum():5.1f}" for r in rows)
    rec = " ".join(f"{r[2]:6.1f}" for r in rows)
    loss = " ".join(f"{r[3]:6.1f}" for r in rows)
    print(f"{name:26s} {active:>12s}   {kl:>11s}   {rec:>15s}   {loss:>13s}")

# %%
fig = Figure(figsize=(13, 4.8), layout="constrained")
axes = fig.subplots(1, 2)
for color, (name, rows) in enumerate(results.items()):
    for i, row in enumerate(rows):
        sorted_kl = np.sort(row[1])[::-1]
        axes[0].plot(np.arange(1, latent_dim + 1), sorted_kl, "o-", color=f"C{color}", ms=3, lw=1.2,
                     alpha=1.0 if i == 0 else 0.5, label=name if i == 0 else None)
        axes[1].scatter(row[1], row[4], s=14, color=f"C{color}", alpha=0.8 if i == 0 else 0.4, linewidths=0)
axes[0].set_xlabel("latent dimension, sorted by its KL", fontsize=12)
axes[0].set_xticks(np.arange(1, latent_dim + 1, 2))
axes[0].set_ylabel(r"KL$_j$, nats per image", fontsize=12)
axes[0].set_title("KL per dimension (light: second seed)", fontsize=13)
axes[0].legend(fontsize=10)
axes[0].grid(alpha=0.3)
axes[1].axhline(ACTIVE, color="k", ls="--", lw=1)
axes[1].annotate(" threshold 0.01", (0.0, ACTIVE), xycoords=("axes fraction", "data"), va="bottom", fontsize=10)
axes[1].set_xscale("symlog", linthresh=0.01)
axes[1].set_yscale("log")
axes[1].set_xlabel(r"KL$_j$, nats per image", fontsize=12)
axes[1].set_ylabel(r"activity $A_j = \mathrm{Var}_x\,\mu_j(x)$", fontsize=12)
axes[1].set_title("Every dimension of every model", fontsize=13)
axes[1].grid(alpha=0.3)
save(fig, "08_active_units.png")

# %% [markdown]
# Left: the KL of each dimension, sorted, one curve per model (the fainter
# curve of each colour is the second seed). Right: every dimension of every
# model as one point, its KL against its activity, with Burda et al.'s
# threshold dashed.
#
# The right panel shows why "active" is a fair word: the points fall into
# two clusters, carrying nats with an activity near 1, or carrying almost
# nothing with an activity orders of magnitude below the threshold, and few
# sit in between. The left panel and the table show what β does: the larger
# β, the fewer active units, and the ones that survive carry fewer nats
# each; β = 0.5 keeps the most. The reconstruction term rises with β and the
# KL falls, the trade-off of lecture 6. The −ELBO (β = 1 evaluated for all)
# is lowest near β = 1, which is the one it is the objective of.
#
# The warm-up row answers the remedy question for this model and this
# data: compare its active units and its −ELBO with the plain β = 1 row,
# seed by seed. Two seeds are few; where the two seeds of one setting differ
# by as much as two settings differ, the table cannot tell them apart.
#
# ## 3. The importance-weighted bound, K = 1 to 1000
#
# Lecture 4 introduced
#
# $$\mathcal L_K(x) = \log \frac1K \sum_{k=1}^K \frac{p(x|z_k)\,p(z_k)}{q(z_k|x)},
#   \qquad z_k \sim q(z|x),$$
#
# a lower bound on $\log p(x)$ in expectation, equal to the ELBO for $K = 1$
# and growing with $K$. On the β = 1 model (seed 0) we compute it with
# ``evaluate.importance_weighted_log_likelihood`` for $K$ from 1 to 1000 on
# a fixed subset of the test images, with the standard error of the mean
# over those images, and next to it the ELBO of the same images (analytic
# KL, one sample of $z$ each).

# %%
x_iw = x_test[rng.permutation(len(x_test))[:n_iw]]  # (n_iw, 784), a fixed random subset
elbo_per_image = -np.sum(model.per_example_terms(x_iw, rng.standard_normal((n_iw, latent_dim))), axis=0)
bounds = {k: evaluate.importance_weighted_log_likelihood(model, x_iw, k, rng) for k in ks}  # each (n_iw,)


def se(values):
    return values.std(ddof=1) / np.sqrt(len(values))


print(f"on {n_iw} test images, mean ± standard error over images (nats per image)")
print(f"  ELBO         {elbo_per_image.mean():8.2f} ± {se(elbo_per_image):.2f}")
for k, values in bounds.items():
    gain = values - elbo_per_image  # per image, the same images
    print(f"  L_{k:<4d}       {values.mean():8.2f} ± {se(values):.2f}   minus ELBO: {gain.mean():6.2f} ± {se(gain):.2f}")
k_max = ks[-1]
print(f"L_{k_max} - L_{ks[-2]}: {np.mean(bounds[k_max] - bounds[ks[-2]]):.2f} ± {se(bounds[k_max] - bounds[ks[-2]]):.2f}")

# %%
fig = Figure(figsize=(12, 4.6), layout="constrained")
axes = fig.subplots(1, 2)
means = np.array([bounds[k].mean() for k in ks])
errors = np.array([se(bounds[k]) for k in ks])
axes[0].errorbar(ks, means, yerr=errors, fmt="o-", color="C0", lw=2, capsize=3, label=r"$\mathcal{L}_K$")
axes[0].axhline(elbo_per_image.mean(), color="C1", ls="--", lw=1.5, label="ELBO")
axes[0].axhspan(elbo_per_image.mean() - se(elbo_per_image), elbo_per_image.mean() + se(elbo_per_image),
                color="C1", alpha=0.15)
axes[0].set_xscale("log")
axes[0].set_xlabel("K, importance samples per image", fontsize=12)
axes[0].set_ylabel("nats per image (mean over test images)", fontsize=12)
axes[0].set_title("The bound and its standard error", fontsize=13)
axes[0].legend(fontsize=10)
axes[0].grid(alpha=0.3)
gains = [bounds[k] - elbo_per_image for k in ks]
axes[1].errorbar(ks, [g.mean() for g in gains], yerr=[se(g) for g in gains], fmt="o-", color="C2", lw=2,
                 capsize=3)
axes[1].axhline(0, color="C1", ls="--", lw=1.5)
axes[1].set_xscale("log")
axes[1].set_xlabel("K, importance samples per image", fontsize=12)
axes[1].set_ylabel(r"$\mathcal{L}_K$ − ELBO, same images (nats)", fontsize=12)
axes[1].set_title("Paired with the ELBO: the image-to-image spread cancels", fontsize=13)
axes[1].grid(alpha=0.3)
save(fig, "08_iw_bound.png")

# %% [markdown]
# Left: $\mathcal L_K$ averaged over the images, with the standard error of
# that mean, and the ELBO (dashed, its standard error shaded). The error bars
# are large because images differ from each other by tens of nats, not
# because the estimate of each image is noisy. Right: the same numbers
# paired image by image, $\mathcal L_K - \mathrm{ELBO}$. Pairing removes the
# spread between images, and what is left is small: the curve rises
# steadily with $\log K$ and is still rising at $K = 1000$ (the last step is
# printed), as it should until it reaches $\log p(x)$, which no finite $K$
# is guaranteed to reach. $K = 1$ agrees with the ELBO within its error bar:
# both are one-sample estimates of the same expectation.
#
# The gain from 1 to 1000 samples (printed) is a lower bound on how far the
# ELBO is from $\log p(x)$ on average, the KL from $q(z|x)$ to the true
# posterior. It is small next to the differences between the β models of
# section 2: the bound changes the *measurement* by a few nats, while β
# changes the *model*.
#
# **Summary.** In a 20-dimensional latent space, a standard VAE on this data
# leaves some dimensions exactly at the prior: they carry no nats and their
# mean does not move with the input. The count of active units is a clean
# number because the two groups are far apart. β sets how many survive.
# The importance-weighted bound tightens the ELBO by a few nats, growing
# with $\log K$, and pairing it with the ELBO on the same images is what
# makes a difference of that size measurable.
