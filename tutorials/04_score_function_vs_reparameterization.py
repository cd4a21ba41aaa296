# %% [markdown]
# # 4. Two gradients of an expectation: score function against reparameterization
#
# Training a VAE needs the gradient of an expectation,
# $\nabla_\phi\, \mathbb E_{q_\phi(z)}[f(z)]$, where $q_\phi$ is the
# encoder's Gaussian and $f(z) = -\log p_\theta(x \mid z)$ the decoder's
# reconstruction cost. Lecture 02 used the reparameterization trick. The
# older, more general answer is the *score function* estimator (REINFORCE,
# Williams 1992), which needs no derivative of $f$ at all. Both are unbiased;
# this lecture derives both, checks that they are unbiased where the check has
# the power to see a bias, and measures what separates them: their variance. First on a toy with a known gradient, then
# on the encoder outputs of a trained VAE, on real digits.
#
# References: Kingma & Welling (arXiv:1312.6114), section 2.4; Mohamed,
# Rosca, Figurnov & Mnih, "Monte Carlo Gradient Estimation in Machine
# Learning" (arXiv:1906.10652), sections 4 and 5.

# %% [markdown]
# ## Setup

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import gaussian
from numvae.data import load_dataset
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1992)

# %% [markdown]
# ## 1. Two ways to move a gradient inside an expectation
#
# Let $q_\phi(z) = \mathcal N(z;\ \mu, \sigma^2)$ with
# $\phi = (\mu, \text{log\_var})$ and $\sigma = e^{\frac12 \text{log\_var}}$: the
# encoder's parameters $\phi$, cut down to its two outputs (in a VAE the chain
# rule carries the gradient from $\mu$ and log_var on to its weights).
#
# **Reparameterization.** Substitute $z = \mu + \sigma\varepsilon$: since
# $dz = \sigma\, d\varepsilon$ and
# $\mathcal N(\mu + \sigma\varepsilon;\ \mu, \sigma^2)\,\sigma = \mathcal N(\varepsilon;\ 0, 1)$,
#
# $$\mathbb E_{q_\phi}[f(z)] = \int f(z)\, \mathcal N(z;\ \mu, \sigma^2)\, dz
#   = \int f(\mu + \sigma\varepsilon)\, \mathcal N(\varepsilon;\ 0, 1)\, d\varepsilon .$$
#
# Now the density no longer depends on $\phi$, so the gradient passes
# through it onto $f$ (for an $f$ smooth enough to swap $\nabla$ and $\int$:
# lecture 02 states the condition, and shows a step function failing it),
# and the chain rule does the rest:
#
# $$\nabla_\phi\, \mathbb E_{q_\phi}[f(z)]
#   = \mathbb E_\varepsilon\big[\nabla_\phi f(\mu + \sigma\varepsilon)\big]
#   = \mathbb E_\varepsilon\!\Big[f'(z)\,\frac{\partial z}{\partial\phi}\Big],
#   \qquad \frac{\partial z}{\partial \mu} = 1, \quad
#   \frac{\partial z}{\partial\, \text{log\_var}} = \tfrac12 \sigma\varepsilon .$$
#
# One sample gives the estimate $\big(f'(z),\ f'(z)\,\tfrac12\sigma\varepsilon\big)$:
# exactly what ``gaussian.reparameterize_backward`` computes from the
# decoder's $\bar z = f'(z)$.
#
# **Score function.** Differentiate the density instead, and use
# $\nabla_\phi q_\phi = q_\phi\, \nabla_\phi \log q_\phi$:
#
# $$\nabla_\phi \int f(z)\, q_\phi(z)\, dz = \int f(z)\, \nabla_\phi q_\phi(z)\, dz
#   = \mathbb E_{q_\phi}\big[f(z)\, \nabla_\phi \log q_\phi(z)\big].$$
#
# For the Gaussian, $\log q_\phi(z) = -\tfrac12\big(\log 2\pi + \text{log\_var} + (z - \mu)^2/\sigma^2\big)$, so
#
# $$\frac{\partial \log q}{\partial \mu} = \frac{z - \mu}{\sigma^2} = \frac{\varepsilon}{\sigma}, \qquad
#   \frac{\partial \log q}{\partial\, \text{log\_var}} = \tfrac12\Big(\frac{(z - \mu)^2}{\sigma^2} - 1\Big)
#   = \tfrac12(\varepsilon^2 - 1).$$
#
# It needs only *values* of $f$: it works for a discrete $z$ or a
# non-differentiable $f$. The price is that it ignores what $f'$ knows.
#
# **A baseline.** The score has mean zero,
# $\mathbb E_q[\nabla_\phi \log q_\phi] = \nabla_\phi \int q_\phi = \nabla_\phi 1 = 0$,
# so any constant $c$ (anything that does not depend on the draw $z$) can be
# subtracted from $f$ without changing the expectation:
# $\mathbb E_q[(f(z) - c)\, \nabla_\phi \log q_\phi(z)]$ is still the gradient.
# A $c$ near the typical value of $f$ removes the part of the noise that
# comes from $f$'s offset. It is the simplest variance reduction there is,
# and we measure it beside the other two.
#
# **The best constant.** Which $c$ is best? Write $s = \partial \log q_\phi/\partial\phi_i$
# for one coordinate of the score. The estimate $(f - c)\,s$ has the same
# mean for every $c$, so minimising its variance is minimising its second
# moment $\mathbb E[(f - c)^2 s^2]$; setting the derivative in $c$ to zero,
# $-2\,\mathbb E[(f - c)\, s^2] = 0$, gives
#
# $$c^* = \frac{\mathbb E[f\, s^2]}{\mathbb E[s^2]},$$
#
# the mean of $f$ *weighted by* $s^2$, i.e. by the draws where the score is
# large, one $c^*$ per coordinate. It is not the plain mean of $f$ unless $f$
# and $s^2$ are uncorrelated. We estimate it, like the plain mean, from
# independent pilot draws, and measure it as a fourth estimator.

