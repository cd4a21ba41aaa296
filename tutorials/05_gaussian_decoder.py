# %% [markdown]
# # 5. The Gaussian decoder, and what a likelihood number means
#
# Lecture 03 modelled each pixel as a coin, p(x_d = 1 | z) = sigmoid(l_d). The
# other common choice is a Gaussian around the decoder's output x̂,
# $p_\theta(x \mid z) = \mathcal N(x;\, \hat x(z),\, \sigma^2 I)$ with
# $\theta$ the decoder's parameters. Its negative log is a scaled squared
# error, so a Gaussian VAE is an autoencoder trained with
# the mean squared error plus a KL term, and σ, which looks like a harmless
# noise level, decides how the two are weighed. We derive that, check it
# exactly, train over several σ, let numvae learn σ, and then ask what the
# loss numbers themselves mean: why ≈ 1,000 nats for a Gaussian decoder and
# ≈ 170 for a Bernoulli one say nothing about which model is better, and why
# the Bernoulli "log p(x)" of grey-level pixels is not a log-probability at all.

# %% [markdown]
# ## Setup
#
# The same 4,000 / 1,000 split of mnist5k as in lecture 03. In fast mode
# (``NUMVAE_FAST=1``) a few hundred images and one epoch: every line runs,
# the numbers mean nothing.

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate
from numvae.data import load_dataset
from numvae.training.trainer import TrainConfig, Trainer, evaluation_targets

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(2013)
epochs = 1 if FAST else 20
iw_samples = 10 if FAST else 100
D = 784  # pixels per image

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784), float32 grey levels in [0, 1]
if FAST:
    x_train, x_test = x_train[:300], x_test[:200]


def train(latent_dim, epochs=epochs, binarize="none", **model_args):
    """A VAE with one hidden layer of 400, trained with Adam (η = 1e-3) for ``epochs``."""
    model = numvae.VAE(input_dim=D, hidden_dims=(400,), latent_dim=latent_dim, dtype=np.float32, seed=0,
                       **model_args)
    history = Trainer(model, x_train, x_test, TrainConfig(epochs=epochs, binarize=binarize, seed=0)).fit()
    return model, history


def mean_and_se(values):
    """Mean over test images and its standard error, as a string."""
    return f"{values.mean():8.2f} ± {values.std(ddof=1) / np.sqrt(len(values)):.2f}"


# %% [markdown]
# ## 1. The Gaussian negative log-likelihood is a scaled squared error
#
# For one pixel, $\mathcal N(x_d; \hat x_d, \sigma^2)$ has density
# $\frac{1}{\sqrt{2\pi\sigma^2}} \exp\!\big(-\frac{(x_d - \hat x_d)^2}{2\sigma^2}\big)$.
# The pixels are independent given $z$, so the log-density of the image is
# a sum over its $D = 784$ pixels:
#
# $$-\log p(x \mid z) = \frac{\lVert x - \hat x \rVert^2}{2\sigma^2}
#   + \frac D2 \log 2\pi\sigma^2 .$$
#
# With σ fixed, the second term is a constant: it changes the value of the
# loss but not its gradient, $\partial/\partial \hat x = (\hat x - x)/\sigma^2$.
# What is left is the squared error, $D$ times the MSE, weighted by
# $1/(2\sigma^2)$. We check the formula against numvae's
# ``gaussian_nll`` on one test image and a made-up reconstruction.

# %%
sigma = 0.1
x_one = x_test[:1].astype(np.float64)  # (1, 784)
x_hat = np.clip(x_one + 0.2 * rng.standard_normal(x_one.shape), 0, 1)  # (1, 784), any reconstruction will do
squared_error = np.sum((x_one - x_hat) ** 2)
by_formula = squared_error / (2 * sigma**2) + D / 2 * np.log(2 * np.pi * sigma**2)
by_numvae = numvae.likelihoods.gaussian_nll(x_one, x_hat, np.log(sigma**2))[0]
print(f"squared error {squared_error:.3f}; weight 1/(2σ²) = {1 / (2 * sigma**2):.0f}; "
      f"constant (D/2) log 2πσ² = {D / 2 * np.log(2 * np.pi * sigma**2):.2f} nats")
