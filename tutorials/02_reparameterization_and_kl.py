# %% [markdown]
# # 2. The reparameterization trick and the KL term
#
# The encoder of a VAE does not output a code $z$; it outputs a Gaussian
# distribution over codes, $q_\phi(z \mid x) = \mathcal N(\mu, \operatorname{diag} e^{\text{log\_var}})$,
# where $\phi$ are the encoder's parameters and $\mu$, log_var its outputs.
# Training needs two things from that Gaussian: a *sample* that gradients can
# flow through (the reparameterization trick), and its KL divergence to the
# prior $\mathcal N(0, I)$ with that divergence's gradient. This lecture checks
# each piece empirically, the way ``numvae.gaussian`` is tested. Reference:
# Kingma & Welling, "Auto-Encoding Variational Bayes" (arXiv:1312.6114),
# section 2.4 and appendix B.

# %% [markdown]
# ## Setup

# %%
import numpy as np
from matplotlib.figure import Figure

from numvae import gaussian
from numvae.gradcheck import check_gradients

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1312)
n_samples = 20_000 if FAST else 200_000  # draws per Monte Carlo estimate

# %% [markdown]
# ## 1. One parameterization: ``log_var`` is the log of the variance
#
# The encoder's last layer is linear, so its outputs can be any real number.
# A variance must be positive, so the encoder outputs
# $\text{log\_var} = \log\sigma^2$ instead, and everything in numvae derives
# the rest from it the same way:
#
# $$\sigma^2 = \exp(\text{log\_var}), \qquad \sigma = \text{std} = \exp(\tfrac12\,\text{log\_var}).$$
#
# The factor $\tfrac12$ is easy to drop. A library that samples with
# ``std = exp(log_var)`` but computes its KL as if ``log_var`` were
# $\log\sigma^2$ trains a model whose two halves disagree, and a gradient
# check cannot see it. A look at the samples can.
#
# ## 2. Reparameterization: $z = \mu + \sigma \odot \varepsilon$
#
# Sampling $z \sim \mathcal N(\mu, \sigma^2)$ directly hides $\mu$ and
# $\sigma$ inside a random number generator, where no derivative reaches them.
# The trick moves the randomness into an input: draw
# $\varepsilon \sim \mathcal N(0, I)$, which does not depend on any parameter,
# and compute
#
# $$z = \mu + \exp(\tfrac12\,\text{log\_var}) \odot \varepsilon .$$
#
# Then $z$ has the right distribution *and* is a differentiable function of
# $(\mu, \text{log\_var})$. ``gaussian.reparameterize`` takes ``eps`` as an
# argument rather than drawing it, so the caller can keep and replay it.
#
# We draw many samples for two latent dimensions with different means and
# variances and compare the empirical moments with the intended ones.

# %%
mu = np.array([1.5, -1.0])
log_var = np.array([0.5, -2.0])
eps = rng.standard_normal((n_samples, 2))  # (n_samples, latent_dim)
z, std = gaussian.reparameterize(mu, log_var, eps)  # mu, log_var broadcast over the rows
print("                  mu      exp(log_var)   sample mean   sample variance")
for j in range(2):
    print(f"dimension {j}: {mu[j]:8.3f}   {np.exp(log_var[j]):10.4f}   {z[:, j].mean():11.4f}   {z[:, j].var():13.4f}")
standard_error = np.sqrt(np.exp(log_var) / n_samples)
print("standard error of the sample mean:", np.round(standard_error, 4))

# %% [markdown]
# The sample means match $\mu$ within a few standard errors and the sample
# variances match $\exp(\text{log\_var})$, not $\text{log\_var}$ and not
# $\exp(\text{log\_var})^2$. The histograms make the same point at a glance.

