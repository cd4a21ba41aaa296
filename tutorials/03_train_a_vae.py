# %% [markdown]
# # 3. Training a VAE to generate digits
#
# The pieces of the first lectures (layers with hand-written backward
# passes, the reparameterized sample, the KL term) make up ``numvae.VAE``. Here
# we train one on 4,000 MNIST digits: first with a training loop written out in
# full, then with ``numvae.training.Trainer``, which runs the same three lines per
# step. We then look at what it learned (reconstructions, samples from the
# prior) and measure it: the test ELBO, and the tighter importance-weighted
# bound of Burda, Grosse & Salakhutdinov (arXiv:1509.00519) that lecture 01
# derived.

# %% [markdown]
# ## Setup
#
# ``load_dataset("mnist5k")`` reads the 5,000 MNIST digits that ship inside
# numvae (no download), split 4,000 / 1,000, as grey levels in
# $[0, 1]$ flattened to 784 values. In fast mode (``NUMVAE_FAST=1``) we keep a
# few hundred images and train for one epoch: the figures are then only
# placeholders, but every line runs.

# %%
import time

import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import evaluate, plots
from numvae.data import load_dataset
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, FIGURES_DIR, save, show

rng = np.random.default_rng(1509)
hand_epochs = 1 if FAST else 5
trainer_epochs = 1 if FAST else 30
batch_size = 100

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784), float32 in [0, 1]
if FAST:
    x_train, x_test = x_train[:300], x_test[:200]
print(data)
print("training on", x_train.shape, "testing on", x_test.shape)

# %% [markdown]
# ## 1. The model
#
# An MLP encoder maps each image to $[\mu \mid \text{log\_var}]$, 2 × 20
# numbers; the sampler draws $z = \mu + \sigma\varepsilon$; an MLP decoder maps
# $z$ back to 784 logits, one Bernoulli probability per pixel. With $\phi$ the
# encoder's weights and biases and $\theta$ the decoder's, the loss of an
# example is the negative ELBO, $-\mathcal L(\theta, \phi; x)$,
#
# $$\text{loss} = \underbrace{-\log p_\theta(x \mid z)}_{\text{reconstruction}}
#               + \underbrace{D_{KL}(q_\phi(z \mid x)\,\|\,p(z))}_{\text{KL}},$$
#
# averaged over the batch, in nats. We train in float32: the gradients were
# checked in float64 in lecture 00, and float32 halves the memory traffic.

# %%
model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=20, dtype=np.float32, seed=0)
for name, p in model.parameters().items():
    print(f"{name:14s} {str(p.shape):12s} {p.dtype}")
print(f"{sum(p.size for p in model.parameters().values()):,} parameters")

# %% [markdown]
# ## 2. One training step, taken apart
#
# Every step is three calls. ``model.loss(x)`` runs the forward pass, draws
# fresh noise ``eps`` from the model's own Generator and caches what the
# backward pass needs. ``model.backward()`` returns a dict of gradients with
# the same keys and shapes as ``model.parameters()``. The optimizer updates
# the parameters in place.

# %%
optimizer = numvae.Adam(model.parameters(), lr=1e-3)
x_batch = x_train[:batch_size]  # (batch, 784)
terms = model.loss(x_batch)
print(terms)
grads = model.backward()
print({name: g.shape for name, g in list(grads.items())[:2]}, "...")
optimizer.step(grads)
print("after one step:", model.loss(x_batch))

