# %% [markdown]
# # 7. The latent space, and the VAE against PCA
#
# A VAE compresses each image into a distribution over a few latent numbers:
# the encoder, with parameters $\phi$, maps an image $x$ to
# $q_\phi(z|x) = \mathcal N(\mu_\phi(x), \mathrm{diag}\,\sigma^2_\phi(x))$, and
# the decoder, with parameters $\theta$, maps a code $z$ back to pixel
# probabilities $p_\theta(x|z)$ (the names of Kingma & Welling). With only two
# latent numbers the whole latent space fits on a page: the encoder becomes a
# nonlinear dimensionality reduction (784 pixels to 2 numbers) that we can
# scatter-plot, and the decoder a map from every point of the plane to an
# image. We look at both, walk in a straight line between two digits, and
# turn the one knob of the β-VAE (Higgins et al., ICLR 2017), the weight of
# the KL term.
#
# Then we ask how much of this the simplest method that does the same job
# already gives: principal component analysis, the best *linear* map from 784
# pixels to 2 numbers and back, computed by hand with one SVD. We measure the
# VAE, PCA and a deterministic autoencoder (the VAE's networks without the
# variational part) in two ways: how well a k-nearest-neighbour classifier
# recovers the labels from the 2 numbers (no method ever saw a label), and
# how well each reconstructs the image from them.

# %% [markdown]
# ## Setup
#
# The 4,000 training images train every model and fit PCA; every number is
# measured on the 1,000 test images. In fast mode (``NUMVAE_FAST=1``) a few
# hundred images, one epoch, two seeds, few bootstrap draws.

# %%
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patheffects import withStroke

import numvae
from numvae import evaluate, plots
from numvae.activations import sigmoid
from numvae.data import load_dataset
from numvae.layers import MLP
from numvae.likelihoods import bernoulli_nll, bernoulli_nll_backward
from numvae.optim import Adam
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, FIGURES_DIR, save, show

rng = np.random.default_rng(1901)  # Pearson, "On lines and planes of closest fit", 1901: the bootstrap's draws
epochs = 1 if FAST else 30
seeds = (0, 1) if FAST else (0, 1, 2)  # every 2-D VAE and autoencoder is trained from these initialisations
n_bootstrap = 50 if FAST else 2000
k = 5  # neighbours that vote in kNN, fixed in advance (not tuned on the test set)
COLORS = matplotlib.colormaps["tab10"].colors

data = load_dataset("mnist5k")
x_train, y_train = data.x_train, data.y_train  # (4000, 784), (4000,)
x_test, y_test = data.x_test, data.y_test  # (1000, 784), (1000,)
if FAST:
    x_train, y_train, x_test, y_test = x_train[:400], y_train[:400], x_test[:200], y_test[:200]


def train_vae(beta, seed, latent_dim=2, n_epochs=epochs):
    """A VAE trained with KL weight ``beta`` from initialisation ``seed``; returns it and its history."""
    model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=latent_dim, beta=beta, dtype=np.float32,
                       seed=seed)
    history = Trainer(model, x_train, x_test, TrainConfig(epochs=n_epochs, binarize="none", seed=seed)).fit()
    return model, history


def scatter_codes(ax, codes, labels, size=16, alpha=0.6, fontsize=16):
    """One dot per image, coloured by its label, and each digit written at its class median."""
    for label in range(10):
        members = codes[labels == label]  # (n_label, 2)
        ax.scatter(*members.T, s=size, color=COLORS[label], alpha=alpha, linewidths=0)
        if len(members):
            ax.text(*np.median(members, axis=0), str(label), fontsize=fontsize, weight="bold", color=COLORS[label],
                    ha="center", va="center", path_effects=[withStroke(linewidth=3, foreground="white")])


# %% [markdown]
# ## 1. A two-dimensional code
#
# Same model as in lecture 3 (a Bernoulli decoder, one hidden layer of 400
# units each way), with ``latent_dim=2``. A VAE's code depends on its random
# initialisation and the order of its minibatches, so we train it from three
# seeds; sections 1 to 4 look at seed 0, and the others come back whenever a
# difference has to be told from seed noise. Two numbers per image cannot
# hold much: we train a 20-dimensional model beside them (for half the
# epochs, which only handicaps it) to see what the two dimensions cost.

# %%
vaes, vae_histories = {}, {}
for seed in seeds:
    vaes[seed], vae_histories[seed] = train_vae(beta=1.0, seed=seed)
    history = vae_histories[seed]
    print(f"2-D,  seed {seed}, {epochs} epochs: test loss {history['test_loss'][-1]:.1f} = reconstruction "
          f"{history['test_reconstruction'][-1]:.1f} + KL {history['test_kl'][-1]:.2f} nats")