# %%
fig = Figure(figsize=(11, 4.4), layout="constrained")
axes = fig.subplots(1, 2)
for j, ax in enumerate(axes):
    sigma = np.exp(0.5 * log_var[j])
    grid = np.linspace(mu[j] - 4.5 * sigma, mu[j] + 4.5 * sigma, 400)
    ax.hist(z[:, j], bins=80, range=(grid[0], grid[-1]), density=True, color="C0", alpha=0.5,
            label=f"{n_samples:,} samples of z")
    density = np.exp(gaussian.log_normal(grid[:, None], mu[j], log_var[j]))  # grid as (400, 1)
    ax.plot(grid, density, color="k", lw=2, label=r"$\mathcal{N}(\mu, e^{\mathrm{log\_var}})$")
    wrong_log_var = 2 * log_var[j]  # what std = exp(log_var) would sample from
    wrong = np.exp(gaussian.log_normal(grid[:, None], mu[j], wrong_log_var))
    ax.plot(grid, wrong, color="C3", lw=1.5, ls="--", label=r"if std were $e^{\mathrm{log\_var}}$")
    ax.set_title(rf"$\mu = {mu[j]}$, log_var $= {log_var[j]}$", fontsize=13)
    ax.set_xlabel("z", fontsize=12)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("density", fontsize=12)
axes[0].legend(fontsize=9, loc="upper left")
save(fig, "02_samples.png")

# %% [markdown]
# The histograms of $z$ (blue) lie on the density
# $\mathcal N(\mu, e^{\text{log\_var}})$ (black). The dashed red curve is what
# a sampler using ``std = exp(log_var)`` would produce: too wide where
# $\text{log\_var} > 0$ (left), far too narrow where $\text{log\_var} < 0$
# (right). This histogram, or its numerical version in the test suite, is the
# test that would catch that mistake.
#
# ## 3. The gradient of a sample
#
# From $z = \mu + e^{\frac12 \text{log\_var}}\,\varepsilon$, with $\varepsilon$
# held fixed:
#
# $$\frac{\partial z}{\partial \mu} = 1, \qquad
#   \frac{\partial z}{\partial\, \text{log\_var}} = \tfrac12\, e^{\frac12\text{log\_var}}\,\varepsilon
#   = \tfrac12\,\sigma\,\varepsilon .$$
#
# ``gaussian.reparameterize_backward(d_z, eps, std)`` multiplies an upstream
# gradient $\bar z$ by these: it returns $\bar\mu = \bar z$ and
# $\overline{\text{log\_var}} = \tfrac12\,\bar z\,\sigma\,\varepsilon$.
# We check it with central differences in float64, with a random upstream
# gradient and the noise ``eps`` replayed on every evaluation.

# %%
batch_size, latent_dim = 4, 3
mu_small = rng.standard_normal((batch_size, latent_dim))
log_var_small = rng.standard_normal((batch_size, latent_dim))
eps_small = rng.standard_normal((batch_size, latent_dim))  # fixed: z is a function of mu, log_var only
d_z = rng.standard_normal((batch_size, latent_dim))  # upstream gradient, so L = sum(z * d_z)


def sample_loss():
    z_small, _ = gaussian.reparameterize(mu_small, log_var_small, eps_small)
    return float(np.sum(z_small * d_z))


_, std_small = gaussian.reparameterize(mu_small, log_var_small, eps_small)
d_mu, d_log_var = gaussian.reparameterize_backward(d_z, eps_small, std_small)
report = check_gradients(sample_loss, {"mu": mu_small, "log_var": log_var_small},
                         {"mu": d_mu, "log_var": d_log_var})
print(report.assert_close(1e-6))

