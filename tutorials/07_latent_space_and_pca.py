# %% [markdown]
# # 7. The latent space: dimensionality reduction
#
# A VAE compresses each image into a distribution over a few latent numbers.
# With only two, the whole latent space fits on a page: the encoder becomes a
# nonlinear dimensionality reduction (784 pixels to 2 numbers) that we can
# scatter-plot, and the decoder a map from every point of the plane to an image.
# We look at both, walk in a straight line between two digits, and then turn
# the one knob of the β-VAE (Higgins et al., ICLR 2017), the weight of the KL
# term, to see the trade-off between compression and reconstruction. Lecture 7
# then asks how much of this a linear method, PCA, already gives.

# %% [markdown]
# ## Setup

# %%
import matplotlib
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate, plots
from numvae.data import load_dataset
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, FIGURES_DIR, save, show

rng = np.random.default_rng(2017)
epochs = 1 if FAST else 30
SEEDS = (0, 1)  # every β is trained from two initialisations, to see how much is seed noise
COLORS = matplotlib.colormaps["tab10"].colors  # the class colours of plots.plot_latent_scatter

data = load_dataset("mnist5k")
x_train, x_test, y_test = data.x_train, data.x_test, data.y_test  # (4000, 784), (1000, 784), (1000,)
if FAST:
    x_train, x_test, y_test = x_train[:400], x_test[:200], y_test[:200]


def train_vae(beta, seed=0, latent_dim=2, n_epochs=epochs):
    """A VAE trained with KL weight ``beta`` from initialisation ``seed``; returns it and its history."""
    model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim, beta=beta, dtype=np.float32,
                       seed=seed)
    history = Trainer(model, x_train, x_test, TrainConfig(epochs=n_epochs, binarize="none", seed=seed)).fit()
    return model, history


# %% [markdown]
# ## 1. A two-dimensional code
#
# Same model as in lecture 3, with ``latent_dim=2``. Two numbers per image
# cannot hold much: we train a 20-dimensional model beside it (for fewer
# epochs, which only handicaps it) to see what the two dimensions cost.

# %%
model, history = train_vae(beta=1.0)
print(f"2-D,  {epochs} epochs: test loss {history['test_loss'][-1]:.1f} = "
      f"reconstruction {history['test_reconstruction'][-1]:.1f} + KL {history['test_kl'][-1]:.2f} nats")
