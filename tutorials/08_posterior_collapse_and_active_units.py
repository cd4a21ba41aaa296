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
#
# One limit, stated up front: with the decoder used here (one hidden layer,
# pixels independent given $z$), a standard VAE (β = 1) does *not* collapse,
# and this lecture shows collapse only when it is forced, by a large β. The
# classic case, collapse at β = 1 because the decoder is strong enough to
# model $x$ without $z$, is the subject of a later lecture, on posterior
# collapse with a strong (autoregressive) decoder.

# %% [markdown]
# ## Setup
#
# Every model has the architecture of lecture 03: 784 → 400 → 2 × 20 and back,
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
from numvae.likelihoods import bernoulli_nll
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1509)
latent_dim = 20
epochs = 1 if FAST else 12
warmup_epochs = 1 if FAST else 5
seeds = (0,) if FAST else (0, 1)
ks = (1, 3, 10, 30) if FAST else (1, 3, 10, 30, 100, 300, 1000)
n_iw = 50 if FAST else 200  # test images for the importance-weighted bounds
ACTIVE = 0.01  # Burda et al.'s threshold on Cov_x(E_q[z_j])

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784)
if FAST:
    x_train, x_test = x_train[:300], x_test[:200]


def activity_of(model, x):
    """Burda et al.'s activity of each latent dimension over images x: Var_x(mu_j(x)), shape (J,)."""
    mu, _ = model.encode(x)  # (n, J)
    return mu.astype(np.float64).var(axis=0)


def train(beta, seed, warmup_epochs=0.0):
    """A 20-D VAE trained with KL weight ``beta`` (reached after ``warmup_epochs``).

    Returns the model and its number of active units on the test set after every epoch.
    """
    model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim, beta=beta, dtype=np.float32,
                       seed=seed)
    active_per_epoch = []
    Trainer(model, x_train, config=TrainConfig(epochs=epochs, warmup_epochs=warmup_epochs, binarize="none", seed=seed)).fit(
        on_epoch=lambda trainer, row: active_per_epoch.append(int(np.sum(activity_of(model, x_test) > ACTIVE))))
    return model, active_per_epoch


# %% [markdown]
# ## 1. KL per dimension and active units
#
# The encoder's $q_\phi(z|x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma^2(x))$
# factorises over dimensions, and so does its KL to the prior:
#
# $$D_{KL}\big(q(z|x)\,\|\,\mathcal N(0, I)\big)
#   = \sum_{j=1}^{J} \tfrac12\big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big).$$
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
# We start with a standard VAE, β = 1, trained for the same number of
# epochs as every model below.

# %%
def per_dimension(model, x):
    """Mean KL of each latent dimension (J,) and the activity Var_x(mu_j) (J,), over images x."""
    mu, log_var = model.encode(x)  # (n, J) each
    mu, log_var = mu.astype(np.float64), log_var.astype(np.float64)
    kl = 0.5 * (mu**2 + np.expm1(log_var) - log_var)  # (n, J): the terms of the sum above
    total = kl_standard_normal(mu, log_var)  # (n,)
    assert np.allclose(kl.sum(axis=1), total), "the per-dimension terms must add up to numvae's KL"
    return kl.mean(axis=0), activity_of(model, x)


model, model_active = train(beta=1.0, seed=0)
kl_j, activity = per_dimension(model, x_test)
sigma_median = np.median(np.exp(0.5 * model.encode(x_test)[1]), axis=0)  # (J,)
print(" dim   KL_j (nats)   A_j = Var(mu_j)   median sigma_j")
for j in np.argsort(-kl_j):
    print(f"{j:4d}   {kl_j[j]:11.3f}   {activity[j]:15.4f}   {sigma_median[j]:14.3f}")
print(f"active units (A_j > {ACTIVE}): {np.sum(activity > ACTIVE)} of {latent_dim}; total KL {kl_j.sum():.2f} nats; "
      f"smallest activity {activity.min():.3f}")