# %% [markdown]
# What the trick buys: the gradient of an *expectation* becomes the
# expectation of a gradient. For $f(z) = z^2$ we know
# $\mathbb E[z^2] = \mu^2 + \sigma^2$ exactly, so
# $\partial_\mu \mathbb E[z^2] = 2\mu$ and
# $\partial_{\text{log\_var}} \mathbb E[z^2] = \sigma^2$. Averaging
# $f'(z)\, \partial z/\partial\phi$ over samples of $\varepsilon$ should
# recover both, and this average is exactly what minibatch training computes.
# Why the average of gradients is the gradient of the average, written out:
# with $z = \mu + \sigma\varepsilon$ and $\phi$ anything $\mu$ and $\sigma$ depend on
# (here $\mu$ and log_var themselves; in a VAE the encoder's parameters),
#
# $$\begin{aligned}
#   \nabla_\phi\, \mathbb E_{q_\phi}[f(z)]
#   &= \nabla_\phi \int f(\mu + \sigma\varepsilon)\, \mathcal N(\varepsilon;\ 0, 1)\, d\varepsilon
#   = \int \nabla_\phi f(\mu + \sigma\varepsilon)\, \mathcal N(\varepsilon;\ 0, 1)\, d\varepsilon \\
#   &= \mathbb E_\varepsilon\!\Big[f'(z)\, \frac{\partial z}{\partial \phi}\Big],
# \end{aligned}$$
#
# because after the substitution the density no longer depends on $\phi$
# (lecture 04 does the change of variables step by step, and sets this
# estimator beside the score function).
#
# The middle step, moving $\nabla_\phi$ inside the integral, is the one that
# needs a condition. By dominated convergence it holds when, for almost every
# $\varepsilon$, $\phi \mapsto f(\mu + \sigma\varepsilon)$ is continuous and
# differentiable except at isolated points (locally Lipschitz is enough), and
# its derivative is bounded, for all $\phi$ near the current one, by one
# function $g(\varepsilon)$ with $\int g(\varepsilon)\, \mathcal N(\varepsilon;\ 0, 1)\, d\varepsilon < \infty$.
# For $f(z) = z^2$, $|f'(z)\, \partial z/\partial\phi|$ grows like $\varepsilon^2$,
# which is integrable; a decoder built from dense layers, ReLU or tanh and a
# log-likelihood grows no faster than a polynomial in $z$, and qualifies in the
# same way. A function that *jumps* does not: for the step
# $f(z) = \mathbb 1[z > 0]$, $f'(z) = 0$ wherever it exists, so the average of
# $f'(z)\, \partial z/\partial\mu$ is exactly 0, while
# $\mathbb E[f(z)] = \Phi(\mu/\sigma)$ moves with $\mu$ at rate
# $\mathcal N(\mu/\sigma;\ 0, 1)/\sigma$. The reparameterization gradient is then
# silently wrong. The *score function* estimator asks nothing of $f'$: it
# differentiates the density instead of $f$,
#
# $$\nabla_\mu \int f(z)\, q_\mu(z)\, dz = \int f(z)\, \nabla_\mu q_\mu(z)\, dz
#   = \mathbb E_q\big[f(z)\, \nabla_\mu \log q_\mu(z)\big], \qquad
#   \frac{\partial \log q}{\partial \mu} = \frac{z - \mu}{\sigma^2},$$
#
# and the Gaussian density is smooth in $\mu$ even where $f$ jumps, so it
# still works (lecture 04 derives it in full and compares the two estimators'
# variances). Both are checked below.

# %%
mu_1d, log_var_1d = 0.8, -0.6
eps_1d = rng.standard_normal(n_samples)
z_1d, std_1d = gaussian.reparameterize(mu_1d, log_var_1d, eps_1d)
d_mu_1d, d_log_var_1d = gaussian.reparameterize_backward(2 * z_1d, eps_1d, std_1d)  # f'(z) = 2z
print(f"d E[z^2] / d mu:      Monte Carlo {d_mu_1d.mean():.4f} +- {d_mu_1d.std() / np.sqrt(n_samples):.4f}, "
      f"exact 2 mu = {2 * mu_1d:.4f}")
print(f"d E[z^2] / d log_var: Monte Carlo {d_log_var_1d.mean():.4f} +- {d_log_var_1d.std() / np.sqrt(n_samples):.4f}, "
      f"exact sigma^2 = {np.exp(log_var_1d):.4f}")

step = (z_1d > 0).astype(float)  # f(z) = 1[z > 0]: f'(z) = 0 wherever it exists
d_mu_step, _ = gaussian.reparameterize_backward(np.zeros_like(z_1d), eps_1d, std_1d)  # f'(z) = 0
score_mu = step * eps_1d / std_1d  # f(z) d log q / d mu = f(z) (z - mu) / sigma^2, with z - mu = sigma eps
exact_step = np.exp(-0.5 * (mu_1d / std_1d) ** 2) / np.sqrt(2 * np.pi) / std_1d  # N(mu / sigma; 0, 1) / sigma
print(f"d E[1(z > 0)] / d mu: reparameterization {d_mu_step.mean():.4f}, "
      f"score function {score_mu.mean():.4f} +- {score_mu.std() / np.sqrt(n_samples):.4f}, exact {exact_step:.4f}")