# %%
def reparameterization_estimates(d_f, eps, std):
    """One gradient estimate per draw: (d/dmu, d/dlog_var) = (f'(z), f'(z) sigma eps / 2)."""
    return gaussian.reparameterize_backward(d_f, eps, std)


def score_function_estimates(f, eps, std, baseline=(0.0, 0.0)):
    """One gradient estimate per draw: (f(z) - c) times the score (eps / sigma, (eps^2 - 1) / 2).

    ``baseline`` is (c for d/dmu, c for d/dlog_var): a constant per coordinate, not a function of the draw.
    """
    c_mu, c_log_var = baseline
    return (f - c_mu) * eps / std, (f - c_log_var) * 0.5 * (eps * eps - 1)


def optimal_baseline(f, eps):
    """c* = E[f s^2] / E[s^2] for each coordinate, from pilot draws: (c for d/dmu, c for d/dlog_var).

    f has shape (S, ...) and eps (S, ...); the score's 1/sigma cancels in the ratio.
    """
    weight_mu, weight_log_var = eps**2, (0.5 * (eps**2 - 1)) ** 2  # s^2, up to a constant factor
    return ((f * weight_mu).sum(axis=0) / weight_mu.sum(axis=0),
            (f * weight_log_var).sum(axis=0) / weight_log_var.sum(axis=0))


# %% [markdown]
# ## 2. A toy with a known answer
#
# Take $f(z) = z^2$, as in lecture 02: $\mathbb E_q[z^2] = \mu^2 + \sigma^2$, so
# the exact gradient is $\partial_\mu = 2\mu$ and
# $\partial_{\text{log\_var}} = \sigma^2$. We draw many single-sample estimates
# of each kind and compare their means (± standard error) with the exact
# values. Each estimator gets its own draws of $\varepsilon$: with shared draws
# their errors would be correlated (all too high together, or all too low),
# and the four comparisons would not be independent. The baselines come from
# a separate, independent set of pilot draws, so they do not depend on the
# draws they are used with. Here $c^*$ is also known exactly:
# $\mathbb E[z^2 \varepsilon^2] = \mu^2 + 3\sigma^2$ against
# $\mathbb E[z^2] = \mu^2 + \sigma^2$ for the plain mean (for $\partial_\mu$;
# the code estimates both coordinates' $c^*$ from the pilot).

# %%
mu, log_var = 0.8, -0.6
n_draws = 20_000 if FAST else 200_000
eps_pilot = rng.standard_normal(1000)
f_pilot = gaussian.reparameterize(mu, log_var, eps_pilot)[0] ** 2
mean_baseline = (f_pilot.mean(), f_pilot.mean())
best_baseline = optimal_baseline(f_pilot, eps_pilot)