# %% [markdown]
# Before training, the reconstruction term is about 640 nats, *worse* than
# the $784 \log 2 \approx 543$ nats of a decoder that says "probability one
# half" for every pixel: the random initial decoder is confidently wrong. The
# KL is small, because an untrained encoder outputs $\mu$ and log_var near
# 0, i.e. nearly the prior. One step already lowers the loss on this batch.
#
# ### The optimizer: Adam, and why it divides by $1 - \rho_1^t$
#
# ``numvae.Adam`` (Kingma & Ba, arXiv:1412.6980, Algorithm 1) keeps two running
# averages per parameter $\omega$ (any array of $\theta$ or $\phi$; the paper
# writes $\theta$), of the gradient $g$ and of its square, with decay
# rates $\rho_1 = 0.9$ and $\rho_2 = 0.999$ (the code's ``betas``, as in
# PyTorch; the paper calls them $\beta_1, \beta_2$, but in this course $\beta$
# is the KL weight):
#
# $$\begin{aligned}
#   &m \leftarrow \rho_1 m + (1 - \rho_1)\, g, \qquad v \leftarrow \rho_2 v + (1 - \rho_2)\, g^2,
#   \qquad \omega \leftarrow \omega - \eta\, \frac{\hat m}{\sqrt{\hat v} + \delta}, \\
#   &\hat m = \frac{m}{1 - \rho_1^t}, \quad \hat v = \frac{v}{1 - \rho_2^t}.
# \end{aligned}$$
#
# Both averages start at 0. Unrolled, $m_t = (1 - \rho_1)\sum_{i=1}^t \rho_1^{t-i} g_i$,
# and if the gradients share a mean $\bar g$,
# $\mathbb E[m_t] = \bar g\,(1 - \rho_1)\sum_{i=0}^{t-1}\rho_1^i = \bar g\,(1 - \rho_1^t)$:
# at $t = 1$, $m$ is only a tenth of the gradient. Dividing by $1 - \rho_1^t$
# removes exactly that shrinkage, and likewise $1 - \rho_2^t$ for $v$, which
# with $\rho_2 = 0.999$ matters for the first thousand or so steps. With both
# corrections, the very first step has $\hat m / \sqrt{\hat v} = g/|g|$: every
# parameter moves by almost exactly $\eta$, whatever the size of its gradient.
#
# The code never forms $\hat m, \hat v$: it folds the corrections into a step
# size ``lr_t`` $= \eta\sqrt{1 - \rho_2^t}/(1 - \rho_1^t)$ and a constant
# ``eps_t`` $= \delta\sqrt{1 - \rho_2^t}$ (multiply the numerator and the
# denominator of the update by $\sqrt{1 - \rho_2^t}$), which is the same update
# exactly, not an approximation. Both claims, measured: the first step of a
# fresh optimizer, and 200 steps of ``numvae.Adam`` against Algorithm 1
# written out literally, on the same random gradients in float64.

# %%
check_rng = np.random.default_rng(1412)
theta_numvae = check_rng.standard_normal(1000)
theta_literal = theta_numvae.copy()
adam = numvae.Adam({"theta": theta_numvae}, lr=1e-3)
m, v = np.zeros(1000), np.zeros(1000)
rho1, rho2, delta, lr = 0.9, 0.999, 1e-8, 1e-3
for t in range(1, 201):
    g = check_rng.standard_normal(1000) * np.logspace(-6, 2, 1000)  # gradients of very different sizes
    before = theta_numvae.copy()
    adam.step({"theta": g})
    if t == 1:
        first_step = np.abs(theta_numvae - before) / lr
        print(f"first step |change| / lr: from {first_step.min():.6f} to {first_step.max():.6f} "
              f"(gradients from {np.abs(g).min():.0e} to {np.abs(g).max():.0e})")
    m = rho1 * m + (1 - rho1) * g
    v = rho2 * v + (1 - rho2) * g**2
    m_hat, v_hat = m / (1 - rho1**t), v / (1 - rho2**t)
    theta_literal -= lr * m_hat / (np.sqrt(v_hat) + delta)
print(f"after 200 steps, max |numvae.Adam - Algorithm 1| = {np.max(np.abs(theta_numvae - theta_literal)):.1e} "
      "(parameters of size ~1)")

# %% [markdown]
# The first step moves almost every parameter by $\eta$, over gradients
# spanning ten orders of magnitude; only the smallest gradients, comparable
# with $\delta = 10^{-8}$, move less (the printed minimum): $\delta$ is what
# keeps the step finite where $g$ is 0. After 200 steps the folded code and
# the literal algorithm agree to round-off.
#
# ## 3. The training loop, by hand
#
# An epoch shuffles the training set (with our ``rng``) and walks through it
# in minibatches. We record the loss terms of every step.