print(f"-log p(x|z): formula {by_formula:.6f}, numvae {by_numvae:.6f}")

# %% [markdown]
# At σ = 0.1 every unit of squared error costs 50 nats, and the constant is
# −1,084 nats: negative, because a density with σ = 0.1 is larger than 1
# near its mean. Keep that in mind for section 5.
#
# ## 2. σ is an implicit β
#
# Add the KL term and factor out the weight of the squared error:
#
# $$\text{loss}_\sigma = \frac{1}{2\sigma^2}\Big[\lVert x - \hat x\rVert^2 + 2\sigma^2\,
#   D_{KL}(q(z|x)\,\|\,p(z))\Big] + \frac D2 \log 2\pi\sigma^2 .$$
#
# Up to a positive factor and a constant, this is the loss of a decoder with
# unit weight on the squared error (σ² = ½) and a KL weight $\beta = 2\sigma^2$.
# Positive factors and constants do not move the minimum, so a Gaussian VAE
# with σ = 0.1 *is* a β-VAE on the squared error with β = 0.02: it cares
# fifty times more about a unit of squared error than about a nat of KL. A
# small σ means a small β (sharp reconstructions, a lot of information in z);
# a large σ a large β.
#
# This is exact, and we can check it on numvae: two float64 models with the
# same weights (same seed), one with σ = 0.1 and β = 1, one with σ² = ½ and
# β = 0.02, on the same batch and the same noise ε. Every gradient of the
# first should be 50 times the second's. The losses themselves do not differ
# by a constant: the first is 50 times the second *plus* a constant, because
# the positive factor multiplies the second's own constant $\frac D2 \log \pi$
# too. Written out, with $\lVert x - \hat x\rVert^2 = r$,
#
# $$\text{loss}_a = 50\,r + D_{KL} + \tfrac D2\log(2\pi\cdot 0.01), \qquad
#   50\,\text{loss}_b = 50\,r + D_{KL} + 50\cdot\tfrac D2 \log \pi,$$
#
# so $\text{loss}_a - 50\,\text{loss}_b = \frac D2\log(2\pi\cdot 0.01) - 50\cdot\frac D2 \log \pi$
# for every batch, every weight and every ε.

# %%
x_batch = x_train[:100].astype(np.float64)  # (100, 784)
eps = rng.standard_normal((100, 20))  # (100, 20), shared by both models
model_a = numvae.VAE(D, (400,), 20, likelihood="gaussian", sigma=0.1, beta=1.0, seed=0)
model_b = numvae.VAE(D, (400,), 20, likelihood="gaussian", sigma=np.sqrt(0.5), beta=0.02, seed=0)
loss_a, loss_b = model_a.loss(x_batch, eps=eps).loss, model_b.loss(x_batch, eps=eps).loss
grads_a = model_a.backward()
grads_b = model_b.backward()
worst = max(np.max(np.abs(grads_a[name] - 50 * grads_b[name])) / np.max(np.abs(grads_a[name])) for name in grads_a)
print(f"largest |grad_a - 50 grad_b| / max|grad_a| over all parameters: {worst:.1e}")
print(f"loss_a - 50 loss_b = {loss_a - 50 * loss_b:.4f}; "
      f"predicted {D / 2 * np.log(2 * np.pi * 0.01) - 50 * D / 2 * np.log(np.pi):.4f}")