def toy_draws():
    """Fresh eps, z = mu + sigma eps and sigma: every estimator gets its own."""
    eps = rng.standard_normal(n_draws)
    return (eps, *gaussian.reparameterize(mu, log_var, eps))


eps, z, std = toy_draws()
toy = {"reparameterization": reparameterization_estimates(2 * z, eps, std)}  # f'(z) = 2z
for name, baseline in [("score function", (0.0, 0.0)), ("score function + mean baseline", mean_baseline),
                       ("score function + best baseline", best_baseline)]:
    eps, z, std = toy_draws()
    toy[name] = score_function_estimates(z**2, eps, std, baseline)
exact = (2 * mu, np.exp(log_var))
print(f"exact gradient: d/dmu = {exact[0]:.4f}, d/dlog_var = {exact[1]:.4f}")
print(f"baselines from 1,000 pilot draws: mean of f {mean_baseline[0]:.4f} (exact mu^2 + sigma^2 = {mu**2 + std**2:.4f}); "
      f"best c* for d/dmu {best_baseline[0]:.4f} (exact mu^2 + 3 sigma^2 = {mu**2 + 3 * std**2:.4f}), "
      f"for d/dlog_var {best_baseline[1]:.4f}")
for name, (g_mu, g_log_var) in toy.items():
    cells = []
    for g, target in [(g_mu, exact[0]), (g_log_var, exact[1])]:
        standard_error = g.std() / np.sqrt(n_draws)
        cells.append(f"{g.mean():7.4f} +- {standard_error:.4f} ({(g.mean() - target) / standard_error:+.1f} s.e.)")
    print(f"{name:31s} d/dmu {cells[0]}   d/dlog_var {cells[1]}")
toy_variance = {name: (g_mu.var(), g_log_var.var()) for name, (g_mu, g_log_var) in toy.items()}
for name, (v_mu, v_log_var) in toy_variance.items():
    ratio_mu = v_mu / toy_variance["reparameterization"][0]
    ratio_log_var = v_log_var / toy_variance["reparameterization"][1]
    print(f"{name:31s} one-sample variance: d/dmu {v_mu:8.4f} ({ratio_mu:5.1f} x reparam.), "
          f"d/dlog_var {v_log_var:8.4f} ({ratio_log_var:5.1f} x reparam.)")

# %%
TOY_COLORS = ["C0", "C3", "C1", "C2"]
fig = Figure(figsize=(13, 4.6), layout="constrained")
axes = fig.subplots(1, 2)
for ax, index, label in [(axes[0], 0, r"$\partial_\mu$"), (axes[1], 1, r"$\partial_{\mathrm{log\_var}}$")]:
    values = np.concatenate([estimates[index] for estimates in toy.values()])
    edges = np.linspace(values.min(), values.max(), 301)  # every draw, to the farthest tail
    for (name, estimates), color in zip(toy.items(), TOY_COLORS):
        ax.hist(estimates[index], bins=edges, density=True, histtype="step", lw=1.6, color=color, label=name)
    ax.axvline(exact[index], color="k", lw=1.2, ls="--", label="exact gradient")
    ax.set_xlabel(f"one-sample estimate of {label} " + r"$\mathbb{E}[z^2]$" + f" ({n_draws:,} draws each)", fontsize=12)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper right")
axes[0].set_ylabel("density (log scale)", fontsize=12)
save(fig, "04_toy_estimates.png")

# %% [markdown]
# All four estimators are centred on the exact gradient (dashed): each
# mean above is within two standard errors of it, on independent draws, as
# unbiased estimators must be. With standard errors of a few thousandths,
# this test would have seen a bias of one to four percent of the gradient
# (three standard errors). Their spreads
# differ. The histograms (log density, every draw, out to the farthest
# tail) show the reparameterization estimates (blue) in a narrow band that
# ends by about 8 for $\partial_\mu$, and the score-function estimates (red)
# reaching out past 80 and below −40: rare, huge estimates that carry much
# of the variance; the variance ratios printed above measure it. The mean
# baseline (orange) helps: it removes the part of the noise due to $f$'s
# offset from zero. The best constant (green) helps a little more, as it
# must, being the variance-minimising constant: its pilot estimate of $c^*$
# for $\partial_\mu$ is close to the exact $\mu^2 + 3\sigma^2$ (printed), well
# above the mean of $f$. No constant reaches reparameterization, whose
# estimate uses $f'$.
#
# ## 3. The real thing: a trained VAE on digits
#
# Now the encoder outputs $\mu, \text{log\_var}$ of a trained model on a batch
# of test digits, and $f(z) = -\log p(x \mid z)$ is the decoder's
# reconstruction cost: the term of the loss whose gradient the trick is
# needed for (the KL term has its exact gradient, lecture 02). We train a small
# VAE briefly with ``Trainer`` (lecture 03 explains training in full).