# %% [markdown]
# The table is sorted by KL. After this much training, no dimension of the
# β = 1 model is collapsed: every one carries most of a nat or more, its
# activity is of order 1 (the codes spread like the prior), and its
# posterior standard deviation is a fraction of that. The KL is not shared
# equally, though: the busiest dimension carries nearly twice the nats of
# the quietest. All 20 units are active, with the smallest activity far
# above 0.01 (printed): the count equals the simplest baseline, the latent
# size, and the standard VAE shows no collapse here.
#
# ## 2. What β and a KL warm-up do
#
# The KL weight β is the first suspect: a larger β makes every nat dearer,
# and a dimension that carries few nats is the cheapest to switch off. A
# **KL warm-up** (Bowman et al. 2016; Sønderby et al. 2016) is the classic
# remedy: it starts with β = 0 and raises it linearly to its final value
# (here over the first few epochs), so that the encoder can put information
# into $z$ before the KL term pushes unused dimensions back to the prior.
#
# We train β = 1, 4 and 16, and β = 1 and 16 with a warm-up, each with two
# seeds and for the same number of epochs. For each we record the active
# units after every epoch, and at the end the KL, the reconstruction term
# and the −ELBO with β = 1 (so that all compare), on the test set. The
# baseline for the reconstruction term is a decoder that ignores $z$
# altogether, a fully collapsed model: the best it can do on the training
# set is to output the mean training image as its pixel probabilities
# (clipped to $[10^{-6}, 1 - 10^{-6}]$, since some pixels are never inked).

# %%
settings = {f"β = {beta:g}": dict(beta=beta) for beta in (1.0, 4.0, 16.0)}
for beta in (1.0, 16.0):
    settings[f"β = {beta:g}, warm-up {warmup_epochs:g} ep."] = dict(beta=beta, warmup_epochs=warmup_epochs)
results = {}  # name -> one dict per seed
for name, arguments in settings.items():
    results[name] = []
    for seed in seeds:
        if arguments == dict(beta=1.0) and seed == 0:
            trained, active_per_epoch = model, model_active  # section 1's model
        else:
            trained, active_per_epoch = train(seed=seed, **arguments)
        kl_seed, activity_seed = per_dimension(trained, x_test)
        trained.beta = 1.0  # evaluate every model on the same objective, the ELBO
        terms = evaluate.elbo_terms(trained, x_test, np.random.default_rng(0))
        results[name].append(dict(kl=kl_seed, activity=activity_seed, active=active_per_epoch,
                                  reconstruction=terms["reconstruction"], loss=terms["loss"]))
print(f"one value per seed {seeds}, on the test set after {epochs} epochs")
print(f"{'':22s} active units   smallest A_j     KL (nats)    reconstruction         -ELBO")
for name, rows in results.items():
    columns = [" ".join(f"{r['active'][-1]:2d}" for r in rows),
               " ".join(f"{r['activity'].min():6.3f}" for r in rows),
               " ".join(f"{r['kl'].sum():5.1f}" for r in rows),
               " ".join(f"{r['reconstruction']:6.1f}" for r in rows),
               " ".join(f"{r['loss']:6.1f}" for r in rows)]
    widths = (12, 12, 11, 15, 11)
    print(f"{name:22s} " + "   ".join(f"{column:>{width}s}" for column, width in zip(columns, widths)))
for name, rows in results.items():
    print(f"{name:22s} active units after each epoch, seed by seed: "
          + ";  ".join(" ".join(str(a) for a in r["active"]) for r in rows))
for name in ("β = 16", f"β = 16, warm-up {warmup_epochs:g} ep."):
    print(f"{name}: KL carried by the units counted active: "
          + " ".join(f"{r['kl'][r['activity'] > ACTIVE].sum():.2f}" for r in results[name]) + " nats")
all_kl = np.concatenate([r["kl"] for rows in results.values() for r in rows])  # every dimension of every model
all_activity = np.concatenate([r["activity"] for rows in results.values() for r in rows])
near = (all_activity > ACTIVE / 2) & (all_activity < 2 * ACTIVE)
if near.any():
    print(f"dimensions with activity between {ACTIVE / 2} and {2 * ACTIVE}: {near.sum()}, "
          f"carrying {all_kl[near].min():.4f} to {all_kl[near].max():.4f} nats each")
inactive = all_activity <= ACTIVE
if inactive.any():
    print(f"dimensions counted inactive (activity <= {ACTIVE}): {inactive.sum()}, "
          f"carrying {all_kl[inactive].min():.4f} to {all_kl[inactive].max():.4f} nats each: near the prior, not at it")
mean_probabilities = np.clip(x_train.mean(axis=0, dtype=np.float64), 1e-6, 1 - 1e-6)  # (784,)
ignoring_z = bernoulli_nll(x_test.astype(np.float64), np.log(mean_probabilities) - np.log1p(-mean_probabilities))
print(f"a decoder that ignores z (the mean training image): reconstruction {ignoring_z.mean():.1f} nats, KL 0")