# %% [markdown]
# The gradients agree to round-off, and $\text{loss}_a - 50\,\text{loss}_b$ is
# the predicted constant: the σ = 0.1 model and the "MSE with β = 0.02" model
# take the same steps up to a factor 50 (which Adam, scale-free, even
# removes). A Gaussian VAE with a large σ and a β-VAE with a large β are
# one model under two names.
#
# ## 3. Training over σ
#
# We train three 20-D models with σ = 0.1, 0.3 and 1 (weights 50, 5.6 and
# 0.5 per unit of squared error; β = 0.02, 0.18, 2 in the β-VAE reading),
# each for the same number of epochs, and measure on the test set:
#
# * KL: how many nats of information the code holds;
# * the squared error of the reconstruction from the posterior mean,
#   $\lVert x - \hat x(\mu(x))\rVert^2$ per image, in the units of the pixels;
# * the posterior standard deviation (median over images and dimensions).
#
# The simplest baseline for the squared error is a model whose code holds
# nothing: it can only output the mean training image. Every number comes with
# its standard error over the 1,000 test images (one training seed per σ).

# %%
sigmas = (0.1, 0.3, 1.0)
sweep = {s: train(20, likelihood="gaussian", sigma=s)[0] for s in sigmas}
mean_image = x_train.mean(axis=0)  # (784,)
baseline_se = np.sum((x_test - mean_image) ** 2, axis=1)  # (n_test,)
print(f"baseline, the mean training image: squared error {mean_and_se(baseline_se)} per image")
print("   σ   weight 1/(2σ²)   β = 2σ²     KL (nats)            squared error      posterior sd")
sweep_rows = {}
for s, model in sweep.items():
    mu, log_var = model.encode(x_test)  # (n_test, 20) each
    _, kl = model.per_example_terms(x_test, rng.standard_normal(mu.shape))  # (n_test,)
    squared = np.sum((x_test - model.decode(mu)) ** 2, axis=1)  # (n_test,)
    sweep_rows[s] = (kl, squared)
    print(f"{s:4.1f}   {1 / (2 * s**2):14.1f}   {2 * s**2:7.2f}   {mean_and_se(kl)}   {mean_and_se(squared)}   "
          f"{np.median(np.exp(0.5 * log_var)):12.3f}")

# %%
n_show = 8
order = np.arange(n_show)  # the test set is ordered 0, 1, ..., 9, 0, ...: the digits 0 to 7
sample_z = rng.standard_normal((n_show, 20))  # the same prior draws for every σ


def strip(images):
    """(n, 784) images, clipped to [0, 1] for display, as one (28, 28 n) strip."""
    return np.hstack(np.clip(images, 0, 1).reshape(-1, 28, 28))


fig = Figure(figsize=(14, 5.6), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[2.3, 1])
rows = [("test images", strip(x_test[order]), None)]
rows += [(f"σ = {s:g}", strip(sweep[s].reconstruct(x_test[order])), strip(sweep[s].decode(sample_z))) for s in sigmas]
axes = left.subplots(len(rows), 2)
for (label, reconstructions, samples), (ax_rec, ax_sample) in zip(rows, axes):
    ax_rec.imshow(reconstructions, cmap="gray", vmin=0, vmax=1)
    ax_rec.set_ylabel(label, fontsize=12)
    if samples is not None:
        ax_sample.imshow(samples, cmap="gray", vmin=0, vmax=1)
    for ax in (ax_rec, ax_sample):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(samples is not None or ax is ax_rec)
axes[1, 0].set_title("reconstructions (decoded posterior means)", fontsize=12)
axes[1, 1].set_title("samples from the prior (same z for every σ)", fontsize=12)
ax_kl = right.subplots()
kl_means = [sweep_rows[s][0].mean() for s in sigmas]
se_means = [sweep_rows[s][1].mean() for s in sigmas]
ax_kl.plot(sigmas, kl_means, "o-", color="C0", lw=2, label="KL (nats)")
ax_kl.set_xscale("log")
ax_kl.set_xlabel("decoder σ", fontsize=12)
ax_kl.set_ylabel("KL, nats per image", fontsize=12, color="C0")
ax_se = ax_kl.twinx()
ax_se.plot(sigmas, se_means, "s-", color="C3", lw=2)
ax_se.axhline(baseline_se.mean(), color="C3", ls=":", lw=1.5)
ax_se.text(0.3, baseline_se.mean(), "mean-image baseline", color="C3", va="bottom", fontsize=10)
ax_se.set_ylabel("squared error per image", fontsize=12, color="C3")
ax_kl.set_title("Rate and distortion against σ", fontsize=13)
ax_kl.grid(alpha=0.3)
save(fig, "05_sigma_sweep.png")