model = vaes[0]  # the 2-D VAE of sections 1 to 4
model_20, history_20 = train_vae(beta=1.0, seed=0, latent_dim=20, n_epochs=max(1, epochs // 2))
print(f"20-D, seed 0, {max(1, epochs // 2)} epochs: test loss {history_20['test_loss'][-1]:.1f} = reconstruction "
      f"{history_20['test_reconstruction'][-1]:.1f} + KL {history_20['test_kl'][-1]:.2f} nats")

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
#
# ## 2. The encoder as dimensionality reduction
#
# We encode the test images and plot the mean $\mu_\phi(x)$ of each
# $q_\phi(z|x)$, coloured by the digit's label, for each of the three seeds.
# The labels were never shown to the model.

# %%
mu, log_var = model.encode(x_test)  # each (n_test, 2), seed 0
fig = Figure(figsize=(18, 6), layout="constrained")
for ax, seed in zip(fig.subplots(1, len(seeds)), seeds):
    scatter_codes(ax, vaes[seed].encode(x_test)[0], y_test)
    ax.set_title(f"seed {seed}", fontsize=13)
    ax.set_xlabel("$z_1$", fontsize=12)
    ax.set_ylabel("$z_2$", fontsize=12)
    ax.grid(alpha=0.3)
fig.suptitle(r"Encoder means $\mu_\phi(x)$ of the test images, three initialisations; digits at their class medians",
             fontsize=14)
save(fig, "07_latent_scatter.png")
print("seed 0: posterior standard deviations, median per dimension:",
      np.round(np.median(np.exp(0.5 * log_var), axis=0), 3))
print("seed 0: mean of the test codes:", np.round(mu.mean(axis=0), 2),
      " standard deviation:", np.round(mu.std(axis=0), 2))

# %% [markdown]
# Without ever seeing a label, the encoder has sorted the digits. On seed 0
# (left) the 0s occupy their own region on the left, the 1s a separate band
# on the right, and the remaining classes share the middle, each with a
# centre of its own (2s in a tight knot, 7s and 9s towards the bottom) but
# overlapping where the digits look alike in pixel space (4 with 9, 3 with 5
# and 8). Two numbers are not enough to separate ten classes cleanly. The
# other seeds sort the digits in the same way, the 0s and 1s apart and the
# rest in between, but lay them out differently, turned and mirrored, and
# they disagree on details: on seeds 1 and 2 the 6s move out of the central
# crowd into a region of their own, on seed 0 they stay among the 2s and 3s.
# The axes of a VAE's code mean nothing by themselves, and one seed is one
# draw from a distribution of embeddings.
#
# The cloud spans a few units along each axis, the scale of the prior
# $\mathcal N(0, I)$ that the KL term pulls every $q_\phi(z|x)$ towards,
# though it is neither round nor exactly centred (its mean and spread are
# printed): the pull is gentle, the few nats of KL per image printed in
# section 1. Each point is just the centre of a Gaussian; the printed
# posterior standard deviations say how precisely the encoder places an
# image, far more precisely than the spread of the cloud.
#
# ## 3. The decoder as a map
#
# The other direction: pick a grid of points $z$ and decode each with
# $p_\theta(x|z)$. ``plots.plot_manifold`` uses quantiles of the prior,
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
scatter_codes(axes[1], mu, y_test)
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
# $$z_t = (1 - t)\,\mu_\phi(x_a) + t\,\mu_\phi(x_b), \qquad t \in [0, 1].$$

# %%
index_a = int(np.flatnonzero(y_test == 0)[0])  # the first 0 of the test set
index_b = int(np.flatnonzero(y_test == 1)[0])  # and the first 1
t = np.linspace(0, 1, 10)[:, None]  # (10, 1), broadcasts over the 2 latent dimensions
path_z = (1 - t) * mu[index_a] + t * mu[index_b]  # (10, 2)
path_images = model.decode(path_z)  # (10, 784)

fig = Figure(figsize=(11, 7.2), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[3, 1])
ax = top.subplots()
scatter_codes(ax, mu, y_test, size=10, alpha=0.35)  # fainter, so that the path stands out
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
# $$\text{loss} = -\log p_\theta(x \mid z) + \beta\, D_{KL}\big(q_\phi(z|x)\,\|\,p(z)\big).$$
#
# $\beta = 1$ is the ELBO. A larger $\beta$ makes every nat of information
# stored in $z$ more expensive, so the encoder stores less: lower KL, worse
# reconstructions, posteriors closer to the prior. A smaller $\beta$ does the
# opposite. Beside the three β = 1 models of section 1 we train $\beta = 0.5$
# and $\beta = 4$ from seed 0, for the same number of epochs, and evaluate
# every model on the test set with $\beta = 1$ so that their −ELBO compare.
# The three seeds of β = 1 are the yardstick: a difference between two β
# smaller than the spread between those seeds is not a difference. The last
# column says how far from converged each model still is: how much its test
# loss (with its own β) fell over its last ten epochs. Lecture 8 turns the
# same knob much further, on a 20-dimensional code, until the code
# collapses.

# %%
betas = (0.5, 1.0, 4.0)
beta_models = {(1.0, seed): (vaes[seed], vae_histories[seed]) for seed in seeds}  # trained in section 1
for beta in (0.5, 4.0):
    beta_models[beta, 0] = train_vae(beta, seed=0)
results = {}
for key, (trained, history) in beta_models.items():
    terms = evaluate.elbo_terms(trained, x_test, np.random.default_rng(0))  # the same noise for all
    sd = np.median(np.exp(0.5 * trained.encode(x_test)[1]))  # median posterior standard deviation
    test_loss = history["test_loss"]  # with its own β
    results[key] = {**terms, "sd": sd, "gain": test_loss[-11] - test_loss[-1] if len(test_loss) > 10 else np.nan}
print(" beta  seed   reconstruction     KL   -ELBO (beta = 1)   test loss (its own beta)   median sd   "
      "gain, last 10 epochs")
for beta, seed in sorted(results):
    r = results[beta, seed]
    print(f"{beta:5.1f}  {seed:4d}   {r['reconstruction']:14.1f}  {r['kl']:5.2f}   {r['reconstruction'] + r['kl']:16.1f}"
          f"   {r['reconstruction'] + beta * r['kl']:24.1f}   {r['sd']:9.3f}   {r['gain']:8.2f}")
for term in ("reconstruction", "kl"):
    values = [results[1.0, seed][term] for seed in seeds]
    print(f"beta 1 over {len(seeds)} seeds, {term}: from {min(values):.2f} to {max(values):.2f}, "
          f"a spread of {max(values) - min(values):.2f} nats")

# %%
fig = Figure(figsize=(15, 4.8), layout="constrained")
axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.9]})
codes = {beta: beta_models[beta, 0][0].encode(x_test)[0] for beta in betas}  # (n_test, 2) each, seed 0
limit = 1.05 * max(np.abs(c).max() for c in codes.values())  # one scale for all three, holding every code
for ax, beta in zip(axes[:3], betas):
    scatter_codes(ax, codes[beta], y_test, size=8, alpha=0.5, fontsize=12)  # smaller digits: the medians crowd
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title(rf"$\beta = {beta:g}$: KL {results[beta, 0]['kl']:.1f} nats", fontsize=13)
    ax.set_xlabel("$z_1$", fontsize=12)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("$z_2$", fontsize=12)