# %% [markdown]
# Both Monte Carlo gradients of $\mathbb E[z^2]$ agree with the exact ones
# within their standard errors. For the step, the reparameterization
# gradient is exactly 0 against the exact, printed, slope: the condition
# above is not a technicality. The score function gets the step's slope
# within its standard error. A VAE uses one sample per example, so its gradients are noisy
# versions of these averages; the batch average tames the noise.
#
# ## 4. The KL divergence to the prior, in closed form
#
# The second term of the loss is $D_{KL}(q(z|x)\,\|\,p(z))$ with
# $p(z) = \mathcal N(0, I)$. For diagonal Gaussians it has a closed form
# (Kingma & Welling, appendix B), a sum over latent dimensions:
#
# $$D_{KL} = \mathbb E_q\!\left[\log q(z) - \log p(z)\right]
#          = \tfrac12 \sum_j \left(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\right).$$
#
# Lecture 01 used it as a special case of the KL between two Gaussians;
# derived from the densities, it takes three lines. For one dimension, with
# $\log \mathcal N(z;\ \mu, \sigma^2) = -\tfrac12\big(\log 2\pi + \log\sigma^2 + (z - \mu)^2/\sigma^2\big)$,
# the $\log 2\pi$ terms cancel in $\log q(z) - \log p(z)$:
#
# $$D_{KL} = \mathbb E_q\!\left[-\tfrac12 \log\sigma^2 - \frac{(z - \mu)^2}{2\sigma^2} + \frac{z^2}{2}\right]
#   = -\tfrac12\log\sigma^2 - \tfrac12 + \tfrac12\left(\mu^2 + \sigma^2\right),$$
#
# using $\mathbb E_q[(z - \mu)^2] = \sigma^2$ (the definition of the variance)
# and $\mathbb E_q[z^2] = \operatorname{Var} z + (\mathbb E z)^2 = \mu^2 + \sigma^2$.
# The latent dimensions are independent under both $q$ and $p$, so their KLs add.
#
# It is an expectation, so it can also be estimated by Monte Carlo: draw
# $z \sim q$ and average $\log q(z) - \log p(z)$ using the log densities in
# ``numvae.gaussian``. We compare the two for one latent dimension, first
# moving $\mu$ with $\text{log\_var} = 0$, then moving $\text{log\_var}$
# with $\mu = 0$.

# %%
def kl_monte_carlo(mu_value, log_var_value, eps_1d):
    """Mean and standard error of log q(z) - log p(z) over the draws ``eps_1d``."""
    mu_col, log_var_col = np.array([[mu_value]]), np.array([[log_var_value]])  # (1, latent_dim=1)
    z_col, _ = gaussian.reparameterize(mu_col, log_var_col, eps_1d[:, None])  # (n_samples, 1)
    log_ratio = gaussian.log_normal(z_col, mu_col, log_var_col) - gaussian.log_standard_normal(z_col)
    return log_ratio.mean(), log_ratio.std() / np.sqrt(len(log_ratio))