# %% [markdown]
# Left, top row: eight test digits. Below them, for each σ, their
# reconstructions (left) and eight decoded prior draws (right; the same
# eight $z$ for every σ). Right: the KL (blue, left axis) and the squared
# error per image (red, right axis; the dotted line is the mean-image
# baseline) against σ.
#
# The table and the right panel show the implicit β at work. From σ = 0.1 to
# σ = 1 the KL falls by more than a factor ten (printed above) and the squared
# error rises, yet stays well below the mean image's: even at β = 2 the code
# keeps a few nats. Between σ = 0.1 and 0.3 the KL almost halves while the
# squared error of the mean reconstruction hardly moves: the nats given up
# there were the *precision* of the codes, the posterior standard deviation
# (last column), which grows with σ. The encoder places each image less
# precisely when precision is cheap to give up.
#
# The pictures show the other side of the trade-off. At σ = 1 the
# reconstructions lose detail (the 0, 1, 6 and 7 survive, the 3 becomes a
# grey blob, the 4 and the 5 fade), but the prior samples are smooth shapes
# without speckle, several of them recognisable digits: the codes fill the
# prior. At σ = 0.1 and 0.3 the reconstructions are sharper (and alike, as
# their squared errors are), but the prior samples are broken strokes buried
# in speckle (pixel values the display clips at 0 and 1): with posterior
# standard deviations of 0.013 and 0.089 (printed) the encoder uses thin
# regions inside the prior, and a draw from $\mathcal N(0, I)$ mostly lands
# where the decoder was hardly trained. Sharp reconstructions and good
# samples pull σ (that is, β) in opposite directions.
#
# ## 4. Learning σ
#
# Instead of choosing σ we can learn it: with ``learn_sigma=True`` numvae
# keeps one ``log_var`` $= \log\sigma_d^2$ per pixel as a parameter of the
# decoder (``"decoder.log_var"``, one more part of $\theta$), with the gradient
# $\partial/\partial \log\sigma_d^2 = \frac12\big(1 - (x_d - \hat x_d)^2/\sigma_d^2\big)$
# summed over the batch. It is zero where $\sigma_d^2$ equals the mean squared
# residual of pixel $d$: for a fixed decoder the best σ is closed form,
#
# $$\hat\sigma_d^2 = \frac1N \sum_{i=1}^N (x_{id} - \hat x_{id})^2 .$$
#
# We start from σ = 0.1 and compare the learned σ with that optimum, computed
# from the training residuals of the trained decoder.

# %%
learned, _ = train(20, likelihood="gaussian", sigma=0.1, learn_sigma=True)
learned_sigma = np.exp(0.5 * learned.likelihood.log_var)  # (784,)
mu_train, _ = learned.encode(x_train)
residual = x_train - learned.decode(mu_train)  # (n_train, 784)
best_sigma = np.sqrt(np.mean(residual.astype(np.float64) ** 2, axis=0))  # (784,)
steps = epochs * int(np.ceil(len(x_train) / 100))
print(f"learned σ:          min {learned_sigma.min():.3f}, median {np.median(learned_sigma):.3f}, "
      f"max {learned_sigma.max():.3f}")
print(f"closed-form best σ: min {best_sigma.min():.2e}, median {np.median(best_sigma):.3f}, "
      f"max {best_sigma.max():.3f}")
print(f"pixels that are 0 in every training image: {np.sum(x_train.max(axis=0) == 0)} of {D}")
print(f"{steps} Adam steps of size about η = 1e-3 move log σ² by at most about {steps * 1e-3:.1f}, "
      f"σ by a factor of at most {np.exp(0.5 * steps * 1e-3):.2f}")