axes[3].plot([results[b, 0]["kl"] for b in betas], [results[b, 0]["reconstruction"] for b in betas], "o-",
             color="k", ms=6, label="seed 0")
axes[3].plot([results[1.0, s]["kl"] for s in seeds[1:]], [results[1.0, s]["reconstruction"] for s in seeds[1:]],
             "o", color="k", mfc="none", ms=12, mew=1.5, label=r"$\beta = 1$, other seeds")  # rings: one is on seed 0's
axes[3].legend(fontsize=10)
for beta in betas:
    kl, rec = results[beta, 0]["kl"], results[beta, 0]["reconstruction"]
    axes[3].annotate(rf"$\beta = {beta:g}$", (kl, rec), textcoords="offset points", xytext=(0, 9),
                     ha="center", fontsize=11)
axes[3].set_xlabel("KL = rate (nats)", fontsize=12)
axes[3].set_ylabel(r"reconstruction $-\log p_\theta(x|z)$ = distortion", fontsize=11)
axes[3].set_title("The trade-off", fontsize=13)
axes[3].margins(0.3)
axes[3].grid(alpha=0.3)
save(fig, "07_beta.png")

# %% [markdown]
# Left three panels: the test means for each $\beta$ (seed 0), on the same
# axes, wide enough to hold every code. As $\beta$ grows the cloud contracts
# towards the origin: the encoder is charged more for every nat that
# distinguishes one image from another. The printed median posterior
# standard deviation grows with $\beta$ at the same time: each image is
# placed less precisely, its Gaussian wider and closer to the prior's.
# Right: the trade-off in numbers. Each model is a point in the plane of
# rate (KL, the information stored in $z$) against distortion
# (reconstruction cost): a larger $\beta$ moves left and up, fewer nats
# stored and more lost on reconstruction. The rings are the other two seeds
# of β = 1 (seed 1's lies around seed 0's point, seed 2's above it): how far
# one setting moves when only the seed changes.
#
# Two cautions before drawing lessons from the table. Set the gaps between
# the $\beta$ values against the spread of the three β = 1 seeds (printed).
# And the last column shows the models were still improving when training
# stopped, by two to three nats over the last ten epochs: these are
# 30-epoch models, not converged ones, and a longer run could reorder close
# values, such as the three settings' −ELBOs (all evaluated with β = 1),
# which lie within 1.3 nats of each other. What is robust to both: a larger $\beta$ stores
# fewer nats (from about 7.0 at β = 0.5 to 5.7 at β = 1 and 3.4 at β = 4,
# while the three β = 1 seeds agree to 0.05), and from $\beta = 1$ to 4 the
# reconstruction gets worse by about 3 nats, more than twice the 1.1-nat
# spread of the seeds; from 0.5 to 1 it does not move at all (162.8 both),
# well within that spread: two latent dimensions leave little room to use
# the extra nats. No $\beta$ is "right": $\beta = 1$ optimises the ELBO
# itself, a larger $\beta$ gives a smoother, more prior-like code, a smaller
# one sharper reconstructions when the latent space has room for them.
#
# ## 6. PCA by hand
#
# How impressive is the sorting of section 2? Only as impressive as it is
# next to a linear method. PCA looks for the directions along which the
# images vary most *around their mean*, so the first step is to centre:
# subtract the mean training image $\bar x$ from every image. Write the
# centred training images as the rows of $X_c$ ($N \times D$) and take its
# singular value decomposition
#
# $$X_c = U S V^\top, \qquad S = \mathrm{diag}(s_1 \ge s_2 \ge \dots).$$
#
# The columns of $V$ are orthonormal directions in pixel space, and the
# variance of the data along column $j$ is $s_j^2/(N-1)$: the first two
# columns $V_2$ ($D \times 2$) span the plane of largest variance. An image's
# 2-D code and its reconstruction are
#
# $$c = V_2^\top (x - \bar x), \qquad \hat x = \bar x + V_2\, c,$$
#
# and among all rank-2 linear maps this reconstruction has the smallest
# squared error on the training images (Eckart–Young). Without centring, the
# SVD's first direction would mostly point from the origin (a black image)
# to the mean image, spending a whole dimension on what every digit shares;
# we check that too.

