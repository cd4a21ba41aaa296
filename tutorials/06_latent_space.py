"""
=============================================
4. The latent space: dimensionality reduction
=============================================

A VAE compresses each image into a distribution over a few latent numbers.
With only two, the whole latent space fits on a page: the encoder becomes a
nonlinear dimensionality reduction (784 pixels to 2 numbers) that we can
scatter-plot, and the decoder a map from every point of the plane to an image.
We look at both, walk in a straight line between two digits, and then turn
the one knob of the β-VAE (Higgins et al., ICLR 2017), the weight of the KL
term, to see the trade-off between compression and reconstruction.
"""

# %% [markdown]
# ## Setup

# %%
import matplotlib
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate, plots
from numvae.data import load_dataset
from numvae.train import TrainConfig, Trainer

# lecture.py, next to this file, is plumbing only: fast mode and where figures go.
from lecture import FAST, FIGURES_DIR, save, show

rng = np.random.default_rng(2017)
epochs = 1 if FAST else 25
COLORS = matplotlib.colormaps["tab10"].colors  # the class colours of plots.plot_latent_scatter

data = load_dataset("mnist5k")
x_train, x_test, y_test = data.x_train, data.x_test, data.y_test  # (4000, 784), (1000, 784), (1000,)
if FAST:
    x_train, x_test, y_test = x_train[:400], x_test[:200], y_test[:200]


def train_vae(beta):
    """A VAE with a 2-D latent space, trained with KL weight ``beta``; returns it and its history."""
    model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=2, beta=beta, dtype=np.float32, seed=0)
    history = Trainer(model, x_train, x_test, TrainConfig(epochs=epochs, seed=0)).fit()
    return model, history


# %% [markdown]
# ## 1. A two-dimensional code
#
# Same model as in lecture 4, with ``latent_dim=2``. Two numbers per image
# cannot hold much, so expect worse reconstructions than with 20; in exchange,
# we can look at everything.

# %%
model, history = train_vae(beta=1.0)
print(f"after {epochs} epochs: test loss {history['test_loss'][-1]:.1f} = "
      f"reconstruction {history['test_reconstruction'][-1]:.1f} + KL {history['test_kl'][-1]:.2f} nats")

# %% [markdown]
# ## 2. The encoder as dimensionality reduction
#
# We encode the 1,000 test images and plot the mean $\mu(x)$ of each
# $q(z|x)$, coloured by the digit's label. The labels were never shown to the
# model.

# %%
mu, log_var = model.encode(x_test)  # each (n_test, 2)
show(plots.plot_latent_scatter(mu, y_test, FIGURES_DIR / "06_latent_scatter.png"))
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
# is neither round nor exactly centred: the pull is gentle, only about 6 nats
# per image in all. Each point is just the centre of a Gaussian; the printed
# posterior standard deviations, about 0.1, say how precisely the encoder
# places an image, far more precisely than the spread of the cloud.
#
# ## 3. The decoder as a map
#
# The other direction: pick a grid of points $z$ and decode each.
# ``plots.plot_manifold`` uses quantiles of the prior,
# $z = \Phi^{-1}(p)$ for $p$ evenly spaced from 0.05 to 0.95, so that every
# cell of the grid covers the same prior probability (Kingma & Welling,
# fig. 4).

# %%
show(plots.plot_manifold(model.decode, FIGURES_DIR / "06_manifold.png", n=20))

# %% [markdown]
# The decoder has learned a smooth map: neighbouring tiles differ a little,
# and digits morph into each other along the way, 0s on the left, 1s on the
# right, 3s, 8s and 9s and 7s along the bottom. The same classes sit where
# the scatter put them (the manifold's axes stop at ±1.64, the scatter's do
# not). There is no empty space in this picture, because the prior covers the
# whole plane, but some regions, such as the top centre, decode to broken
# rings that are no clean digit at all: few training images were encoded
# there, so the decoder was hardly trained on them.
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
save(fig, "06_interpolation.png")

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
# opposite. We train two more models, $\beta = 0.5$ and $\beta = 4$, for the
# same number of epochs, and evaluate all three with $\beta = 1$ so that
# their −ELBO compare.

# %%
models = {1.0: model}
for beta in (0.5, 4.0):
    models[beta], _ = train_vae(beta)
betas = sorted(models)
results = {}
for beta in betas:
    terms = evaluate.elbo_terms(models[beta], x_test, np.random.default_rng(0))  # same noise for all
    results[beta] = terms
print(" beta   reconstruction     KL    -ELBO (beta = 1)   training loss (its beta)")
for beta in betas:
    r = results[beta]
    print(f"{beta:5.1f}   {r['reconstruction']:14.1f}  {r['kl']:5.2f}   {r['reconstruction'] + r['kl']:16.1f}"
          f"   {r['reconstruction'] + beta * r['kl']:20.1f}")

# %%
fig = Figure(figsize=(15, 4.8), layout="constrained")
axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.9]})
for ax, beta in zip(axes[:3], betas):
    mu_beta, _ = models[beta].encode(x_test)  # (n_test, 2)
    for label in range(10):
        ax.scatter(*mu_beta[y_test == label].T, s=4, color=COLORS[label], alpha=0.5, linewidths=0)
    ax.set_xlim(-5, 5)
    ax.set_ylim(-5, 5)
    ax.set_aspect("equal")
    ax.set_title(rf"$\beta = {beta:g}$: KL {results[beta]['kl']:.1f} nats", fontsize=13)
    ax.set_xlabel("$z_1$", fontsize=12)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("$z_2$", fontsize=12)
kl_values = [results[b]["kl"] for b in betas]
rec_values = [results[b]["reconstruction"] for b in betas]
axes[3].plot(kl_values, rec_values, "o-", color="k")
for beta, kl, rec in zip(betas, kl_values, rec_values):
    axes[3].annotate(rf"$\beta = {beta:g}$", (kl, rec), textcoords="offset points", xytext=(0, 9),
                     ha="center", fontsize=11)
axes[3].set_xlabel("KL = rate (nats)", fontsize=12)
axes[3].set_ylabel(r"reconstruction $-\log p(x|z)$ = distortion", fontsize=11)
axes[3].set_title("The trade-off", fontsize=13)
axes[3].margins(0.3)
axes[3].grid(alpha=0.3)
save(fig, "06_beta.png")

# %% [markdown]
# Left three panels: the test means for each $\beta$, on the same axes
# (colours as in the scatter of section 2). As
# $\beta$ grows the cloud contracts towards the origin: the encoder is
# charged more for every nat that distinguishes one image from another. Right:
# the trade-off in numbers. Each model is a point in the plane of rate (KL,
# the information stored in $z$) against distortion (reconstruction cost): a
# larger $\beta$ moves left and up, fewer nats stored and more lost on
# reconstruction. With only two latent dimensions the reconstruction can
# hardly improve below $\beta = 1$, so halving $\beta$ buys 1.4 nats more
# KL for almost nothing. No $\beta$ is "right": $\beta = 1$ gives the best
# ELBO (see the table), a larger $\beta$ a smoother, more prior-like code,
# a smaller one sharper reconstructions when the latent space has room for
# them.