model_20, history_20 = train_vae(beta=1.0, latent_dim=20, n_epochs=max(1, epochs // 2))
print(f"20-D, {max(1, epochs // 2)} epochs: test loss {history_20['test_loss'][-1]:.1f} = "
      f"reconstruction {history_20['test_reconstruction'][-1]:.1f} + KL {history_20['test_kl'][-1]:.2f} nats")

# %%
shown = x_test[:12]  # (12, 784)
rows = np.concatenate([shown, model.reconstruct(shown), model_20.reconstruct(shown)])  # (36, 784)
show(plots.plot_image_grid(rows, FIGURES_DIR / "07_reconstructions.png", ncols=12,
                           title="Test images (top), decoded from 2 latent numbers (middle) and from 20 (bottom)"))

# %% [markdown]
# The printed reconstruction terms say it in nats, the figure in pictures:
# from two numbers the decoder redraws the *kind* of digit (its class, slant
# and thickness, roughly) but loses the details, and some digits come back as
# a different, similar-looking class; from twenty it redraws the digit
# itself. The 2-D model's reward is the KL: it stores far fewer nats per
# image. In exchange for blurrier reconstructions, we can look at everything.

# %% [markdown]
# ## 2. The encoder as dimensionality reduction
#
# We encode the 1,000 test images and plot the mean $\mu(x)$ of each
# $q(z|x)$, coloured by the digit's label. The labels were never shown to the
# model.

# %%
mu, log_var = model.encode(x_test)  # each (n_test, 2)
show(plots.plot_latent_scatter(mu, y_test, FIGURES_DIR / "07_latent_scatter.png"))
print("posterior standard deviations, median per dimension:", np.round(np.median(np.exp(0.5 * log_var), axis=0), 3))

# %% [markdown]
# Without ever seeing a label, the encoder has sorted the digits: the 0s
# occupy their own region on the left, the 1s a separate band on the right,
# and the remaining classes share the middle, each with a centre of its own
# (2s in a tight knot, 7s and 9s towards the bottom) but overlapping where
# the digits look alike in pixel space (4 with 9, 3 with 5 and 8). Two
# numbers are not enough to separate ten classes cleanly.
#
# The cloud spans a few units along each axis, the scale of the prior
# $\mathcal N(0, I)$ that the KL term pulls every $q(z|x)$ towards, though it
# is neither round nor exactly centred (its mean and spread are printed
# below): the pull is gentle, the few nats of KL per image printed in
# section 1. Each point is just the centre of a Gaussian; the printed
# posterior standard deviations say how precisely the encoder places an
# image, far more precisely than the spread of the cloud.

# %%
print("mean of the test codes:", np.round(mu.mean(axis=0), 2), " standard deviation:", np.round(mu.std(axis=0), 2))

# %% [markdown]
# ## 3. The decoder as a map
#
# The other direction: pick a grid of points $z$ and decode each.
# ``plots.plot_manifold`` uses quantiles of the prior,
# $z = \Phi^{-1}(p)$ for $p$ evenly spaced from 0.05 to 0.95, so that every
# cell of the grid covers the same prior probability (Kingma & Welling,
# fig. 4).

# %%
show(plots.plot_manifold(model.decode, FIGURES_DIR / "07_manifold.png", n=20))

# %% [markdown]
# The decoder has learned a smooth map: neighbouring tiles differ a little,
# and digits morph into each other along the way. There is no empty space
# in this picture, because the prior covers the whole plane, but some
# regions decode to broken shapes that are no clean digit at all: few
# training images were encoded there, so the decoder was hardly trained on
# them.
#
# This map covers the square $[-1.64, 1.64]^2$ of the *prior*, but the codes
# are not centred on the prior (their mean was printed in section 2): how many
# test codes fall inside that square at all?

# %%
inside = np.all(np.abs(mu) <= plots.manifold_grid(2).max(), axis=1)  # (n_test,) bool
print(f"test codes inside the manifold's square: {inside.mean():.2f}")
for label in range(10):
    print(f"  digit {label}: {inside[y_test == label].mean():.2f}", end="")
print()

# %% [markdown]
# So we decode a second map, over the region where the data lies: from the
# 1st to the 99th percentile of the codes along each axis. The scatter of the
# test codes is drawn beside it on the same axes, with the prior's square
# dashed, so every tile can be matched with the digits encoded there.

# %%
n_tiles = 20
low, high = np.percentile(mu, [1, 99], axis=0)  # (2,) each: the data's extent per axis
z1 = np.linspace(low[0], high[0], n_tiles)
z2 = np.linspace(high[1], low[1], n_tiles)  # top row first, as on a plot's y axis
grid = np.array([[a, b] for b in z2 for a in z1])  # (400, 2), tile order: rows of constant z2
tiles = model.decode(grid).reshape(n_tiles, n_tiles, 28, 28).transpose(0, 2, 1, 3).reshape(28 * n_tiles, 28 * n_tiles)
fig = Figure(figsize=(14, 7), layout="constrained")
axes = fig.subplots(1, 2)
extent = (low[0], high[0], low[1], high[1])
axes[0].imshow(tiles, cmap="gray", vmin=0, vmax=1, extent=extent, aspect="auto")
axes[0].set_title("The decoder over the data's region", fontsize=13)
for label in range(10):
    axes[1].scatter(*mu[y_test == label].T, s=5, color=COLORS[label], alpha=0.5, linewidths=0)
    axes[1].text(*np.median(mu[y_test == label], axis=0), str(label), fontsize=14, weight="bold",
                 color=COLORS[label], ha="center", va="center")
axes[1].set_title("The test codes on the same axes", fontsize=13)
square = plots.manifold_grid(2).max()
for ax in axes:
    ax.plot([-square, square, square, -square, -square], [-square, -square, square, square, -square],
            color="C1", ls="--", lw=1.5)
    ax.set_xlim(low[0], high[0])  # both panels show exactly the decoded region
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("$z_1$", fontsize=12)
axes[0].set_ylabel("$z_2$", fontsize=12)
save(fig, "07_manifold_data.png")

# %% [markdown]
# Left: the decoder over the data's own region, with the prior-quantile
# square of the first map dashed in orange; right: the codes, each class at
# its median. Each class's tiles sit where its codes are, and the classes
# the printed fractions showed mostly outside the dashed square are visible
# here, not on the first map. The broken shapes sit between classes and at
# the edges, where few codes fall.
#
# ## 4. Interpolating between two digits
#
# Encode two test digits, walk along the straight line between their means,
# and decode every step:
#
# $$z_t = (1 - t)\,\mu(x_a) + t\,\mu(x_b), \qquad t \in [0, 1].$$

# %%
index_a = int(np.flatnonzero(y_test == 0)[0])  # the first 0 of the test set
index_b = int(np.flatnonzero(y_test == 1)[0])  # and the first 1
t = np.linspace(0, 1, 10)[:, None]  # (10, 1), broadcasts over the 2 latent dimensions
path_z = (1 - t) * mu[index_a] + t * mu[index_b]  # (10, 2)
path_images = model.decode(path_z)  # (10, 784)

fig = Figure(figsize=(11, 7.2), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[3, 1])
ax = top.subplots()
for label in range(10):
    ax.scatter(*mu[y_test == label].T, s=4, color=COLORS[label], alpha=0.35, linewidths=0)
    ax.text(*np.median(mu[y_test == label], axis=0), str(label), fontsize=14, weight="bold",
            color=COLORS[label], ha="center", va="center")
ax.plot(*path_z.T, "o-", color="k", ms=5, lw=1.5)
ax.plot(*path_z[0], "s", color="k", ms=10)
ax.set_aspect("equal", adjustable="datalim")
ax.set_xlabel("$z_1$", fontsize=12)
ax.set_ylabel("$z_2$", fontsize=12)
ax.set_title(f"A straight line from a {y_test[index_a]} (square) to a {y_test[index_b]}; "
             "digits at their class medians", fontsize=13)
strip = np.hstack(path_images.reshape(10, 28, 28))  # (28, 280): the decoded steps side by side
axes_strip = bottom.subplots()
axes_strip.imshow(strip, cmap="gray", vmin=0, vmax=1)
axes_strip.set_xticks(np.arange(10) * 28 + 13.5, [f"t={v:.2f}" for v in t[:, 0]], fontsize=9)
axes_strip.set_yticks([])
save(fig, "07_interpolation.png")

# %% [markdown]
# Top: the path (black) across the scatter of test means, each class
# labelled at its median. Bottom: the decoded images along it, from $t = 0$
# (left) to $t = 1$ (right). The line runs *above* the central cloud, through
# a region where almost no test image was encoded. Its first few steps are
# clean 0s and its last few clean 1s; in between ($t \approx 0.45$ to 0.65)
# the decoder, rarely trained there, produces broken rings, a 0 and a 1
# superimposed. A straight line in latent space is a sensible path in image
# space only where the encoder put data along it, which is one reason to
# keep the aggregate posterior close to the prior.
#
# ## 5. The β knob: compression against reconstruction
#
# The β-VAE weights the KL term:
#
# $$\text{loss} = -\log p(x \mid z) + \beta\, D_{KL}(q(z|x)\,\|\,p(z)).$$
#
# $\beta = 1$ is the ELBO. A larger $\beta$ makes every nat of information
# stored in $z$ more expensive, so the encoder stores less: lower KL, worse
# reconstructions, posteriors closer to the prior. A smaller $\beta$ does the
# opposite. We train $\beta = 0.5$, 1 and 4, each from two seeds, for the
# same number of epochs, and evaluate every model on the test set with
# $\beta = 1$ so that their −ELBO compare. The last column says how far from
# converged each model still is: how much its test loss fell over its last
# ten epochs.

# %%
models, histories = {(1.0, 0): model}, {(1.0, 0): history}
for beta in (0.5, 1.0, 4.0):
    for seed in SEEDS:
        if (beta, seed) not in models:
            models[beta, seed], histories[beta, seed] = train_vae(beta, seed)
betas = (0.5, 1.0, 4.0)
results = {}
for key, trained in models.items():
    terms = evaluate.elbo_terms(trained, x_test, np.random.default_rng(0))  # the same noise for all
    sd = np.median(np.exp(0.5 * trained.encode(x_test)[1]))  # median posterior standard deviation
    test_loss = histories[key]["test_loss"]  # with its own β
    results[key] = {**terms, "sd": sd, "gain": test_loss[-11] - test_loss[-1] if len(test_loss) > 10 else np.nan}
print(" beta  seed   reconstruction     KL   -ELBO (beta = 1)   test loss (its own beta)   median sd   "
      "gain, last 10 epochs")
for beta, seed in sorted(results):
    r = results[beta, seed]
    print(f"{beta:5.1f}  {seed:4d}   {r['reconstruction']:14.1f}  {r['kl']:5.2f}   {r['reconstruction'] + r['kl']:16.1f}"
          f"   {r['reconstruction'] + beta * r['kl']:24.1f}   {r['sd']:9.3f}   {r['gain']:8.2f}")
for beta in betas:
    elbo = [results[beta, seed]["reconstruction"] + results[beta, seed]["kl"] for seed in SEEDS]
    print(f"beta {beta:g}: -ELBO {np.mean(elbo):.1f}, seeds differ by {abs(elbo[0] - elbo[-1]):.1f} nats")

# %%
fig = Figure(figsize=(15, 4.8), layout="constrained")
axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.9]})
codes = {beta: models[beta, 0].encode(x_test)[0] for beta in betas}  # (n_test, 2) each, seed 0
limit = 1.05 * max(np.abs(c).max() for c in codes.values())  # one scale for all three, holding every code
for ax, beta in zip(axes[:3], betas):
    for label in range(10):
        ax.scatter(*codes[beta][y_test == label].T, s=4, color=COLORS[label], alpha=0.5, linewidths=0)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title(rf"$\beta = {beta:g}$: KL {results[beta, 0]['kl']:.1f} nats", fontsize=13)
    ax.set_xlabel("$z_1$", fontsize=12)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("$z_2$", fontsize=12)