# %%
mean_image = x_train.mean(axis=0, dtype=np.float64)  # (784,)
_, s, v_t = np.linalg.svd(x_train - mean_image, full_matrices=False)  # s (784,), v_t (784, 784)
components = v_t[:2].T  # (784, 2): V_2, the two directions of largest variance
explained = s**2 / np.sum(s**2)
print(f"fraction of the variance along the first two directions: "
      f"{explained[0]:.3f} + {explained[1]:.3f} = {explained[:2].sum():.3f}")
codes_check = (x_train - mean_image) @ components  # (n_train, 2)
print("variance of the codes:", np.round(codes_check.var(axis=0, ddof=1), 3),
      " s_j^2 / (N - 1):", np.round(s[:2] ** 2 / (len(x_train) - 1), 3))

_, _, v_t_raw = np.linalg.svd(x_train.astype(np.float64), full_matrices=False)  # no centring
cosine = abs(v_t_raw[0] @ mean_image) / np.linalg.norm(mean_image)
print(f"without centring: |cosine| between the first direction and the mean image = {cosine:.3f}")


def pca_encode(x):
    """(n, 784) images -> (n, 2) PCA codes."""
    return (x - mean_image) @ components


def pca_decode(codes):
    """(n, 2) codes -> (n, 784) reconstructions; values may leave [0, 1]."""
    return mean_image + codes @ components.T


# %% [markdown]
# Two directions hold the fraction of the pixel variance printed above; the
# rest is spread over many more. The variance of the codes equals
# $s_j^2/(N-1)$, as it should. Without centring, the first direction is
# almost parallel to the mean image (cosine printed): it would encode "how
# much ink, in the average places", not how digits differ.
#
# ## 7. A baseline without the variational part: the deterministic autoencoder
#
# The VAE differs from PCA in two ways at once: its maps are nonlinear
# networks, and it is variational (a noisy code and a KL term). To tell the
# two apart we add a third method that has only the first. Take the VAE's
# two networks and remove everything variational: the encoder outputs the
# 2-D code $c_\phi(x)$ itself (no log-variance head), the decoder maps
# $c_\phi(x)$, not a noisy sample, to logits $f_\theta(c_\phi(x))$, and the
# loss is the Bernoulli NLL of the reconstruction alone (no KL):
#
# $$\text{loss}(x) = -\log p_\theta\big(x \mid z = c_\phi(x)\big), \qquad
#   \frac{\partial\,\text{loss}}{\partial\,\text{logits}} = \text{sigmoid}(\text{logits}) - x .$$
#
# The backward is the decoder's and then the encoder's, as in the VAE without
# the sampler in between. Same hidden layer of 400 ReLU units each way, same
# Adam, learning rate, batch size, number of epochs, grey-level data and
# seeds as the VAE; only the variational part is gone. (A VAE with β = 0 is
# not this model: it still adds noise to the code before decoding.)