# %%
fig = Figure(figsize=(16, 4.8), layout="constrained")
axes = fig.subplots(1, 3)
epoch_axis = np.arange(1, epochs + 1)
markers = ["o", "s", "^", "D", "v"]
# Several models keep all 20 units: drawn at exactly 20 they would hide each other. Each model's count
# is shifted by its own small offset (±0.4 at most, less than the 1 between two counts), seed 2 dashed.
offsets = np.linspace(-0.4, 0.4, len(results))
for color, ((name, rows), offset) in enumerate(zip(results.items(), offsets)):
    for i, row in enumerate(rows):
        faint = dict(alpha=1.0 if i == 0 else 0.45, label=name if i == 0 else None)
        axes[0].plot(np.arange(1, latent_dim + 1), np.sort(row["kl"])[::-1], "o-", color=f"C{color}", ms=3,
                     lw=1.2, **faint)
        axes[1].scatter(row["kl"], row["activity"], s=14, color=f"C{color}", linewidths=0,
                        alpha=0.8 if i == 0 else 0.4)
        axes[2].plot(epoch_axis, np.array(row["active"]) + offset, marker=markers[color], ls="-" if i == 0 else "--",
                     color=f"C{color}", ms=4, lw=1.2, **faint)
axes[0].set_xlabel("latent dimension, sorted by its KL", fontsize=12)
axes[0].set_xticks(np.arange(1, latent_dim + 1, 2))
axes[0].set_ylabel(r"KL$_j$, nats per image", fontsize=12)
axes[0].set_title("KL per dimension (faint: second seed)", fontsize=13)
axes[0].legend(fontsize=10)
axes[1].axhline(ACTIVE, color="k", ls="--", lw=1)
axes[1].annotate(" threshold 0.01", (0.0, ACTIVE), xycoords=("axes fraction", "data"), va="bottom", fontsize=10)
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].set_xlabel(r"KL$_j$, nats per image", fontsize=12)
axes[1].set_ylabel(r"activity $A_j = \mathrm{Var}_x\,\mu_j(x)$", fontsize=12)
axes[1].set_title("Every dimension of every model", fontsize=13)
axes[2].set_xlabel("epoch", fontsize=12)
axes[2].set_ylabel(f"active units (of {latent_dim}); lines offset by ±0.4", fontsize=12)
axes[2].set_title("Active units during training (dashed: second seed)", fontsize=13)
axes[2].set_xticks(epoch_axis)
axes[2].set_yticks(np.arange(0, latent_dim + 1, 2))  # a count of units: integer ticks
axes[2].set_ylim(-0.6, latent_dim + 1.2)
for ax in axes:
    ax.grid(alpha=0.3)
save(fig, "08_active_units.png")