best_nll = numvae.likelihoods.gaussian_nll(x_test.astype(np.float64), learned.reconstruct(x_test),
                                           np.log(best_sigma**2))  # (n_test,)
fixed_nll = numvae.likelihoods.gaussian_nll(x_test.astype(np.float64), learned.reconstruct(x_test),
                                            learned.likelihood.log_var.astype(np.float64))
print(f"test -log p(x | z = mu) with the learned σ {mean_and_se(fixed_nll)}, with the best σ {mean_and_se(best_nll)}")

# %%
fig = Figure(figsize=(9, 4.2), layout="constrained")
axes = fig.subplots(1, 2)
for ax, values, title in [(axes[0], learned_sigma, f"learned σ after {steps} steps"),
                          (axes[1], best_sigma, "closed-form best σ (log scale)")]:
    shown = values if ax is axes[0] else np.log10(values)
    image = ax.imshow(shown.reshape(28, 28), cmap="viridis")
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("σ" if ax is axes[0] else "log10 σ", fontsize=11)
    ax.set_title(title, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])
save(fig, "05_learned_sigma.png")

# %% [markdown]
# Left: the learned σ of every pixel, as an image. Right: the best σ for the
# same decoder, on a log scale. The learned σ has started to follow the
# pattern (smaller near the border, larger in the middle where strokes vary),
# but only a little: Adam moves each parameter by about η per step, so from
# its start at log σ² = log 0.01 it can travel only as far as printed above.
# The closed-form optimum shows where it is heading. In the middle, where
# strokes vary, the best σ is over a tenth (the largest is printed); at the
# border, where many pixels are 0 in every training image (counted above),
# it falls to a few hundredths, set only by how close the decoder's output
# comes to 0 there, and the better the decoder fits those pixels the smaller
# it gets, without limit. Plugging the best σ into the test "−log p" lowers
# it by hundreds of nats (both printed) with the very same reconstructions:
# no digit is drawn any better. A learned σ with no floor can run away on pixels that never vary;
# the usual remedies are a lower bound on σ, one σ shared by all pixels, or
# dequantised data (uniform noise added to each pixel's integer level).
#
# ## 5. Why ≈ 1,000 nats and ≈ 170 nats cannot be compared
#
# The command line trains a 2-D model by default. We train a 2-D model (with
# this lecture's one hidden layer of 400, not the command line's three of 256) with
# each decoder, the Bernoulli one (lecture 03) and the Gaussian one with
# σ = 0.1, with everything else equal (20 epochs, as every model here), and print their test losses and
# importance-weighted bounds on log p(x).

# %%
gaussian_2d, gaussian_history = train(2, likelihood="gaussian", sigma=0.1)
grey_2d, grey_history = train(2)  # Bernoulli, grey-level targets
iw_gaussian = evaluate.importance_weighted_log_likelihood(gaussian_2d, x_test, iw_samples, rng)  # (n_test,)
iw_grey = evaluate.importance_weighted_log_likelihood(grey_2d, x_test, iw_samples, rng)
squared_gaussian = np.sum((x_test - gaussian_2d.reconstruct(x_test)) ** 2, axis=1)
squared_grey = np.sum((x_test - grey_2d.reconstruct(x_test)) ** 2, axis=1)
print(f"Gaussian σ = 0.1: test loss {gaussian_history['test_loss'][-1]:7.1f}, "
      f"-L_{iw_samples} {mean_and_se(-iw_gaussian)} nats, squared error {mean_and_se(squared_gaussian)}")
print(f"Bernoulli       : test loss {grey_history['test_loss'][-1]:7.1f}, "
      f"-L_{iw_samples} {mean_and_se(-iw_grey)} nats, squared error {mean_and_se(squared_grey)}")
print(f"pixels measured in 0..255 instead of 0..1 would shift the Gaussian -log p by D log 255 = "
      f"{D * np.log(255):.0f} nats")