# %%
step_history = {"loss": [], "reconstruction": [], "kl": []}
start = time.perf_counter()
for epoch in range(hand_epochs):
    order = rng.permutation(len(x_train))
    for first in range(0, len(x_train), batch_size):
        terms = model.loss(x_train[order[first : first + batch_size]])  # forward, caches
        optimizer.step(model.backward())  # backward, then update in place
        for key, value in terms._asdict().items():
            step_history[key].append(value)
    test = evaluate.elbo_terms(model, x_test, np.random.default_rng(0))
    print(f"epoch {epoch + 1}: last train loss {terms.loss:6.1f}, "
          f"test loss {test['loss']:6.1f} (reconstruction {test['reconstruction']:6.1f}, KL {test['kl']:5.1f})")
print(f"{hand_epochs} epochs in {time.perf_counter() - start:.1f} s")

# %%
fig = Figure(figsize=(13, 4), layout="constrained")
axes = fig.subplots(1, 3, sharex=True)
steps_per_epoch = int(np.ceil(len(x_train) / batch_size))
epochs_axis = (np.arange(len(step_history["loss"])) + 1) / steps_per_epoch
for ax, (key, title) in zip(axes, [("loss", "loss (−ELBO)"), ("reconstruction", r"reconstruction $-\log p(x|z)$"),
                                   ("kl", r"KL$(q(z|x)\,\|\,p(z))$")]):
    ax.plot(epochs_axis, step_history[key], color="C0", lw=1)
    ax.set_title(title, fontsize=13)
    ax.set_xlabel("epoch", fontsize=12)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("nats per example (one batch)", fontsize=12)
axes[0].set_ylim(top=min(300.0, max(step_history["loss"])))  # the first steps would squash the rest
save(fig, "03_hand_loop.png")

# %% [markdown]
# Each point is one minibatch. The loss falls fast in the first epoch and then
# slowly. The two terms move in opposite directions: the reconstruction term
# falls as the decoder learns to draw digits, while the KL *rises* from near
# 0 (after a brief spike in the first few dozen steps, while the encoder's
# outputs are still badly scaled), because the encoder must move $q(z|x)$
# away from the prior to say anything about $x$. Every nat of KL is a nat of information about the image
# stored in $z$, and it is paid for by a larger drop in reconstruction cost.
#
# ## 4. The same, with ``Trainer``
#
# ``numvae.training.Trainer`` runs exactly these three lines per step, plus what
# a real run needs: shuffling with its own Generator, the test loss after every
# epoch (with the same noise every epoch, so epochs compare), a clear error if
# the loss stops being finite, checkpoints. We train a fresh model with the
# same seed for longer.

# %%
model = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=20, dtype=np.float32, seed=0)
trainer = Trainer(model, x_train, x_test, TrainConfig(epochs=trainer_epochs, batch_size=batch_size, lr=1e-3, binarize="none", seed=0))
start = time.perf_counter()
history = trainer.fit()
print(f"{trainer_epochs} epochs in {time.perf_counter() - start:.1f} s")
for epoch in sorted({1, min(hand_epochs, trainer_epochs), trainer_epochs}):
    i = epoch - 1
    print(f"epoch {epoch:2d}: train loss {history['train_loss'][i]:6.1f}, test loss {history['test_loss'][i]:6.1f} "
          f"= reconstruction {history['test_reconstruction'][i]:6.1f} + KL {history['test_kl'][i]:5.1f}")
show(plots.plot_loss_curves(history, FIGURES_DIR / "03_loss_curves.png"))

# %% [markdown]
# After as many epochs as the hand-written loop, the Trainer reaches about the
# same test loss: the two differ only in the order of the minibatches. The
# three panels show the whole run, train (solid) and test (dashed), per
# epoch. The loss keeps falling but flattens; the KL settles around 25 nats.
# The test loss starts *below* the training loss because the training value
# is an average over an epoch in which the model was still improving, and the
# curves cross after about eight epochs: with 4,000 images the model
# begins to fit its training set more closely than new digits. A gap of a
# few nats is harmless; a test loss that turns upward is the sign to stop.
#
# ## 5. Reconstructions
#
# ``model.reconstruct(x)`` encodes each image, takes the mean $\mu$ (no
# sampling) and decodes it to pixel probabilities.