# %% [markdown]
# Left: the KL of each dimension, sorted, one curve per model (the fainter
# curve of each colour is the second seed). Middle: every dimension of every
# model as one point, its KL against its activity, with Burda et al.'s
# threshold dashed. Right: the number of active units after every epoch,
# each model's line shifted by its own small offset so that equal counts do
# not hide each other: the three models that keep all 20 units throughout
# (β = 1 with and without warm-up, β = 4) are the blue, orange and red flat
# lines at the top, and the β = 16 models climb from below (green) or drift
# down from 20 (purple). Where a model's two seeds have the same count, its
# dashed line (second seed) lies under the solid one.
#
# **β.** Raising β from 1 to 4 lowers the KL of every dimension, the
# quietest ones most (left), and the smallest activity falls from about 0.8
# to about 0.1 (table), but all 20 units stay active. At β = 16 the model
# is all but collapsed: its total KL is about half a nat (table), and its
# reconstruction term is only about 7 nats below that of the decoder that
# ignores $z$ (printed above). The code says almost nothing about the image.
# This is collapse *forced* from outside: a KL sixteen times dearer than the
# ELBO prices it. It says nothing about whether a VAE trained on its own
# objective collapses; with this decoder it does not (β = 1, section 1).
#
# **The count.** Yet Burda's count calls 15 to 18 of the β = 16 units
# active. The middle panel shows why: activity and KL are two views of one
# quantity, every dimension of every model lies on one curve, and there is
# no gap between "active" and "inactive" for the threshold to fall into.
# A unit near the threshold carries about a hundredth of a nat (the range
# is printed for the units within a factor two of it); the units
# that pass it at β = 16 carry under half a nat *together* (printed), and
# the units it counts inactive still carry 0.005 to 0.008 nats each
# (printed): parked near the prior, not exactly at it. The
# count of active units is a useful summary when the units split into two
# clear groups (Burda et al. report such a split, after thousands of passes
# over the data); here, after 12 epochs, they form a continuum, and the KL
# per dimension says more.
#
# **Warm-up.** At β = 1 the warm-up changes nothing measurable: 20 active
# units either way and −ELBOs within a few tenths of a nat (table). At
# β = 16 it changes the path (right panel). Without it, after the first
# epoch only a single unit passes the threshold, and units come back one by
# one as training goes on; with it, all 20 start active and a few drift below
# 0.01 once β reaches 16. After 12 epochs the counts overlap (15 and 18
# without, 19 and 17 with): the two seeds of one setting differ by as much
# as the settings do. The warm-up did leave the β = 16 model a little more
# information, on both seeds: about 0.8 nats of KL against 0.5, and a
# −ELBO about 4 nats better (table).
#
# ## 3. The importance-weighted bound, K = 1 to 1000
#
# The bound $\mathcal L_K$ is derived, and checked against an exact
# $\log p(x)$, in lecture 01, and computed for a trained VAE in lecture 03.
# Here it serves one question: how large is the measurement's own error
# next to the differences between models above? On the β = 1 model (seed 0)
# we compute it for $K$ up to 1000 on a fixed subset of test images, next to
# the ELBO of the same images.

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
    print(f"  L_{k:<4d}       {values.mean():8.2f} ± {se(values):.2f}   "
          f"minus ELBO: {gain.mean():6.2f} ± {se(gain):.2f}")
k_max = ks[-1]
last_step = bounds[k_max] - bounds[ks[-2]]  # (n_iw,)
print(f"L_{k_max} - L_{ks[-2]}: {last_step.mean():.2f} ± {se(last_step):.2f}")

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
# that mean, and the ELBO (dashed, its standard error shaded): the error bars
# come from images differing from each other by tens of nats, not from noise
# in each image's estimate. Right: the same numbers paired image by image,
# $\mathcal L_K - \mathrm{ELBO}$, which removes that spread:
# the curve rises with $\log K$ and is still rising at $K = 1000$ (the last
# step is printed). The gain from 1 to 1000 samples (printed) is a lower bound
# on how far the ELBO is from $\log p(x)$ on average. It is small next to the
# differences between the β models of section 2: the bound changes the
# *measurement* by a few nats, while β changes the *model* by tens.
#
# **Summary.** On these 4,000 digits, after 12 epochs, a standard VAE with
# a 20-dimensional latent space uses all 20 dimensions, unevenly. Here only
# a large β collapses it (a strong decoder collapses it at β = 1: the later
# lecture on posterior collapse with a strong decoder): at β = 16 the whole code carries under a nat, although
# Burda's count still calls most units active, because activity and KL vary
# continuously and the fixed threshold cuts that continuum at about a
# hundredth of a nat. A warm-up changes the path to that state, and here
# leaves a few tenths of a nat more in the code, but not the count of
# active units, within two seeds and 12 epochs. Report the KL per
# dimension next to any count of active units. The importance-weighted bound tightens the
# ELBO by a few nats, growing with $\log K$, and pairing it with the ELBO on
# the same images is what makes a difference of that size measurable.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the KL per dimension and the IW bound this lecture measures yourself,
# then check it (`numvae exercises hint lecture08 NAME` gives a hint at a time,
# from what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture08 --only kl,iw_bound
# numvae exercises check lecture08
# ```
#
# **Questions.**
#
# 1. Why can the count of active units mislead when a unit's activity is
#    continuous?
# 2. A unit whose KL is zero for every x: what does the decoder learn about it,
#    and why?
#
# **Numerical questions**, graded by `numvae exercises check lecture08 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `active_q1`: A unit is active when the variance over x of its posterior
#   mean exceeds 0.01. These variances are [1.2, 0.005, 0.3, 0.0001, 0.02,
#   0.009]: how many units are active (a count, graded exactly)?
# - `active_q2`: The KL of a collapsed unit, $q(z_j|x) = \mathcal N(0, 1)$ for
#   every x, in nats?