# %%
class Autoencoder:
    """x (n, 784) -> code c(x) (n, 2) -> logits (n, 784): the VAE's networks with no sampling and no KL."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.encoder = MLP((784, 400, 2), "relu", rng, np.float32)  # parameters φ
        self.decoder = MLP((2, 400, 784), "relu", rng, np.float32)  # parameters θ

    def parameters(self):
        return {**self.encoder.parameters("encoder"), **self.decoder.parameters("decoder")}

    def encode(self, x):
        return self.encoder.forward(x, keep_cache=False)  # (n, 2)

    def loss_and_gradients(self, x):
        """Mean Bernoulli NLL over the batch, and its gradient for every parameter."""
        logits = self.decoder.forward(self.encoder.forward(x))  # (batch, 784)
        d_logits = bernoulli_nll_backward(1.0 / len(x), x, logits)  # the mean over the batch
        self.encoder.backward(self.decoder.backward(d_logits), need_d_x=False)
        return float(bernoulli_nll(x, logits).mean()), {**self.encoder.gradients("encoder"),
                                                         **self.decoder.gradients("decoder")}


def train_autoencoder(seed, batch_size=100):
    autoencoder = Autoencoder(seed)
    optimizer = Adam(autoencoder.parameters(), lr=1e-3)
    shuffle = np.random.default_rng(seed)
    for _ in range(epochs):
        order = shuffle.permutation(len(x_train))
        for first in range(0, len(x_train), batch_size):
            _, gradients = autoencoder.loss_and_gradients(x_train[order[first : first + batch_size]])
            optimizer.step(gradients)
    return autoencoder


autoencoders = {seed: train_autoencoder(seed) for seed in seeds}
for seed, autoencoder in autoencoders.items():
    test_nll = bernoulli_nll(x_test, autoencoder.decoder.forward(autoencoder.encode(x_test), keep_cache=False)).mean()
    print(f"autoencoder seed {seed}: test reconstruction NLL {test_nll:.1f} nats after {epochs} epochs")

# %% [markdown]
# ## 8. Three embeddings side by side
#
# The VAE's embedding of an image is its posterior mean $\mu_\phi(x)$, the
# autoencoder's its code $c_\phi(x)$, PCA's its two coordinates $c$.

# %%
embeddings = {"PCA-2": (pca_encode(x_train), pca_encode(x_test))}
for seed, vae in vaes.items():
    embeddings[f"VAE-2 seed {seed}"] = (vae.encode(x_train)[0], vae.encode(x_test)[0])  # the means μ
for seed, autoencoder in autoencoders.items():
    embeddings[f"AE-2 seed {seed}"] = (autoencoder.encode(x_train), autoencoder.encode(x_test))  # the codes c(x)

fig = Figure(figsize=(18, 6), layout="constrained")
axes = fig.subplots(1, 3)
for ax, name, title in [(axes[0], f"VAE-2 seed {seeds[0]}", r"VAE: posterior means $\mu_\phi(x)$"),
                        (axes[1], f"AE-2 seed {seeds[0]}", r"deterministic autoencoder: codes $c_\phi(x)$"),
                        (axes[2], "PCA-2", "PCA: projections on the first two directions")]:
    scatter_codes(ax, embeddings[name][1], y_test)
    ax.set_title(title, fontsize=13)
    ax.set_xlabel("first coordinate", fontsize=12)
    ax.set_ylabel("second coordinate", fontsize=12)
    ax.grid(alpha=0.3)
fig.suptitle(f"The same {len(x_test):,} test images in two dimensions; digits at their class medians", fontsize=14)
save(fig, "07_vae_vs_pca.png")

# %% [markdown]
# Left: the VAE's posterior means (seed 0, as in section 2); middle: the
# autoencoder's codes (seed 0); right: PCA's two coordinates. No method saw
# a label. In the PCA plane the 0s and the 1s sit at opposite ends of the
# first direction (a wide ring against a thin stroke: the direction of
# largest variance is, roughly, "how much ink, and where"), the 4s, 7s and
# 9s share one cloud at one end of the second, and 2, 3, 5, 6 and 8 pile up
# in the middle. In the VAE plane the 0s and 1s again have regions of their
# own, the 2s form a tight knot, the 3s and the 7s move apart from the rest,
# but 4 and 9 still overlap and the 5s and 8s sit among their neighbours.
# The autoencoder's plane is sorted in a similar way, with another shape:
# the 1s run out along an arm of their own, the 0s sit apart on the right,
# 7, 9 and 4 share the top, and 2, 3, 5, 6 and 8 crowd a dense knot in the
# middle. Its axes span a wider range than the VAE's: no KL pulls its codes
# towards $\mathcal N(0, I)$. Both networks' pictures look better sorted
# than PCA's; how much better, in numbers, and is the VAE's better than the
# autoencoder's?
#
# ## 9. k nearest neighbours, by hand
#
# A kNN classifier labels a test point by a vote among the labels of the $k$
# training points closest to it. It learns nothing, so its accuracy measures
# only the embedding: whether images of one class land near each other. We
# embed the training images with each method, classify every test image by
# its $k = 5$ nearest training images (Euclidean distance, ties broken
# towards the smaller label), and do the same on the raw 784 pixels. Squared
# distances come from one matrix product,
# $\lVert a - b\rVert^2 = \lVert a\rVert^2 + \lVert b\rVert^2 - 2\,a\cdot b$.
#
# For uncertainty we bootstrap the test set: draw 1,000 test images with
# replacement, recompute every accuracy on the same draw, and repeat; the
# 2.5% and 97.5% quantiles give a 95% interval, and the *paired*
# differences between methods (same draw) give intervals for the
# differences. Chance is 0.1.

# %%
def knn_predict(train_codes, train_labels, test_codes, k, batch_size=250):
    """Majority vote of the k nearest training codes, for each test code: shape (n_test,)."""
    train_codes = np.asarray(train_codes, dtype=np.float64)
    train_sq = np.sum(train_codes**2, axis=1)  # (n_train,)
    predictions = np.empty(len(test_codes), dtype=np.int64)
    for first in range(0, len(test_codes), batch_size):
        block = np.asarray(test_codes[first : first + batch_size], dtype=np.float64)  # (b, dim)
        distances = train_sq - 2 * block @ train_codes.T  # (b, n_train); ‖a‖² is the same along a row
        nearest = np.argpartition(distances, k, axis=1)[:, :k]  # (b, k), in no particular order
        votes = np.zeros((len(block), 10), dtype=np.int64)
        np.add.at(votes, (np.arange(len(block))[:, None], train_labels[nearest]), 1)
        predictions[first : first + batch_size] = np.argmax(votes, axis=1)  # ties: the smaller label
    return predictions


embeddings_all = {"raw pixels (784)": (x_train, x_test), **embeddings}
correct = {name: knn_predict(train_codes, y_train, test_codes, k) == y_test
           for name, (train_codes, test_codes) in embeddings_all.items()}  # each (n_test,) bool
draws = rng.integers(0, len(y_test), size=(n_bootstrap, len(y_test)))  # bootstrap resamples of the test set
boot = {name: hits[draws].mean(axis=1) for name, hits in correct.items()}  # each (n_bootstrap,)


def interval(values):
    return f"[{np.quantile(values, 0.025):.3f}, {np.quantile(values, 0.975):.3f}]"


print(f"{k}-NN test accuracy (95% bootstrap interval over test images)")
for name, hits in correct.items():
    print(f"  {name:18s} {hits.mean():.3f}  {interval(boot[name])}")
vae_names = [f"VAE-2 seed {seed}" for seed in seeds]
ae_names = [f"AE-2 seed {seed}" for seed in seeds]


def over_seeds(values, digits=3):
    """Mean ± standard error over seeds, and the range, of one number per seed."""
    values = np.asarray(values)
    return (f"mean {values.mean():.{digits}f} ± {values.std(ddof=1) / np.sqrt(len(values)):.{digits}f} "
            f"(min {values.min():.{digits}f}, max {values.max():.{digits}f})")


print(f"  over {len(seeds)} seeds, mean ± standard error over seeds:")
for method, names in [("VAE-2", vae_names), ("AE-2", ae_names)]:
    print(f"    {method}: {over_seeds([correct[name].mean() for name in names])}")
print("paired differences on the same test images, 95% bootstrap intervals:")
for vae_name, ae_name in zip(vae_names, ae_names):
    for first, second in [(vae_name, "PCA-2"), (ae_name, "PCA-2"), (vae_name, ae_name), ("raw pixels (784)", vae_name)]:
        print(f"  {first:>16s} minus {second:12s} {correct[first].mean() - correct[second].mean():+.3f}  "
              f"{interval(boot[first] - boot[second])}")
vae_minus_ae = np.array([correct[v].mean() - correct[a].mean() for v, a in zip(vae_names, ae_names)])
print(f"VAE-2 minus AE-2, seed by seed {np.round(vae_minus_ae, 3)}: {over_seeds(vae_minus_ae)}")

# %% [markdown]
# Three levels. With two numbers per image, kNN on the VAE's codes is right
# more often than on PCA's, by 10 to 16 points depending on the seed (the
# paired differences and their 95% intervals are printed, and no interval
# reaches 0). The seeds differ from each other by several points too, as
# their pictures in section 2 differ: one seed alone would have misstated
# the gap. The autoencoder beats PCA by as much, 12 to 14 points. Between
# the two networks there is no consistent difference: seed by seed, the
# VAE's accuracy minus the autoencoder's is −0.042, +0.038 and +0.016
# (printed). Two of those intervals exclude 0, but in opposite directions:
# a pair of seeds can favour either method by about 4 points, and over the
# three seeds the difference is +0.004 ± 0.024. Whatever the variational
# part does to the neighbourhoods, it is smaller than the spread between
# seeds. All the 2-D embeddings lose badly to kNN on
# the raw pixels, by 35 to 40 points against the VAE and 50 against PCA:
# squeezing 784 numbers into 2 throws away class information that a
# neighbour search in pixel space still finds. The networks lose less of it
# than PCA does, but all of them lose most of it.
#
# ## 10. Reconstruction from two numbers
#
# The second measure is the one PCA optimises: how close the reconstruction
# from the code is to the image. For PCA it is $\bar x + V_2 c$; for the VAE
# the decoder's mean at the posterior mean, ``model.reconstruct(x)``; for the
# autoencoder the decoder's output at its code. We report two numbers per
# method, averaged over test images:
#
# * the squared error $\lVert x - \hat x \rVert^2$ per image, which is what
#   PCA minimises and is meaningful for both;
# * the Bernoulli NLL $-\sum_d [x_d \log \hat x_d + (1-x_d)\log(1-\hat x_d)]$
#   with $\hat x$ read as pixel probabilities, which is what the VAE
#   and the autoencoder minimise. It needs $0 < \hat x_d < 1$. The networks'
#   sigmoid guarantees that (we compute their NLL from the logits);
#   PCA's reconstruction leaves $[0, 1]$ (and the mean image is exactly 0 at
#   pixels that are blank in every training image), so we clip each to
#   $[c, 1-c]$ and choose $c$ where the training images' NLL is smallest, a
#   choice that favours them as much as a clipping can. (Lecture 5 explains
#   why this NLL of grey levels is a score rather than a log-probability; it
#   still compares methods on the same images.)
#
# The baseline is the mean training image, a "reconstruction" that ignores
# the code.

# %%
def bernoulli_score(x, x_hat):
    """Per-image Bernoulli NLL of grey levels x given probabilities x_hat in (0, 1): (n,)."""
    x_hat = np.asarray(x_hat, dtype=np.float64)
    return bernoulli_nll(x.astype(np.float64), np.log(x_hat) - np.log1p(-x_hat))  # logits


def clipped_for_bernoulli(name, train_reconstruction, test_reconstruction):
    """Clip to [c, 1 - c], with c chosen from a grid where the training NLL is smallest."""
    clips = 10.0 ** np.arange(-6, -0.5, 0.25)
    train_scores = [bernoulli_score(x_train, np.clip(train_reconstruction, c, 1 - c)).mean() for c in clips]
    best = clips[int(np.argmin(train_scores))]
    print(f"{name}: clip chosen on the training images c = {best:.2g}")
    return np.clip(test_reconstruction, best, 1 - best)


pca_train, pca_test = pca_decode(pca_encode(x_train)), pca_decode(pca_encode(x_test))  # (n, 784) each
print(f"PCA reconstructions: {np.mean((pca_test < 0) | (pca_test > 1)):.3f} of the test pixels outside [0, 1]")
mean_rows = np.broadcast_to(mean_image, x_test.shape)  # (n_test, 784), the same row repeated
reconstructions = {
    "mean image": clipped_for_bernoulli("mean image", np.broadcast_to(mean_image, x_train.shape), mean_rows),
    "PCA-2": clipped_for_bernoulli("PCA-2", pca_train, pca_test),
}
squared_errors = {"PCA-2 (unclipped)": np.sum((x_test - pca_test) ** 2, axis=1)}
scores = {}
for name, x_hat in reconstructions.items():
    squared_errors[name] = np.sum((x_test - x_hat) ** 2, axis=1)  # (n_test,)
    scores[name] = bernoulli_score(x_test, x_hat)  # (n_test,)
# The networks' NLL comes from their logits, as in training: a confident float32 sigmoid rounds to exactly
# 0 or 1 (the autoencoder's do), and log(0) would follow.
decoder_logits = {
    **{f"VAE-2 seed {seed}": vae.decoder.forward(vae.encode(x_test)[0], keep_cache=False)
       for seed, vae in vaes.items()},  # decoded at the posterior mean, as model.reconstruct does
    **{f"AE-2 seed {seed}": autoencoder.decoder.forward(autoencoder.encode(x_test), keep_cache=False)
       for seed, autoencoder in autoencoders.items()},
}  # each (n_test, 784)
for name, logits in decoder_logits.items():
    logits = logits.astype(np.float64)
    squared_errors[name] = np.sum((x_test - sigmoid(logits)) ** 2, axis=1)  # (n_test,)
    scores[name] = bernoulli_nll(x_test.astype(np.float64), logits)  # (n_test,)
print("per test image, mean ± standard error          squared error     Bernoulli NLL (nats)")
for name, errors in squared_errors.items():
    nll = ""
    if name in scores:
        nll = f"{scores[name].mean():8.1f} ± {scores[name].std(ddof=1) / np.sqrt(len(y_test)):.1f}"
    print(f"  {name:26s}  {errors.mean():17.2f} ± {errors.std(ddof=1) / np.sqrt(len(y_test)):.2f}   {nll}")
for name in vae_names + ae_names:
    paired = squared_errors["PCA-2 (unclipped)"] - squared_errors[name]  # (n_test,), same images
    standard_error = paired.std(ddof=1) / np.sqrt(len(paired))
    print(f"  PCA-2 minus {name}, squared error: {paired.mean():.2f} ± {standard_error:.2f}")
for measure, per_image in [("squared error", squared_errors), ("Bernoulli NLL", scores)]:
    for method, names in [("VAE-2", vae_names), ("AE-2", ae_names)]:
        print(f"  {measure}, {method} over {len(seeds)} seeds: {over_seeds([per_image[name].mean() for name in names], 2)}")
    differences = [per_image[v].mean() - per_image[a].mean() for v, a in zip(vae_names, ae_names)]
    print(f"  {measure}, VAE-2 minus AE-2 seed by seed {np.round(differences, 2)}: {over_seeds(differences, 2)}")

# %% [markdown]
# PCA's reconstruction is better than the mean image by the fraction of
# variance its two directions explain (17%, printed in section 6), and on the
# training images no linear map through two numbers does better. Both
# networks reconstruct the test images with a smaller squared error than
# PCA, by 5.4 to 6.3 per image on every seed (the paired differences are
# printed with their standard errors), although squared error is the very
# quantity PCA minimises and neither network looks at. By the Bernoulli NLL,
# the networks' own criterion, they lead by about 20 nats per image
# (printed), even with PCA's clipping chosen in its favour; PCA in turn
# beats the mean image by both measures. Between the VAE and the autoencoder
# the differences are small: the VAE's squared error is higher by
# 0.34 ± 0.24 and its NLL by 1.03 ± 0.72 nats (means over seeds ± standard
# error, printed), with one seed of the three going the other way on both.
# If the noise and the KL cost the VAE anything in reconstruction here, it
# is about a nat per image, next to the 20 both networks gain over PCA, and
# three seeds cannot tell it from zero.
#
# **What the numbers support.** From two numbers per image, a nonlinear
# encoder and decoder keep more of what distinguishes the classes (kNN
# accuracy) and more of the image itself (squared error, NLL) than the best
# linear projection, on every seed we trained. The deterministic
# autoencoder, with the same networks and no variational part, gains as
# much: the gain over PCA comes from the nonlinear networks, not from the
# VAE's noise and KL term, which neither help nor measurably hurt on these
# two measures (three seeds each). What the variational part buys lies
# elsewhere: a prior to sample new images from (lecture 3) and codes kept
# near $\mathcal N(0, I)$, so that the decoder's map over the prior is
# mostly covered by data (sections 3 to 5), which an autoencoder's codes,
# spread over whatever range training left them, do not offer. Neither
# network comes close to what kNN finds in the raw pixels: two dimensions
# are a picture, not a replacement for the data. And PCA costs one SVD, with
# no seed and no training, which is why it is the baseline to beat. The
# comparison holds for two dimensions; with more, the gap has to be measured
# again, and it need not stay this large.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the pieces of the VAE this lecture maps and compares with PCA (PCA
# itself is one SVD, no exercise) yourself, then check them (`numvae
# exercises hint lecture07 NAME` gives a hint at a time, from what to
# differentiate to the formula):
#
# ```bash
# numvae exercises start lecture07 --only dense,reparameterize,kl,bernoulli
# numvae exercises check lecture07
# ```
#
# **Questions.**
#
# 1. Why is the decoder's first map drawn over a grid of the prior's
#    quantiles rather than a uniform grid, and what does it miss that the
#    map over the data's region shows?
# 2. What does a larger β do to the KL, to the reconstructions and to the
#    cloud of codes, and why? How do you know a difference between two β is
#    not seed noise?
# 3. PCA is the best linear projection for squared error. In what sense can a
#    VAE with a 2-D code do better, and what does it pay for that?
# 4. The deterministic autoencoder gains as much over PCA as the VAE. What,
#    then, does the VAE's variational part buy?
# 5. Why are the kNN accuracies compared with bootstrap intervals and over
#    seeds, not as single numbers?
#
# **Numerical questions**, graded by `numvae exercises check lecture07 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `prior_q1`: In a 2-D latent space, what fraction of the prior $\mathcal
#   N(0, I)$ lies within distance 1 of the origin?
# - `pca_q1`: Data with covariance diag(4, 1): what fraction of the variance
#   does 1-D PCA keep?