for seed, marker in zip(SEEDS, "os"):
    kl_values = [results[b, seed]["kl"] for b in betas]
    rec_values = [results[b, seed]["reconstruction"] for b in betas]
    axes[3].plot(kl_values, rec_values, marker=marker, ls="-", color="k", mfc="white" if seed else "k",
                 label=f"seed {seed}")
axes[3].legend(fontsize=10)
for beta in betas:
    kl, rec = results[beta, 0]["kl"], results[beta, 0]["reconstruction"]
    axes[3].annotate(rf"$\beta = {beta:g}$", (kl, rec), textcoords="offset points", xytext=(0, 9),
                     ha="center", fontsize=11)
axes[3].set_xlabel("KL = rate (nats)", fontsize=12)
axes[3].set_ylabel(r"reconstruction $-\log p(x|z)$ = distortion", fontsize=11)
axes[3].set_title("The trade-off", fontsize=13)
axes[3].margins(0.3)
axes[3].grid(alpha=0.3)
save(fig, "07_beta.png")

# %% [markdown]
# Left three panels: the test means for each $\beta$ (seed 0), on the same
# axes, wide enough to hold every code (colours as in the scatter of section
# 2). As $\beta$ grows the cloud contracts towards the origin: the encoder is
# charged more for every nat that distinguishes one image from another. The
# printed median posterior standard deviation grows with $\beta$ at the same
# time: each image is placed less precisely, its Gaussian wider and closer
# to the prior's. Right: the trade-off in numbers, one line per seed. Each
# model is a point in the plane of rate (KL, the information stored in $z$)
# against distortion (reconstruction cost): a larger $\beta$ moves left and
# up, fewer nats stored and more lost on reconstruction.
#
# Two cautions before drawing lessons from the table. Compare the gaps
# between the $\beta$ values with the gaps between the two seeds of the same
# $\beta$ (printed): a difference smaller than the seed-to-seed difference is
# not a difference. And the last column shows the models were still
# improving when training stopped, by amounts comparable to some of those
# gaps: these are 30-epoch models, not converged ones, and a longer run
# could reorder close values. What is robust to both: a larger $\beta$
# stores fewer nats (a lower KL, for both seeds), and from $\beta = 1$ to 4
# the reconstruction gets clearly worse; from 0.5 to 1 it barely moves, by
# less than the seed-to-seed and still-training differences (two latent
# dimensions leave little room to use the extra nats). No
# $\beta$ is "right": $\beta = 1$ optimises the ELBO itself, a larger
# $\beta$ gives a smoother, more prior-like code, a smaller one sharper
# reconstructions when the latent space has room for them.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the KL and the sampler that shape the latent space of this lecture
# yourself, then check it (`numvae exercises hint week6 NAME` gives a hint at a
# time, from what to differentiate to the formula):
#
# ```bash
# numvae exercises start week6 --only dense,reparameterize,kl,bernoulli
# numvae exercises check week6
# ```
#
# **Questions.**
#
# 1. Why are the decoder's maps drawn over a grid of the prior's quantiles
#    rather than a uniform grid?
# 2. What does a larger β do to the KL and to the reconstructions, and why?
#
# **Numerical questions**, graded by `numvae exercises check week6 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `prior_q1`: In a 2-D latent space, what fraction of the prior $\mathcal
#   N(0, I)$ lies within distance 1 of the origin?