# %% [markdown]
# The Gaussian model's loss is about six times the Bernoulli model's, yet
# their reconstructions differ by a few percent in the one measure both can
# be judged on, the squared error (printed). The two numbers are different kinds of
# object:
#
# * The Bernoulli decoder gives **probabilities** of discrete outcomes. Each
#   is at most 1, so −log p ≥ 0, and the numbers live on a fixed scale.
# * The Gaussian decoder gives a **density** over $[0,1]^{784}$ treated as
#   $\mathbb R^{784}$. A density has units of 1/volume: measure the pixels in
#   0..255 instead of 0..1 and every −log p shifts by $D\log 255$ (printed)
#   with nothing else changed; choose a different σ and the constant
#   $\frac D2 \log 2\pi\sigma^2$ moves the loss by hundreds of nats (section
#   1). The density can also exceed 1, so −log p can be negative, and it can
#   grow without bound as σ → 0 (section 4).
#
# A density and a probability can be compared only after one is turned into
# the other: discretise the Gaussian into the 256 grey levels (integrate it
# over each level's bin), or dequantise the data. Until then the Gaussian
# VAE's loss compares Gaussian VAEs with the same σ on the same data, nothing
# else.
#
# ## 6. Grey levels under a Bernoulli: not a log-probability either
#
# The Bernoulli number has its own problem. The Bernoulli likelihood
# $p^{x}(1-p)^{1-x}$ sums to 1 over $x \in \{0, 1\}$; lecture 03 fed it grey
# levels $x \in [0, 1]$. Over those it is neither a probability nor a
# density: for one pixel its integral over $[0, 1]$ is
# $\int_0^1 p^x (1-p)^{1-x}\,dx = \frac{p - (1-p)}{\log p - \log(1-p)}$, at
# most ½. So the "log p(x)" of a grey image under a Bernoulli decoder is a
# score, not a normalised log-likelihood. We check the integral numerically.

# %%
grey = np.linspace(0, 1, 100_001)  # a fine grid of grey levels for one pixel
for p in (0.5, 0.9, 0.999):
    integrand = p**grey * (1 - p) ** (1 - grey)
    numeric = np.sum((integrand[1:] + integrand[:-1]) / 2) * (grey[1] - grey[0])  # trapezoid rule
    closed = 0.5 if p == 0.5 else (2 * p - 1) / (np.log(p) - np.log(1 - p))
    print(f"p = {p:5.3f}: sum over x in {{0, 1}} = {p + (1 - p):.3f}; "
          f"integral over grey levels = {numeric:.4f} (closed form {closed:.4f})")

# %% [markdown]
# Worse, grey targets set a floor no model can go below. For one pixel with
# grey level $x_d$, the cross-entropy $-[x_d\log p + (1-x_d)\log(1-p)]$ is
# smallest at $p = x_d$, where it equals the binary entropy
# $H(x_d) = -x_d \log x_d - (1-x_d)\log(1-x_d)$. So for every image
#
# $$-\log p(x \mid z) \;\ge\; \sum_{d=1}^{D} H(x_d),$$
#
# whatever the decoder; so $\log \int p(x|z)\,p(z)\,dz$, which $\mathcal L_K$
# bounds from below, cannot exceed $-\sum_d H(x_d)$ either. A pixel that is
# exactly 0 or 1 adds nothing; each grey pixel on a stroke's edge adds up to
# $\log 2 = 0.69$ nats that measure the anti-aliasing of the scanner, not
# the model.
#
# The fix is to give the Bernoulli the binary data it is defined on. Dynamic
# binarization (``TrainConfig(binarize="dynamic")``) draws $b_d \sim
# \mathrm{Bernoulli}(x_d)$ afresh every epoch, and the test set is
# binarized once, with a fixed seed (``numvae.training.trainer.evaluation_targets``).
# Then $\sum_{b \in \{0,1\}^{784}} p(b) = 1$ and $\mathcal L_K$ is a bound on
# a true log-probability. We train that model too and evaluate each model on
# its own kind of targets.