# %%
show(plots.plot_reconstructions(x_test[:10], model.reconstruct(x_test[:10]),
                                FIGURES_DIR / "03_reconstructions.png"))

# %% [markdown]
# Top row: ten test digits the model never trained on; bottom row: their
# reconstructions. The identity of each digit survives the 20-number
# bottleneck, and so do its slant and thickness, but the reconstructions are
# smoother and blurrier than the originals, and the unusual ones (the open 4,
# the loopy 3) come back smudged: thin strokes and odd serifs are
# exactly the details that would cost many nats of KL to store.
#
# ## 6. Generation: samples from the prior
#
# A generative model can make new data. Draw $z \sim \mathcal N(0, I)$ and
# decode it. We show the decoder's *mean*, the pixel probabilities; a Bernoulli
# draw from them would add salt-and-pepper noise without adding information.

# %%
samples = model.sample(64, rng=rng)  # (64, 784)
show(plots.plot_image_grid(samples, FIGURES_DIR / "03_samples.png", title="64 samples from the prior"))

# %% [markdown]
# Many samples are recognisable digits in a variety of styles (0s, 3s, 6s,
# 9s), but many others are ambiguous blends or broken strokes, between a 4
# and a 9, or a 3 and an 8. The
# prior puts mass everywhere in the 20-dimensional latent space, including
# between the regions the encoder uses for each digit, and a VAE trained on
# 4,000 images for a minute has not learned to fill those gaps.
#
# ## 7. How good is the model? The ELBO and tighter bounds
#
# The ELBO is a lower bound on $\log p(x)$. The gap is exactly how far the
# encoder's Gaussian is from the true posterior:
#
# $$\log p_\theta(x) = \mathcal L(\theta, \phi; x) + D_{KL}\big(q_\phi(z|x)\,\|\,p_\theta(z|x)\big).$$
#
# The importance-weighted bound averages $K$ weights
# $w_k = p_\theta(x|z_k)\,p(z_k)/q_\phi(z_k|x)$, $z_k \sim q_\phi(z|x)$, inside the log:
#
# $$\mathcal L_K = \log \frac1K \sum_{k=1}^K w_k,\qquad
#   \mathbb E[\mathcal L_1] = \mathrm{ELBO} \le \mathbb E[\mathcal L_{10}]
#   \le \mathbb E[\mathcal L_{100}] \le \dots \le \log p(x).$$
#
# Every $\mathbb E[\mathcal L_K]$ is a lower bound, for any encoder. That it
# also *tends* to $\log p(x)$ as $K \to \infty$ needs a condition on the
# weights: Burda et al.'s theorem 1 assumes they are bounded, and lecture 01
# (section 7) shows, on a model where $\log p(x)$ is exact, a diagonal $q$
# whose weights are unbounded but have finite variance, for which the
# distance left still shrinks like $\chi^2/2K$. For a trained VAE neither
# condition is checked, so the numbers below are lower bounds that rise with
# $K$, with an unknown distance still to go.
#
# ``evaluate.importance_weighted_log_likelihood`` returns $\mathcal L_K$ for
# each test image. We compute it for $K = 1, 10, 100$ next to the ELBO.

# %%
elbo = -evaluate.elbo_terms(model, x_test, rng)["loss"]
iw = {k: evaluate.importance_weighted_log_likelihood(model, x_test, k, rng) for k in (1, 10, 100)}  # each (n_test,)
print(f"test ELBO                : {elbo:8.2f} nats")
for k, values in iw.items():
    gain = values - iw[1]  # per-image improvement over one sample
    print(f"test L_K, K = {k:3d}        : {values.mean():8.2f} nats   "
          f"(L_K - L_1 = {gain.mean():5.2f} +- {gain.std() / np.sqrt(len(gain)):.2f})")