# %%
data = load_dataset("mnist5k")
x_train, x_test = (data.x_train[:300], data.x_test[:100]) if FAST else (data.x_train, data.x_test)
model = numvae.VAE(input_dim=784, hidden_dims=(200,), latent_dim=10, dtype=np.float32, seed=0)
history = Trainer(model, x_train, x_test,
                  TrainConfig(epochs=1 if FAST else 10, batch_size=100, lr=1e-3, binarize="none", seed=0)).fit()
print(f"test loss after {len(history['test_loss'])} epochs: {history['test_loss'][-1]:.1f} nats")

batch = x_test[:8 if FAST else 16]  # (B, 784)
mu_batch, log_var_batch = model.encode(batch)  # (B, J) each
std_batch = np.exp(0.5 * log_var_batch)
print(f"batch of {len(batch)} digits; encoder sd exp(log_var/2) from {std_batch.min():.2f} to {std_batch.max():.2f}")

# %% [markdown]
# For $S$ draws per image, we need $f(z)$ (for the score function) and
# $f'(z) = \partial(-\log p(x \mid z))/\partial z$ (for reparameterization).
# Both come from the model's own pieces: the decoder forward, the likelihood's
# ``nll`` and ``backward``, and the decoder's hand-written backward pass,
# which returns $\bar z$. We process the draws in chunks to keep memory small.


# %%
def decoder_values_and_gradients(model, x, eps):
    """f(z) and f'(z) for z = mu + std * eps, with f = -log p(x|z): shapes (S, B) and (S, B, J)."""
    mu, log_var = model.encode(x)  # (B, J)
    z, _ = gaussian.reparameterize(mu, log_var, eps)  # (S, B, J)
    n_draws, batch_size, latent_dim = z.shape
    z_rows = z.reshape(n_draws * batch_size, latent_dim).astype(model.dtype)
    x_rows = np.broadcast_to(x, (n_draws, *x.shape)).reshape(n_draws * batch_size, -1)
    f = model.likelihood.nll(x_rows, model.decoder.forward(z_rows))  # (S B,): caches for the backward
    d_out = model.likelihood.backward(np.ones(len(f), dtype=model.dtype))
    d_z = model.decoder.backward(d_out)  # (S B, J): the gradient of each row's f
    return f.reshape(n_draws, batch_size).astype(np.float64), d_z.reshape(z.shape).astype(np.float64)