# %%
binary_2d, binary_history = train(2, binarize="dynamic")
x_test_binary = evaluation_targets(x_test, "dynamic", seed=0)  # (n_test, 784) in {0, 1}, as the trainer uses
iw_binary = evaluate.importance_weighted_log_likelihood(binary_2d, x_test_binary, iw_samples, rng)


def binary_entropy(x):
    """H(x) per pixel in nats, with 0 log 0 = 0; same shape as x."""
    x = np.asarray(x, dtype=np.float64)
    inside = (x > 0) & (x < 1)
    safe = np.where(inside, x, 0.5)
    return np.where(inside, -safe * np.log(safe) - (1 - safe) * np.log(1 - safe), 0.0)


floor = binary_entropy(x_test).sum(axis=1)  # (n_test,): Σ_d H(x_d) of each grey test image
print(f"grey targets,   trained on grey levels     : -L_{iw_samples} {mean_and_se(-iw_grey)} nats")
print(f"binary targets, trained with dynamic binar.: -L_{iw_samples} {mean_and_se(-iw_binary)} nats")
print(f"floor Σ_d H(x_d) of the grey test images   :  {mean_and_se(floor)} nats "
      f"(min {floor.min():.1f}, max {floor.max():.1f})")
print(f"grey -L_{iw_samples} minus the floor            : {mean_and_se(-iw_grey - floor)} nats")
print(f"images whose grey -L_{iw_samples} is below their floor: {np.sum(-iw_grey < floor)}")
print(f"fraction of grey test pixels strictly between 0 and 1: {np.mean((x_test > 0) & (x_test < 1)):.3f}")

# %% [markdown]
# Both numbers, side by side, with their standard errors over test images.
# They come out close, and that is no coincidence: for a fixed decoder
# output $p$, the grey cross-entropy is exactly the *expected* Bernoulli
# NLL of a random binarization, $\mathbb E_{b \sim \mathrm{Bernoulli}(x)}
# [-\log p(b)] = -\sum_d [x_d \log p_d + (1-x_d)\log(1-p_d)]$, because the
# log-likelihood is linear in $b$. But only the binary one is a
# log-probability, of one particular binary image, that sums to one over all
# images and can be compared with other models of the same binary data.
#
# The floor (printed, with its smallest and largest value over images) is
# more than a quarter of the grey number, and no image went below its own
# floor: only what is left above it (printed too) can be blamed on the model.
# About one test pixel in five is a grey level; those pixels pay that
# toll whatever the model does. With binary targets the same entropy
# reappears, but now honestly: it is the randomness of the binarization,
# part of the data the model describes. A model of grey-level images that
# gives true log-likelihoods needs a distribution over grey levels: a
# Gaussian or logistic discretised over the 256 levels, or a categorical
# over them.
#
# **Summary.** A Gaussian decoder with fixed σ is the squared error with a
# KL weight of 2σ²; σ trades sharp reconstructions against samples that fill
# the prior. Its loss is a density, so its value depends on σ and on the
# units of the pixels. A Bernoulli decoder on grey levels gives neither a
# probability nor a density, and it carries a floor (46.3 nats per test
# image here) that measures the grey edges of the strokes; dynamic
# binarization makes it a probability again.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the Gaussian likelihood of this lecture yourself, then check it
# (`numvae exercises hint lecture05 NAME` gives a hint at a time, from what to
# differentiate to the formula):
#
# ```bash
# numvae exercises start lecture05 --only gaussian_nll
# numvae exercises check lecture05
# ```
#
# **Questions.**
#
# 1. Why can the test loss of a Gaussian decoder not be compared with that of a
#    Bernoulli decoder?
# 2. With σ learned per pixel, what happens to a pixel that is constant in the
#    data?
#
# **Numerical questions**, graded by `numvae exercises check lecture05 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `gaussian_q1`: $-\log \mathcal N(x; \hat x, \sigma^2)$ for one pixel with
#   $x - \hat x = 0.1$ and σ = 0.1, in nats.
# - `gaussian_q2`: The implicit β of a Gaussian decoder with σ = 0.1, β = 2σ².