# Per image, one set of 100 log-weights gives both a low-noise ELBO (their mean)
# and L_100 (their log-mean-exp), so their difference is free of sampling noise.
gap = np.empty(len(x_test))
for first in range(0, len(x_test), 100):  # 100 images x 100 samples at a time keeps memory small
    log_w = evaluate.log_importance_weights(model, x_test[first : first + 100], 100, rng)  # (100 samples, batch)
    gap[first : first + 100] = evaluate.log_mean_exp(log_w, axis=0) - log_w.mean(axis=0)
print(f"L_100 - ELBO per image, same samples: mean {gap.mean():.2f}, median {np.median(gap):.2f}, "
      f"min {gap.min():.2f}, max {gap.max():.1f} nats")

# %%
fig = Figure(figsize=(11, 4.4), layout="constrained")
axes = fig.subplots(1, 2)
ks = np.array(list(iw))
means = np.array([iw[k].mean() for k in ks])
axes[0].plot(ks, means, "o-", color="C0", lw=2, label=r"$\mathcal{L}_K$ (test mean)")
axes[0].axhline(elbo, color="C1", ls="--", label="ELBO (test mean)")
axes[0].set_xscale("log")
axes[0].set_xlabel("K, importance samples per image", fontsize=12)
axes[0].set_ylabel("nats per image", fontsize=12)
axes[0].set_title("Tighter bounds on log p(x)", fontsize=13)
axes[0].legend(fontsize=10)
axes[0].grid(alpha=0.3)
axes[1].hist(gap, bins=40, color="C0", alpha=0.7)
axes[1].axvline(gap.mean(), color="k", lw=1.5, label=f"mean {gap.mean():.1f} nats")
axes[1].set_xlabel(r"$\mathcal{L}_{100}$ − ELBO per test image (nats)", fontsize=12)
axes[1].set_ylabel("images", fontsize=12)
axes[1].set_title("Where the gap lives", fontsize=13)
axes[1].legend(fontsize=10)
axes[1].grid(alpha=0.3)
save(fig, "03_iw_bound.png")

# %% [markdown]
# Left: $\mathcal L_1$ agrees with the ELBO (both are one-sample estimates of
# the same expectation), and the bound rises with $K$, by a few nats from 1 to
# 10 and by less from 10 to 100: it approaches $\log p(x)$ from below
# (how fast, and whether it gets there, depends on the weights: lecture 01).
# Right: per image, $\mathcal L_{100}$ minus the ELBO estimated from the
# same 100 samples. It can never be negative (the log of a mean is at least
# the mean of the logs: Jensen's inequality), and it varies a lot: between 2
# and 10 nats for most digits, over 20 for a few. The gap between the ELBO and
# $\mathcal L_{100}$ is a *lower bound* on the average
# $D_{KL}(q(z|x)\,\|\,p(z|x))$: at least that many nats per image are lost
# because a diagonal Gaussian, predicted by one
# encoder for all images, is not the true posterior. Training with a
# tighter bound (an IWAE) or a richer $q$ would aim at exactly that gap.
#
# A caution about the absolute numbers: the targets are grey levels, not
# bits, and a Bernoulli "likelihood" of grey levels is not a normalized
# density over images. The values compare models trained and tested on the
# same data, but are not comparable with the ≈ −85 nats reported for
# *binarized* MNIST in the literature. Lecture 05 computes the floor that grey
# targets put under every such loss, and trains on dynamically binarized
# images (as ``numvae train`` does by default), where the number is a true
# log-probability.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the optimizer, the likelihood and the backward wiring this lecture
# trains with yourself, then check it (`numvae exercises hint lecture03 NAME` gives
# a hint at a time, from what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture03 --only adam,bernoulli,vae_backward
# numvae exercises check lecture03
# ```
#
# **Questions.**
#
# 1. Without bias correction, Adam's first steps are too large or too small? By
#    which factor at t = 1 with ρ₁ = 0.9, ρ₂ = 0.999?
# 2. mu reaches the loss along two paths. Name them, and say what the chain
#    rule does with the two gradients.
#
# **Numerical questions**, graded by `numvae exercises check lecture03 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `adam_q1`: Adam's first step with lr = 1e-3, gradient g = 0.02 and δ =
#   1e-8: its size?
# - `adam_q2`: The same first step without bias correction, in units of lr?