def all_estimates(eps):
    """Per-draw gradient estimates of each kind, each a pair (d_mu, d_log_var) of shape (S, B, J).

    The four share the draws eps: their errors are correlated, which sharpens the comparison of their
    variances, but makes their z-scores below four correlated tests, not four independent ones.
    """
    f, d_f = [], []
    for chunk in np.array_split(eps, max(1, len(eps) // 500)):
        values, gradients = decoder_values_and_gradients(model, batch, chunk)
        f.append(values)
        d_f.append(gradients)
    f, d_f = np.concatenate(f)[..., None], np.concatenate(d_f)  # (S, B, 1), (S, B, J)
    return {
        "reparameterization": reparameterization_estimates(d_f, eps, std_batch),
        "score function": score_function_estimates(f, eps, std_batch),
        "score function + mean baseline": score_function_estimates(f, eps, std_batch, vae_mean_baseline),
        "score function + best baseline": score_function_estimates(f, eps, std_batch, vae_best_baseline),
    }


batch_size, latent_dim = mu_batch.shape
eps_pilot = rng.standard_normal((1000, batch_size, latent_dim))
pilot, _ = decoder_values_and_gradients(model, batch, eps_pilot)  # (1000, B)
vae_mean_baseline = (pilot.mean(axis=0)[:, None],) * 2  # (B, 1): each image's own c, from independent draws
vae_best_baseline = optimal_baseline(pilot[..., None], eps_pilot)  # (B, J) each: one c* per coordinate
print("per-image baseline c = mean of f over 1,000 pilot draws, nats:", np.round(vae_mean_baseline[0][:4, 0], 1), "...")
print("best c* - mean c for d/dmu, first image, nats:", np.round(vae_best_baseline[0][0] - vae_mean_baseline[0][0, 0], 1))

n_reference = 2_000 if FAST else 16_000
n_test = 1_000 if FAST else 8_000
reference = all_estimates(rng.standard_normal((n_reference, batch_size, latent_dim)))
reference_mean = [g.mean(axis=0) for g in reference["reparameterization"]]  # (B, J) each
reference_error = [g.std(axis=0) / np.sqrt(n_reference) for g in reference["reparameterization"]]
estimates = all_estimates(rng.standard_normal((n_test, batch_size, latent_dim)))

print(f"reference: reparameterization with {n_reference:,} draws per image; "
      f"each estimator below: {n_test:,} fresh draws per image")
print(f"{'':26s} {'z-scores vs reference over ' + str(batch_size * latent_dim) + ' coordinates':>48s}")
for name, pair in estimates.items():
    cells = []
    for g, ref, ref_error, label in zip(pair, reference_mean, reference_error, ["mu", "log_var"]):
        error = np.sqrt(g.var(axis=0) / n_test + ref_error**2)
        z_scores = (g.mean(axis=0) - ref) / error  # (B, J)
        cells.append(f"d/d{label}: mean {z_scores.mean():+.2f}, sd {z_scores.std():.2f}, "
                     f"max |z| {np.abs(z_scores).max():.1f}")
    print(f"{name:31s} {cells[0]};  {cells[1]}")
print("what the test can see, d/dmu: a bias below about 3 standard errors passes unnoticed")
typical_gradient = np.median(np.abs(reference_mean[0]))
for name, pair in estimates.items():
    standard_error = np.median(np.sqrt(pair[0].var(axis=0) / n_test))
    print(f"{name:31s} median s.e. per coordinate {standard_error:8.3f}: 3 s.e. = {3 * standard_error / typical_gradient:7.2f} "
          f"x the median |gradient| ({typical_gradient:.2f})")

# %% [markdown]
# For every coordinate (each image, each latent dimension) we compare the
# estimator's mean over fresh draws with the high-sample reference, in units of
# their combined standard error. For an unbiased estimator these z-scores
# are standard normal: mean near 0, standard deviation near 1, and a largest
# $|z|$ of about 3 among a couple of hundred coordinates. The printed values
# look like that for every estimator.
#
# What that shows is not the same for each. A z-test only sees a bias
# larger than a few of its standard errors, and the score function's
# standard errors are about a hundred times those of reparameterization (the
# square root of the variance ratio printed in section 4). The last lines
# put it in the gradient's own units: for reparameterization a bias of a
# small fraction of a typical gradient would have shown up; for the score
# function without a baseline, only a bias larger than the typical gradient
# itself. So the test *supports* reparameterization being unbiased on the
# real model, and says next to nothing about the plain score function. Its
# unbiasedness rests on the derivation of section 1 and on the toy, where a
# test with adequate power found no bias; "no significant difference" from
# a test this weak is absence of evidence, not evidence.
#
# ## 4. The variance, against the number of samples
#
# An average of $S$ independent draws has $1/S$ of the variance of one
# draw, whatever the estimator; what differs is the constant. We *measure*
# the variance of $S$-sample averages by cutting the draws into groups of $S$
# and taking the variance across groups, summed over the coordinates of the
# batch (the total variance of the gradient vector).

# %%
sample_sizes = np.array([1, 2, 4, 8, 16, 32, 64, 128] if not FAST else [1, 2, 4, 8, 16])


def variance_of_averages(g, sample_size):
    """Total variance of the average of ``sample_size`` draws, from disjoint groups of ``g`` (S, ...)."""
    groups = len(g) // sample_size
    averages = g[: groups * sample_size].reshape(groups, sample_size, -1).mean(axis=1)  # (groups, coords)
    return float(np.sum(averages.var(axis=0, ddof=1)))


curves = {"toy": {}, "VAE": {}}
for name in toy:
    curves["toy"][name] = [variance_of_averages(toy[name][0][:, None], s) for s in sample_sizes]
    curves["VAE"][name] = [variance_of_averages(estimates[name][0], s) for s in sample_sizes]

print("total variance over the batch of one-draw gradient estimates:")
vae_variance = {name: [float(np.sum(g.var(axis=0))) for g in pair] for name, pair in estimates.items()}
for name, (v_mu, v_log_var) in vae_variance.items():
    print(f"{name:31s} d/dmu {v_mu:12.1f} ({v_mu / vae_variance['reparameterization'][0]:8.1f} x reparam.)   "
          f"d/dlog_var {v_log_var:12.1f} ({v_log_var / vae_variance['reparameterization'][1]:8.1f} x reparam.)")
draws_to_match = vae_variance["score function"][0] / vae_variance["reparameterization"][0]
print(f"draws the score function needs to match one reparameterized draw (d/dmu): {draws_to_match:,.0f}; "
      f"with the mean baseline: {vae_variance['score function + mean baseline'][0] / vae_variance['reparameterization'][0]:.0f}; "
      f"with the best baseline: {vae_variance['score function + best baseline'][0] / vae_variance['reparameterization'][0]:.0f}")

# %%
fig = Figure(figsize=(13, 5), layout="constrained")
axes = fig.subplots(1, 2)
for ax, (title, per_name) in zip(axes, curves.items()):
    for (name, values), color in zip(per_name.items(), TOY_COLORS):
        ax.loglog(sample_sizes, values, "o", color=color, ms=7, label=f"{name}: measured")
        ax.loglog(sample_sizes, values[0] / sample_sizes, "-", color=color, lw=1)  # one draw's variance / S
    ax.set_xlabel("S, samples averaged", fontsize=12)
    ax.grid(alpha=0.3, which="both")
axes[0].plot([], [], "-", color="0.3", lw=1, label="one draw's variance / S")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=10)  # both panels: over no dot
axes[0].set_ylabel("variance of the estimate", fontsize=12)
axes[0].set_title(r"toy: $\partial_\mu\,\mathbb{E}[z^2]$", fontsize=13)
axes[1].set_ylabel("total variance over the batch", fontsize=12)
axes[1].set_title(r"VAE: $\partial_\mu\,\mathbb{E}_q[-\log p(x|z)]$, " + f"{batch_size} test digits", fontsize=13)
save(fig, "04_variance_vs_samples.png")

# %% [markdown]
# The measured variances (dots) lie on the lines of one draw's variance
# divided by $S$: averaging more draws helps every estimator at the same
# rate, so the ratio between them is the same at every $S$, and it is the
# ratio printed above. On the toy the score function is noisier than
# reparameterization by the printed factors. On the VAE its variance is
# larger by four orders of magnitude (printed):
# $f$ is a reconstruction cost of tens to hundreds of nats (the baselines),
# multiplied by a score of size $1/\sigma$ with a small encoder $\sigma$, while
# the reparameterized estimate feels only how $f$ *changes* near the sample.
# The per-image baseline removes that offset and closes most of the
# distance, but not all of it: the score function with a baseline still
# needs the printed number of draws (17) to match the variance of one
# reparameterized draw, and without it, 12,649. The best constant $c^*$ barely
# improves on the mean here (16 against 17): on these images it differs from
# the mean of $f$ by a few tenths of a nat (printed for the first image),
# because what is left is not an offset at all, but $f$'s variation from draw
# to draw, which no constant can remove and which only a baseline that
# depends on $z$, or $f'$ itself, can use. (In the right panel the green
# dots lie on the orange ones.)
#
# That is why VAEs with continuous latents are trained with the
# reparameterization trick, and why the score function, with better
# baselines (learned, or per-sample "leave-one-out" averages) and other
# control variates, is what remains for discrete latents, where no
# $z = \mu + \sigma\varepsilon$ exists.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the reparameterized sampler this lecture sets against the score
# function yourself, then check it (`numvae exercises hint lecture04 NAME` gives a
# hint at a time, from what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture04 --only reparameterize
# numvae exercises check lecture04
# ```
#
# **Questions.**
#
# 1. Both estimators are unbiased. What makes the score function's variance
#    grow with the size of f, and what does a baseline subtract?
# 2. Why is there no reparameterization for a discrete latent variable?
#
# **Numerical questions**, graded by `numvae exercises check lecture04 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `score_q1`: For $z \sim \mathcal N(\mu, 1)$ and $f(z) = z^2$, what is
#   $\tfrac{d}{d\mu}\mathbb E[f(z)]$ at μ = 1?
# - `score_q2`: The score-function term $f(z)\,\partial_\mu \log q(z)$ for one
#   sample z = 2 at μ = 1 (f(z) = z²)? Compare with `score_q1`: one sample can
#   be far from the mean.