mu_values = np.linspace(-3, 3, 13)
log_var_values = np.linspace(-4, 2.5, 14)
eps_kl = rng.standard_normal(n_samples // 10)
mc_mu = np.array([kl_monte_carlo(m, 0.0, eps_kl) for m in mu_values])  # (13, 2): mean, standard error
mc_log_var = np.array([kl_monte_carlo(0.0, v, eps_kl) for v in log_var_values])  # (14, 2)

fine_mu, fine_log_var = np.linspace(-3, 3, 200), np.linspace(-4, 2.5, 200)
exact_mu = gaussian.kl_standard_normal(fine_mu[:, None], np.zeros((200, 1)))  # (200,)
exact_log_var = gaussian.kl_standard_normal(np.zeros((200, 1)), fine_log_var[:, None])  # (200,)

fig = Figure(figsize=(11, 4.4), layout="constrained")
axes = fig.subplots(1, 2)
axes[0].plot(fine_mu, exact_mu, color="k", lw=2, label="analytic")
axes[0].errorbar(mu_values, mc_mu[:, 0], yerr=2 * mc_mu[:, 1], fmt="o", color="C1", ms=5, capsize=3,
                 label=f"Monte Carlo, {len(eps_kl):,} draws (±2 s.e.)")
axes[0].set_xlabel(r"$\mu$  (log_var = 0)", fontsize=12)
axes[1].plot(fine_log_var, exact_log_var, color="k", lw=2, label="analytic")
axes[1].errorbar(log_var_values, mc_log_var[:, 0], yerr=2 * mc_log_var[:, 1], fmt="o", color="C1", ms=5,
                 capsize=3, label="Monte Carlo (±2 s.e.)")
axes[1].set_xlabel(r"log_var $= \log\sigma^2$  ($\mu = 0$)", fontsize=12)
for ax in axes:
    ax.set_ylabel(r"$D_{KL}(q\,\|\,p)$ (nats)", fontsize=12)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper center")
save(fig, "02_kl.png")

# How far is each estimate from the truth, in standard errors? (Where q is the
# prior itself, every draw gives log q - log p = 0 up to round-off, ~1e-18: no
# error to measure, and dividing round-off by round-off gives a meaningless ratio.)
analytic_points = np.concatenate([
    gaussian.kl_standard_normal(mu_values[:, None], np.zeros((13, 1))),
    gaussian.kl_standard_normal(np.zeros((14, 1)), log_var_values[:, None]),
])  # (27,)
estimates = np.concatenate([mc_mu, mc_log_var])  # (27, 2): mean, standard error
at_prior = np.concatenate([mu_values == 0, log_var_values == 0])  # (27,): mu = 0 and log_var = 0
has_noise = ~at_prior
z_scores = (estimates[has_noise, 0] - analytic_points[has_noise]) / estimates[has_noise, 1]
print(f"Monte Carlo - analytic, in standard errors: largest |z| = {np.max(np.abs(z_scores)):.2f} "
      f"over {has_noise.sum()} points")

# The two sides of the right-hand curve, against simple approximations.
for value in (-4.0, -8.0, 2.5, 6.0):
    kl_value = float(gaussian.kl_standard_normal(np.zeros((1, 1)), np.array([[value]]))[0])
    print(f"log_var = {value:+.1f}: KL = {kl_value:7.3f} nats;  1/2(|log_var| - 1) = {0.5 * (abs(value) - 1):7.3f};"
          f"  1/2 exp(log_var) = {0.5 * np.exp(value):7.3f}")

# %% [markdown]
# The Monte Carlo estimates (orange, with error bars of two standard errors)
# sit on the analytic curves (black). Left: moving the mean costs
# $\tfrac12\mu^2$ nats, a parabola. Right: the cost of a wrong variance,
# $\tfrac12(e^{\text{log\_var}} - \text{log\_var} - 1)$, is lopsided. Shrinking
# $\sigma$ (log_var to the left) makes $e^{\text{log\_var}}$ negligible, so the
# KL approaches the straight line $\tfrac12(|\text{log\_var}| - 1)$: it grows
# only with slope $\tfrac12$ nat per unit of log_var (the printout compares
# the two at log_var $= -4$ and $-8$). Widening it makes the exponential
# dominate, and the KL explodes; it approaches $\tfrac12 e^{\text{log\_var}}$
# only asymptotically (at log_var $= 2.5$, the right end of the plot, the
# two still differ by the printed amounts, since the $-\text{log\_var} - 1$
# terms are not yet negligible; by log_var $= 6$ they nearly are). The minimum, 0 nats,
# is at $\mu = 0$, log_var $= 0$, where q *is* the prior. (At log_var $= 0$
# and $\mu = 0$ the Monte Carlo estimate is 0 to round-off with no error bar,
# since $\log q = \log p$ for every sample; the ratio printed above leaves
# that point out. Every point reuses the same draws ``eps_kl``, so the errors
# along each curve are correlated, not independent: the printed largest $|z|$
# is one draw's luck shared by a whole curve.)
#
# Why bother with the closed form when Monte Carlo works? Its estimate has
# no noise at all, and its gradient is exact, so the KL term adds no variance
# to training.
#
# ## 5. The gradient of the KL
#
# Differentiating the closed form term by term, with
# $\sigma_j^2 = e^{\text{log\_var}_j}$:
#
# $$\frac{\partial D_{KL}}{\partial \mu_j} = \mu_j, \qquad
#   \frac{\partial D_{KL}}{\partial\, \text{log\_var}_j} = \tfrac12\left(e^{\text{log\_var}_j} - 1\right).$$
#
# ``gaussian.kl_standard_normal_backward(d_kl, mu, log_var)`` returns these,
# scaled by the upstream gradient ``d_kl`` of each example. The usual check:

# %%
d_kl = rng.standard_normal(batch_size)  # one upstream gradient per example, so L = sum(kl * d_kl)


def kl_loss():
    return float(np.sum(gaussian.kl_standard_normal(mu_small, log_var_small) * d_kl))


kl_d_mu, kl_d_log_var = gaussian.kl_standard_normal_backward(d_kl, mu_small, log_var_small)
print(check_gradients(kl_loss, {"mu": mu_small, "log_var": log_var_small},
                      {"mu": kl_d_mu, "log_var": kl_d_log_var}).assert_close(1e-6))

# %% [markdown]
# The gradient is a vector field on the $(\mu, \text{log\_var})$ plane. The
# KL term alone would walk every encoder output down this field to the
# origin, i.e. make $q(z|x)$ equal the prior for every $x$, which carries no
# information about $x$. The reconstruction term pulls the other way. The
# picture below is the KL's half of that tug of war.

# %%
grid_mu, grid_log_var = np.meshgrid(np.linspace(-3, 3, 121), np.linspace(-4, 2.5, 131))  # each (131, 121)
kl_surface = gaussian.kl_standard_normal(grid_mu[..., None], grid_log_var[..., None])  # (131, 121)
arrows_mu, arrows_log_var = np.meshgrid(np.linspace(-2.5, 2.5, 11), np.linspace(-3.5, 2, 12))  # each (12, 11)
g_mu, g_log_var = gaussian.kl_standard_normal_backward(1.0, arrows_mu, arrows_log_var)
length = np.hypot(g_mu, g_log_var) + 1e-12  # draw directions; colour shows the size
fig = Figure(figsize=(7.5, 6), layout="constrained")
ax = fig.subplots()
contours = ax.contourf(grid_mu, grid_log_var, kl_surface, levels=[0, 0.25, 0.5, 1, 2, 3, 4, 6, 8],
                       cmap="Blues", extend="max")
ax.contour(grid_mu, grid_log_var, kl_surface, levels=[0.25, 0.5, 1, 2, 3, 4, 6, 8], colors="0.4",
           linewidths=0.6)
fig.colorbar(contours, ax=ax, label="KL (nats)")
ax.quiver(arrows_mu, arrows_log_var, -g_mu / length, -g_log_var / length, color="C3",
          angles="xy", scale=25, width=0.004)
ax.plot([0], [0], "k*", ms=14)
ax.set_xlabel(r"$\mu$", fontsize=12)
ax.set_ylabel(r"log_var", fontsize=12)
ax.set_title("KL to the prior, and the direction of steepest descent", fontsize=13)
save(fig, "02_kl_landscape.png")

# %% [markdown]
# The contours are the KL in nats for one latent dimension; the red arrows
# point along $-\nabla D_{KL}$ (directions only). Following them leads to the
# star at $(0, 0)$. Contours are tightly packed at the top (large log_var) and
# widely spaced at the bottom: the KL punishes a posterior that is *wider*
# than the prior much more than one that is narrower. This is why a trained
# encoder can afford confident, narrow posteriors for the dimensions it uses,
# and parks the dimensions it does not use *near* the prior. Near, not at:
# the reconstruction term still pulls a little, and the gradient is noisy,
# so a trained VAE leaves a small KL on every unused dimension: lecture 08
# measures 0.005 to 0.008 nats on each unit it counts as inactive.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the sampler and the KL of this lecture yourself, then check it (`numvae
# exercises hint lecture02 NAME` gives a hint at a time, from what to differentiate
# to the formula):
#
# ```bash
# numvae exercises start lecture02 --only reparameterize,kl
# numvae exercises check lecture02
# ```
#
# **Questions.**
#
# 1. A sampler that uses std = exp(log_var) in its forward and its backward
#    passes every gradient check. Which property of its samples shows the
#    mistake, and by how much is it off for log_var = log 4?
# 2. Why is the KL computed with expm1 rather than exp(log_var) − 1 − log_var?
#    At which log_var does it matter?
#
# **Numerical questions**, graded by `numvae exercises check lecture02 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `kl_q1`: The KL of $q = \mathcal N(1, e^{-1})$ to $\mathcal N(0, 1)$, in
#   nats.
# - `kl_q2`: $\partial \mathrm{KL} / \partial\, \text{log\_var}$ at the same
#   $q$.
# - `reparameterize_q1`: $z = \mu + \sigma\varepsilon$ with μ = 0.5, log_var =
#   2 log 2 and ε = −1: what is z?
