# %% [markdown]
# # 1. Latent variables and the ELBO
#
# A VAE is a *latent variable model*: an image $x$ is explained by a hidden
# code $z$. This lecture derives the objective a VAE is trained on, the
# evidence lower bound (ELBO), twice, and then checks every statement about it
# *exactly*, on the one latent variable model where nothing needs to be
# estimated: a linear decoder with Gaussian noise. There the true
# $\log p(x)$, the true posterior $p(z \mid x)$ and the gap between them and
# the ELBO are all closed form (``numvae.linear_gaussian``). The lecture ends
# with the importance-weighted bound $\mathcal L_K$, which lecture 03 uses on a
# real VAE, climbing to $\log p(x)$ as $K$ grows.
#
# References: Kingma & Welling, "Auto-Encoding Variational Bayes"
# (arXiv:1312.6114), section 2; Burda, Grosse & Salakhutdinov, "Importance
# Weighted Autoencoders" (arXiv:1509.00519), theorem 1.

# %% [markdown]
# ## Setup
#
# Everything here is small float64 linear algebra and runs in seconds; fast
# mode (``NUMVAE_FAST=1``) only shortens the repeated experiments.

# %%
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from numvae import linear_gaussian as lg
from numvae.evaluate import log_mean_exp
from numvae.gaussian import log_normal
from numvae.gradcheck import check_gradients

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1312)

# %% [markdown]
# ## 1. A latent variable model, and why $\log p(x)$ is hard
#
# A latent variable model describes data in two steps: draw a code from a
# prior, $z \sim p(z)$, then draw the data from a decoder, $x \sim p(x \mid z)$.
# In a VAE, $p(z) = \mathcal N(0, I)$ and $p_\theta(x \mid z)$ is a neural network
# with parameters $\theta$ followed by a Bernoulli or Gaussian likelihood. The
# model is fitted by maximum likelihood, and the likelihood of one image is an
# integral over every code that could have produced it:
#
# $$\log p(x) = \log \int p(x \mid z)\, p(z)\, dz .$$
#
# For a neural decoder this integral has no closed form. Numerically it is
# no easier: a grid with 10 points per axis has $10^{20}$ points in a
# 20-dimensional latent space, and averaging $p(x \mid z)$ over draws from the
# prior wastes almost every draw, because almost every $z$ explains a given
# $x$ terribly (section 7 measures this). The posterior
# $p(z \mid x) = p(x \mid z)\,p(z)/p(x)$, which says which codes *do* explain
# $x$, needs the same integral. Variational inference replaces both with an
# optimisation.
#
# ## 2. The ELBO, by Jensen's inequality
#
# Pick any distribution $q(z)$ over codes (in a VAE, the encoder's
# $q_\phi(z \mid x)$, a diagonal Gaussian, $\phi$ the encoder's parameters)
# that is positive wherever $p(x \mid z)\,p(z)$ is. Multiply and divide by it
# inside the integral, and use that $\log$ is concave, so
# $\log \mathbb E[Y] \ge \mathbb E[\log Y]$:
#
# $$\log p(x) = \log \mathbb E_{q}\!\left[\frac{p(x \mid z)\,p(z)}{q(z)}\right]
#   \;\ge\; \mathbb E_{q}\!\left[\log \frac{p(x \mid z)\,p(z)}{q(z)}\right] =: \mathcal L(q).$$
#
# Splitting the log of the product gives the two terms a VAE computes:
#
# $$\mathcal L(q) = \mathbb E_q[\log p(x \mid z)] - \mathbb E_q\!\left[\log\frac{q(z)}{p(z)}\right]
#   = \underbrace{\mathbb E_q[\log p(x \mid z)]}_{-\text{reconstruction}}
#   - \underbrace{D_{KL}(q \,\|\, p(z))}_{\text{KL}} .$$
#
# In a VAE, with $q = q_\phi(z \mid x)$ and $p_\theta(x \mid z)$, this is
# Kingma & Welling's $\mathcal L(\theta, \phi; x)$, maximised over both.
#
# Jensen says the bound holds; it does not say how loose it is.
#
# ## 3. The ELBO, by an identity
#
# Bayes' rule, $p(x \mid z)\,p(z) = p(z \mid x)\,p(x)$, holds for every $z$.
# Put it in the definition of $\mathcal L$:
#
# $$\mathcal L(q) = \mathbb E_q\!\left[\log \frac{p(z \mid x)\, p(x)}{q(z)}\right]
#   = \log p(x) - \mathbb E_q\!\left[\log \frac{q(z)}{p(z \mid x)}\right],$$
#
# so
#
# $$\log p(x) = \mathcal L(q) + D_{KL}\big(q(z) \,\|\, p(z \mid x)\big).$$
#
# This is an equality, for every $q$. Since a KL divergence is never
# negative, it gives the bound again, and it also names the gap: the ELBO
# falls short of $\log p(x)$ by exactly the KL from $q$ to the true posterior.
# Because $\log p(x)$ does not depend on $q$, maximising the ELBO over $q$ *is*
# minimising that KL: the encoder is trained to approximate the posterior,
# while the decoder, through the same objective, raises (a bound on) the
# likelihood.
#
# ## 4. A model where everything is exact
#
# Take a linear decoder with Gaussian noise,
#
# $$z \sim \mathcal N(0, I_J), \qquad x \mid z \sim \mathcal N(Wz + b,\ \sigma^2 I_D).$$
#
# Then $x = Wz + b + \sigma\nu$ with independent $\nu \sim \mathcal N(0, I_D)$,
# a sum of independent Gaussians, so its marginal is Gaussian with the summed
# covariances:
#
# $$p(x) = \mathcal N\big(x;\ b,\ WW^\top + \sigma^2 I_D\big).$$
#
# The posterior follows by completing the square. Up to terms free of $z$,
#
# $$\begin{aligned}
#   \log p(x \mid z) + \log p(z) &= -\frac{\|x - b - Wz\|^2}{2\sigma^2} - \frac{\|z\|^2}{2} \\
#   &= -\tfrac12 z^\top \Lambda z + z^\top \frac{W^\top (x - b)}{\sigma^2} + \text{const},
#   \qquad \Lambda = I_J + \frac{W^\top W}{\sigma^2},
# \end{aligned}$$
#
# so $p(z \mid x) = \mathcal N(\mu_{\text{post}}, \Lambda^{-1})$ with
# $\mu_{\text{post}} = \Lambda^{-1} W^\top (x - b)/\sigma^2$. The posterior is
# correlated whenever $W^\top W$ is not diagonal. Its entry
# $(W^\top W)_{jk} = w_j \cdot w_k$ is the inner product of two columns of
# $W$, so the posterior is correlated exactly when two columns are not
# orthogonal. Touching the same pixels is not enough: the columns $(1, 1)$ and
# $(1, -1)$ both move both pixels, are orthogonal, and give an uncorrelated
# posterior.
#
# We build one such model, with $D = 6$ "pixels" and $J = 2$ latents so that
# posteriors can be drawn, and columns of $W$ far from orthogonal. A second
# model has orthogonal columns of the same lengths: its posterior is not
# correlated. Each gets one observation $x$ drawn from it.

# %%
D, J, sigma = 6, 2, 0.5
Q = np.linalg.qr(rng.standard_normal((D, J)))[0]  # (D, J), orthonormal columns
A = np.array([[2.0, 0.8], [0.0, 1.5]])  # mixes the two directions: column 2 leans on column 1
W = Q @ A  # (D, J): WᵀW = AᵀA, not diagonal
W_orth = Q * np.linalg.norm(A, axis=0)  # (D, J): same column lengths, orthogonal columns
b = rng.standard_normal(D)
models = {}
for name, weights in [("correlated", W), ("uncorrelated", W_orth)]:
    x = weights @ rng.standard_normal(J) + b + sigma * rng.standard_normal(D)  # one draw from the model
    models[name] = (x, weights, b, sigma)

for name, model in models.items():
    mean, precision = lg.posterior(*model)
    cov = np.linalg.inv(precision)
    print(f"{name:12s}: log p(x) = {lg.log_evidence(*model):8.4f} nats, posterior mean {np.round(mean, 3)}, "
          f"posterior correlation {cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]):+.3f}")

# %% [markdown]
# Before trusting these closed forms, one check that ties them together
# without any ELBO: Bayes' rule says $\log p(x) = \log p(x, z) - \log p(z \mid x)$
# at *every* $z$. ``lg.log_joint`` computes the first term from the model's
# definition, the posterior's density the second, and ``lg.log_evidence``
# (through a Cholesky factor of $WW^\top + \sigma^2 I$) the left side.

# %%
model = models["correlated"]
x, _, _, _ = model
z_any = 3 * rng.standard_normal((1000, J))  # 1,000 arbitrary codes
mean, precision = lg.posterior(*model)
post_cov = np.linalg.inv(precision)
diff = z_any - mean
log_posterior = -0.5 * (J * np.log(2 * np.pi) + np.linalg.slogdet(post_cov)[1]
                        + np.einsum("kj,jl,kl->k", diff, precision, diff))  # (1000,)
bayes_residual = lg.log_joint(x, z_any, *model[1:]) - log_posterior - lg.log_evidence(*model)
print(f"max |log p(x,z) - log p(z|x) - log p(x)| over {len(z_any)} codes: {np.max(np.abs(bayes_residual)):.1e}")

# %% [markdown]
# The three formulas agree to round-off at every code we tried, so the
# closed forms are consistent. From here on $\log p(x)$ is a known number,
# and every bound can be measured against it.
#
# ## 5. The identity, checked for arbitrary $q$
#
# Let $q = \mathcal N(m, \operatorname{diag} e^{s})$, a diagonal Gaussian
# with mean $m$ and log-variance $s$ (numvae's ``log_var``), as a VAE encoder
# outputs. Its ELBO is closed form too. Write $z = m + d$ with
# $d = e^{s/2} \odot \varepsilon$, so $\mathbb E\,d = 0$ and $\operatorname{Cov} d = \operatorname{diag} e^{s}$:
# the cross term of $\|x - b - Wm - Wd\|^2$ has mean zero and
# $\mathbb E\|Wd\|^2 = \operatorname{tr}(W^\top W \operatorname{diag} e^{s}) = \sum_j (W^\top W)_{jj}\, e^{s_j}$, so
#
# $$\mathcal L(m, s) = -\frac D2 \log 2\pi\sigma^2
#   - \frac{\|x - b - Wm\|^2 + \sum_j (W^\top W)_{jj}\, e^{s_j}}{2\sigma^2}
#   - D_{KL}\big(q \,\|\, \mathcal N(0, I)\big).$$
#
# Both KL divergences this lecture needs are instances of the standard one
# from a Gaussian $q = \mathcal N(m, \operatorname{diag} e^{s})$ to a Gaussian
# $\mathcal N(\mu, \Lambda^{-1})$ with precision $\Lambda$, in $J$ dimensions:
#
# $$D_{KL}\big(q \,\|\, \mathcal N(\mu, \Lambda^{-1})\big) = \tfrac12\Big(\operatorname{tr}(\Lambda \operatorname{diag} e^{s})
#   + (m - \mu)^\top \Lambda (m - \mu) - J - \log\det\Lambda - \textstyle\sum_j s_j\Big).$$
#
# The KL from $q$ to the posterior is this formula with $\mu = \mu_{\text{post}}$
# and the posterior's $\Lambda$. The KL to the prior in the ELBO is the same
# formula with $\mu = 0$ and $\Lambda = I$: the trace is $\sum_j e^{s_j}$, the
# quadratic term $\|m\|^2$, and $\log\det I = 0$, so
#
# $$D_{KL}\big(q \,\|\, \mathcal N(0, I)\big) = \tfrac12 \sum_{j=1}^J \big(e^{s_j} + m_j^2 - 1 - s_j\big).$$
#
# Lecture 02 derives this one step by step and checks it against Monte Carlo;
# here we use it as a closed form.
#
# The ELBO and the KL to the posterior are computed by different formulas
# (``lg.elbo``, ``lg.kl_to_posterior``), and $\log p(x)$ by a third, so their
# sum is a real test. First, the closed-form ELBO against its definition, a
# Monte Carlo average of $\log p(x, z) - \log q(z)$ over draws
# $z = m + e^{s/2} \odot \varepsilon$; then the identity for a thousand random
# $q$, far from the posterior and near it.

# %%
m_try, s_try = np.array([0.3, -0.5]), np.array([-1.0, 0.5])
n_draws = 20_000 if FAST else 400_000
z_draws = m_try + np.exp(0.5 * s_try) * rng.standard_normal((n_draws, J))  # (n_draws, J): z = m + e^{s/2} ε
log_ratio = lg.log_joint(x, z_draws, *model[1:]) - log_normal(z_draws, m_try, s_try)  # (n_draws,)
mc_error = log_ratio.std() / np.sqrt(n_draws)
print(f"ELBO of one q: closed form {lg.elbo(*model, m_try, s_try):.4f}, Monte Carlo "
      f"{log_ratio.mean():.4f} +- {mc_error:.4f} ({n_draws:,} draws): "
      f"{(log_ratio.mean() - lg.elbo(*model, m_try, s_try)) / mc_error:+.1f} standard errors apart")

m_random = 3 * rng.standard_normal((1000, J))
s_random = rng.uniform(-6, 3, size=(1000, J))
elbos = np.array([lg.elbo(*model, m, s) for m, s in zip(m_random, s_random)])
gaps = np.array([lg.kl_to_posterior(*model, m, s) for m, s in zip(m_random, s_random)])
residual = lg.log_evidence(*model) - elbos - gaps
print(f"1,000 random q: ELBO from {elbos.min():.1f} to {elbos.max():.2f} nats, "
      f"KL to the posterior from {gaps.min():.2f} to {gaps.max():.1f} nats")
print(f"max |log p(x) - ELBO - KL(q || p(z|x))| = {np.max(np.abs(residual)):.1e} nats")

# %% [markdown]
# The closed-form ELBO and its Monte Carlo estimate differ by the printed
# number of standard errors (a few at most, as chance allows), and over
# ELBOs spread across the printed range, the identity holds to the printed
# residual: float64 round-off on numbers of that size, nothing else. The
# test suite asserts the same for random $W$, $b$, $\sigma$, $m$, $s$
# (``tests/test_linear_gaussian.py``, a Hypothesis property test).
#
# ## 6. Fitting $q$ by gradient ascent, and the gap a diagonal $q$ cannot close
#
# A VAE's encoder is trained by following the gradient of the ELBO. Here we
# fit the two vectors $m$ and $s$ directly, with the gradient of the closed
# form (``lg.elbo_backward``):
#
# $$\frac{\partial \mathcal L}{\partial m} = \frac{W^\top(x - b - Wm)}{\sigma^2} - m, \qquad
#   \frac{\partial \mathcal L}{\partial s_j} = -\frac{(W^\top W)_{jj}\, e^{s_j}}{2\sigma^2}
#   - \tfrac12\big(e^{s_j} - 1\big),$$
#
# The last term of each is minus the derivative of the KL to the prior of
# section 5, $\tfrac12\sum_j(e^{s_j} + m_j^2 - 1 - s_j)$, term by term:
#
# $$\frac{\partial D_{KL}}{\partial m_j} = m_j, \qquad
#   \frac{\partial D_{KL}}{\partial s_j} = \tfrac12\big(e^{s_j} - 1\big).$$
#
# As in lecture 00, the hand-written gradient is checked against central
# differences first.

# %%
m0, s0 = rng.standard_normal(J), rng.standard_normal(J)
d_m0, d_s0 = lg.elbo_backward(*model, m0, s0)
print(check_gradients(lambda: lg.elbo(*model, m0, s0), {"m": m0, "s": s0}, {"m": d_m0, "s": d_s0}).assert_close(1e-6))

# %% [markdown]
# Why can the gap not reach zero? The KL from a diagonal $q$ to the
# posterior (section 5) is minimised where its derivatives vanish: the
# quadratic term at $m = \mu_{\text{post}}$, and
# $\partial/\partial s_j = \tfrac12(\Lambda_{jj} e^{s_j} - 1) = 0$ at
# $e^{s_j} = 1/\Lambda_{jj}$. **The best diagonal $q$ has the posterior's
# mean, and precisions equal to the diagonal of the posterior precision**
# (``lg.best_diagonal``). What is left is
#
# $$D_{KL}(q^* \,\|\, p(z \mid x)) = \tfrac12\Big(\textstyle\sum_j \log\Lambda_{jj} - \log\det\Lambda\Big) \;\ge\; 0,$$
#
# zero exactly when $\Lambda$ is diagonal (Hadamard's inequality,
# $\det\Lambda \le \prod_j \Lambda_{jj}$). A correlated posterior is an
# ellipse tilted off the axes; an axis-aligned $q$ cannot tilt. Its variances
# $1/\Lambda_{jj}$ are the posterior's *conditional* variances, the variance
# of $z_j$ once the other coordinate is known, and these are smaller than the
# posterior's *marginal* variances $(\Lambda^{-1})_{jj}$: along each axis, $q$ is
# over-confident. It does not sit inside the ellipse, though. Along the
# posterior's short principal axis, $q$ is *wider* than the posterior. The
# direction KL$(q\,\|\,p)$ punishes $q$ for putting mass where $p$ has little,
# yet an axis-aligned ellipse cannot follow a tilted, narrow one; the best it
# can do is trade too wide across against too narrow along. The code prints
# both variances along both principal axes.
#
# We fit $q$ by plain gradient ascent, from $m = 0$, $s = 0$ (i.e. from
# $q$ = the prior), for both models,
#
# $$m \leftarrow m + \eta\, \frac{\partial \mathcal L}{\partial m}, \qquad
#   s \leftarrow s + \eta\, \frac{\partial \mathcal L}{\partial s},$$
#
# and record the gap, $\log p(x) - \mathcal L$, after every step. The step
# size $\eta$ comes from the curvature. In $m$ the ELBO is a quadratic with
# Hessian $-\Lambda$ (the gradient above is $W^\top(x - b)/\sigma^2 - \Lambda m$),
# so a step multiplies the distance to the optimum along each eigenvector of
# $\Lambda$, eigenvalue $\lambda$, by $1 - \eta\lambda$: it shrinks for
# $\eta < 2/\lambda_{\max}$, and without overshooting for $\eta \le 1/\lambda_{\max}$.
# In $s$, since $1 + (W^\top W)_{jj}/\sigma^2 = \Lambda_{jj}$, the gradient is
# $-\tfrac12(\Lambda_{jj} e^{s_j} - 1)$ and the curvature $\tfrac12 \Lambda_{jj} e^{s_j}$;
# on the way from $s_j = 0$ down to $s_j^* = -\log\Lambda_{jj}$ it is at most
# $\tfrac12\Lambda_{jj} \le \tfrac12\lambda_{\max}$. So $\eta = 1/\lambda_{\max}(\Lambda)$
# (printed) is safe for both. Near the optimum the curvature in $s$ is only
# $\tfrac12$, and each step removes a fraction $\eta/2$ of the distance left,
# 2 to 3 % here: that slow direction sets the number of steps. (A VAE cannot
# compute its curvature; lecture 03 trains it with Adam, which adapts the step
# to each parameter.)

# %%
n_steps = 400 if FAST else 1500
fits = {}
for name, problem in models.items():
    _, precision = lg.posterior(*problem)
    step_size = 1 / np.linalg.eigvalsh(precision)[-1]  # 1/lambda_max(Lambda): no overshoot in m or in s
    m, s = np.zeros(J), np.zeros(J)  # q = the prior
    gap_history = []
    for step in range(n_steps):
        d_m, d_s = lg.elbo_backward(*problem, m, s)
        m += step_size * d_m  # ascent: the ELBO goes up
        s += step_size * d_s
        gap_history.append(lg.log_evidence(*problem) - lg.elbo(*problem, m, s))
    m_best, s_best = lg.best_diagonal(*problem)
    floor = 0.5 * (np.sum(np.log(np.diag(precision))) - np.linalg.slogdet(precision)[1])
    fits[name] = (m.copy(), s.copy(), np.array(gap_history), floor)
    print(f"{name:12s}: eigenvalues of Lambda {np.round(np.linalg.eigvalsh(precision), 2)}, "
          f"step size eta = 1/lambda_max = {step_size:.4f}")
    print(f"{'':12s}  gap after {n_steps} steps {gap_history[-1]:.3e} nats; "
          f"KL(best diagonal q || posterior) = {lg.kl_to_posterior(*problem, m_best, s_best):.3e}, "
          f"1/2(sum log diag(Lambda) - log det Lambda) = {floor:.3e}")
    print(f"{'':12s}  fitted vs best diagonal q: max |m - m*| = {np.max(np.abs(m - m_best)):.1e}, "
          f"max |s - s*| = {np.max(np.abs(s - s_best)):.1e}; "
          f"fitted variances {np.round(np.exp(s), 4)}, 1/diag(Lambda) {np.round(1 / np.diag(precision), 4)}, "
          f"posterior marginal variances {np.round(np.diag(np.linalg.inv(precision)), 4)}")
    axis_variances, axes_post = np.linalg.eigh(np.linalg.inv(precision))  # ascending: short axis first
    q_variances = np.einsum("jk,j,jk->k", axes_post, np.exp(s), axes_post)  # vᵀ diag(e^s) v for each axis v
    print(f"{'':12s}  along the posterior's short / long axis: posterior variance {np.round(axis_variances, 3)}, "
          f"q's variance {np.round(q_variances, 3)}")

# %% [markdown]
# For the correlated model, gradient ascent stops at the printed gap, equal
# to the closed-form floor, and lands on the closed-form optimum. The
# distances to $m^*$, $s^*$ are round-off: $s$ stops moving once a step
# $\eta\,\partial\mathcal L/\partial s_j$ is smaller than half a unit in the
# last place of $s_j$ (about $2 \cdot 10^{-16}$ for $|s_j| \approx 2.8$), which
# leaves $s$ some $10^{-14}$ from $s^*$. Its variances along the axes are
# $1/\Lambda_{jj}$ (0.0588 and 0.0796), smaller than the posterior's marginal
# variances (0.0728 and 0.0985): read along $z_1$ or $z_2$, the fitted $q$ is
# over-confident. Along the posterior's principal axes the picture is mixed:
# along the long axis $q$ is far too narrow (0.073 against 0.125), along the
# short axis it is too wide (0.066 against 0.046). For the uncorrelated model
# the same gradient ascent drives the gap to round-off (the printed
# $-9 \cdot 10^{-16}$ is one unit in the last place of $\log p(x) \approx -5.4$;
# a difference at round-off can come out negative): with a diagonal
# posterior, a diagonal $q$ can be exact.

# %%
# A gap is a difference of two numbers of size |log p(x)|: below a few units in
# their last place it is round-off, and it jumps between 0 and ±1e-15. Each
# curve stops where it first enters that band.
round_off = 10 * np.finfo(float).eps * max(abs(lg.log_evidence(*problem)) for problem in models.values())
fig = Figure(figsize=(14, 4.6), layout="constrained")
axes = fig.subplots(1, 3)
for (name, (m, s, gap_history, floor)), color in zip(fits.items(), ["C0", "C2"]):
    below = np.flatnonzero(gap_history < round_off)
    shown_steps = below[0] if len(below) else n_steps
    axes[0].semilogy(np.arange(1, shown_steps + 1), gap_history[:shown_steps], color=color, lw=2,
                     label=f"{name}: log p(x) − ELBO")
    if floor > 0:
        axes[0].axhline(floor, color=color, ls="--", lw=1, label=f"{name}: closed-form floor")
    if len(below):
        print(f"{name}: the gap reaches float64 round-off ({round_off:.0e} nats) at step {shown_steps + 1}")
axes[0].axhspan(1e-17, round_off, color="0.8", label="float64 round-off")
axes[0].set_xlabel("gradient-ascent step", fontsize=12)
axes[0].set_ylabel("gap (nats)", fontsize=12)
axes[0].set_title("Fitting a diagonal q", fontsize=13)
axes[0].set_ylim(1e-16, None)
axes[0].grid(alpha=0.3, which="both")
axes[0].legend(fontsize=9)

for ax, (name, problem) in zip(axes[1:], models.items()):
    mean, precision = lg.posterior(*problem)
    post_cov = np.linalg.inv(precision)
    m, s, _, _ = fits[name]
    spread = 3.2 * np.sqrt(np.max(np.diag(post_cov)))
    grid = np.meshgrid(np.linspace(mean[0] - spread, mean[0] + spread, 200),
                       np.linspace(mean[1] - spread, mean[1] + spread, 200))
    z_grid = np.stack(grid, axis=-1)  # (200, 200, J)
    log_post = lg.log_joint(problem[0], z_grid, *problem[1:]) - lg.log_evidence(*problem)  # log p(z|x)
    ax.contourf(grid[0], grid[1], np.exp(log_post), levels=12, cmap="Blues")
    values, vectors = np.linalg.eigh(post_cov)
    for k, style in [(1, "-"), (2, ":")]:  # 1 and 2 standard deviations; q first, so the posterior shows on top
        ax.add_patch(Ellipse(m, 2 * k * np.exp(0.5 * s[0]), 2 * k * np.exp(0.5 * s[1]),
                             fill=False, color="C3", ls=style, lw=3))
        ax.add_patch(Ellipse(mean, 2 * k * np.sqrt(values[1]), 2 * k * np.sqrt(values[0]),
                             angle=np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])),
                             fill=False, color="k", ls=style, lw=1.2))
    ax.plot(*mean, "k+", ms=12)
    ax.plot([], [], "k-", label="posterior p(z|x), 1 and 2 sd")
    ax.plot([], [], "C3-", label="fitted diagonal q, 1 and 2 sd")
    ax.set_xlabel("$z_1$", fontsize=12)
    ax.set_ylabel("$z_2$", fontsize=12)
    ax.set_title(f"{name} posterior", fontsize=13)
    ax.set_aspect("equal")
    ax.legend(fontsize=9, loc="upper right")
save(fig, "01_fit_diagonal_q.png")

# %% [markdown]
# Left: the gap during fitting, on a log scale. The correlated curve (blue)
# drops within about a hundred steps onto its dashed closed-form floor and
# stays there. The uncorrelated one (green) falls along a straight line, the
# same factor every step, set by the slow direction $s$ (its distance to $s^*$
# shrinks by $1 - \eta/2$ per step, and the gap with its square), until it
# reaches the grey band of float64 round-off at the printed step (517), where
# it is no longer drawn. Middle: the
# correlated posterior is a tilted ellipse (black, filled contours), and the
# best axis-aligned $q$ (red) is a near-circle on the same centre, matching
# the posterior's *conditional* widths rather than its marginal ones. Look
# where the two cross: $q$ falls short of the black ellipse towards the upper
# left and lower right (the posterior's long axis), and pokes out of it
# towards the lower left and upper right (the short axis), the two printed
# variances along the axes. Right: the posterior with orthogonal decoder
# columns is axis-aligned, and $q$ covers it exactly.
#
# In a VAE the same limitation has a name, the *approximation gap*: even a
# perfect encoder with a diagonal Gaussian cannot reach $\log p(x)$ when the
# decoder makes the posterior correlated. (A second gap, the *amortization
# gap*, comes from one encoder network predicting $q$ for all images at once;
# here $m$ and $s$ are fitted for one $x$, so it is zero.)
#
# ## 7. The importance-weighted bound $\mathcal L_K$
#
# Draw $K$ codes $z_k \sim q$ and average the weights
# $w_k = p(x, z_k)/q(z_k)$ *before* taking the log:
#
# $$\mathcal L_K = \log \frac1K \sum_{k=1}^K w_k .$$
#
# **It is a lower bound.** Each weight has $\mathbb E_q[w_k] = \int p(x, z)\,dz = p(x)$,
# so their mean does too, and Jensen's inequality (log is concave) gives
# $\mathbb E[\mathcal L_K] \le \log \mathbb E\big[\tfrac1K\sum_k w_k\big] = \log p(x)$.
# For $K = 1$, $\mathbb E[\mathcal L_1] = \mathbb E_q[\log w] = \mathcal L(q)$, the ELBO.
#
# **It grows with $K$.** For $M < K$, the mean of $K$ weights is the average,
# over all subsets $I$ of $M$ indices chosen uniformly, of the subset means:
# $\tfrac1K\sum_k w_k = \mathbb E_I\big[\tfrac1M \sum_{i \in I} w_i\big]$.
# Jensen again, now over $I$:
# $\mathbb E[\mathcal L_K] = \mathbb E\big[\log \mathbb E_I[\tfrac1M\sum_{i\in I} w_i]\big]
# \ge \mathbb E\big[\mathbb E_I \log \tfrac1M\sum_{i\in I} w_i\big] = \mathbb E[\mathcal L_M]$,
# since each subset of $M$ independent draws is itself a set of $M$ independent draws.
#
# **It tends to $\log p(x)$, under a condition.** As $K \to \infty$ the mean of
# the weights tends to $p(x)$ (law of large numbers), so each draw of
# $\mathcal L_K$ tends to $\log p(x)$. That its *expectation* follows needs
# more: Burda et al.'s theorem 1 assumes the weights $p(x, z)/q(z)$ are
# bounded. Here $\log w = \log p(z \mid x) - \log q(z) + \log p(x)$ is a quadratic
# in $z$ with curvature $-(\Lambda - \operatorname{diag} e^{-s})$, so the weights are
# bounded when $\Lambda - \operatorname{diag}(e^{-s})$ is positive definite, i.e. when
# $q$ is wider than the posterior in every direction, and unbounded when it
# has a negative eigenvalue. The prior qualifies
# ($\Lambda - I = W^\top W/\sigma^2$). The fitted diagonal $q$ does not: along
# the posterior's long axis it is too narrow (section 6), and there the
# weights grow without bound.
#
# What the fitted $q$ has instead is weights of finite variance, and that is
# what sets the speed. Their relative variance is
# $\chi^2 = \operatorname{Var}(w)/p(x)^2 = \int p(z \mid x)^2/q(z)\,dz - 1$, finite only if
# $q$ is not too narrow: the integrand is a Gaussian with precision
# $2\Lambda - \operatorname{diag}(e^{-s})$, which must be positive definite.
# For the best diagonal $q$ that is $2\Lambda - \operatorname{diag}\Lambda$; in
# two dimensions it fails once the posterior correlation exceeds ½ in
# size, and then $\mathcal L_K$ creeps up erratically. Our model's correlation
# (printed in section 4) stays below that; the smallest eigenvalue is printed.
# With $q$ centred on the posterior mean the integral is closed form,
# $\chi^2 + 1 = \det\Lambda\,\prod_j e^{s_j/2} \big/ \det\big(2\Lambda - \operatorname{diag} e^{-s}\big)^{1/2}$,
# and a second-order expansion of the log around $p(x)$ (the delta method)
# predicts the distance left for large $K$:
#
# $$\log p(x) - \mathbb E[\mathcal L_K] \approx \frac{\chi^2}{2K}$$
#
# (Domke & Sheldon, "Importance Weighting and Variational Inference", 2018,
# make this precise under moment conditions of this kind).
#
# We estimate $\mathbb E[\mathcal L_K]$ for $K$ from 1 to 10,000 by repeating
# the draw many times (mean ± standard error over repeats), with two
# proposals $q$: the fitted diagonal $q$ of section 6, and the simplest
# baseline, the prior $p(z)$ itself ($\mathcal L_K$ is then the naive
# Monte Carlo estimate of $\int p(x \mid z)\,p(z)\,dz$ from section 1). As a
# third check, with the exact posterior as proposal every weight equals
# $p(x)$, so $\mathcal L_K = \log p(x)$ for every draw.

# %%
post_precision = lg.posterior(*model)[1]
m_fit, s_fit, _, _ = fits["correlated"]
for label, s in [("fitted diagonal q", s_fit), ("prior N(0, I)", np.zeros(J))]:
    print(f"{label}: smallest eigenvalue of Lambda - diag(exp(-s)) "
          f"{np.linalg.eigvalsh(post_precision - np.diag(np.exp(-s)))[0]:+.2f} (bounded weights if > 0)")
weight_precision = 2 * post_precision - np.diag(np.exp(-s_fit))
print(f"fitted diagonal q: smallest eigenvalue of 2 Lambda - diag(exp(-s)) {np.linalg.eigvalsh(weight_precision)[0]:.2f} "
      "(> 0: the weights have finite variance)")
chi2 = np.linalg.det(post_precision) * np.exp(0.5 * s_fit.sum()) / np.sqrt(np.linalg.det(weight_precision)) - 1
print(f"fitted diagonal q: relative variance of the weights chi^2 = {chi2:.3f}")
ks = np.array([1, 3, 10, 30, 100, 300, 1000] if FAST else [1, 3, 10, 30, 100, 300, 1000, 3000, 10000])
n_repeats = 30 if FAST else 200
log_px = lg.log_evidence(*model)
proposals = {"fitted diagonal q": (m_fit, s_fit), "prior N(0, I)": (np.zeros(J), np.zeros(J))}
bounds = {}
for label, (m, s) in proposals.items():
    estimates = np.empty((len(ks), n_repeats))  # one L_K per repeat
    for i, k in enumerate(ks):
        z = m + np.exp(0.5 * s) * rng.standard_normal((n_repeats, k, J))  # (repeats, K, J), z ~ q
        log_w = lg.log_joint(x, z, *model[1:]) - log_normal(z, m, s)  # (repeats, K)
        estimates[i] = log_mean_exp(log_w, axis=1)
    bounds[label] = estimates
    elbo_q = lg.elbo(*model, m, s)
    print(f"{label}: ELBO {elbo_q:.4f} (log p(x) - ELBO = {log_px - elbo_q:.4f}), log p(x) = {log_px:.4f}")
    print(f"   mean of L_K over {n_repeats} repeats +- its standard error; z = (mean - log p(x)) / s.e.")
    for i, k in enumerate(ks):
        standard_error = estimates[i].std() / np.sqrt(n_repeats)
        predicted = f"   chi^2/2K = {chi2 / (2 * k):.4f}" if label == "fitted diagonal q" else ""
        print(f"   K = {k:5d}: L_K = {estimates[i].mean():9.4f} +- {standard_error:.4f}"
              f"   log p(x) - L_K = {log_px - estimates[i].mean():8.4f}   z = {(estimates[i].mean() - log_px) / standard_error:+5.1f}"
              + predicted)

post_mean, post_precision = lg.posterior(*model)
z_post = post_mean + rng.standard_normal((1000, J)) @ np.linalg.cholesky(np.linalg.inv(post_precision)).T
post_cov = np.linalg.inv(post_precision)
diff = z_post - post_mean
log_q_post = -0.5 * (J * np.log(2 * np.pi) + np.linalg.slogdet(post_cov)[1]
                     + np.einsum("kj,jl,kl->k", diff, post_precision, diff))
log_w_post = lg.log_joint(x, z_post, *model[1:]) - log_q_post
print(f"exact posterior as q: every log w - log p(x) within {np.max(np.abs(log_w_post - log_px)):.1e}")

# %%
fig = Figure(figsize=(13, 4.8), layout="constrained")
axes = fig.subplots(1, 2)
for ax, shown in [(axes[0], list(bounds)), (axes[1], ["fitted diagonal q"])]:
    lowest = log_px
    for label, color in zip(bounds, ["C3", "C1"]):
        if label not in shown:
            continue
        estimates = bounds[label]
        means, half_widths = estimates.mean(axis=1), 2 * estimates.std(axis=1) / np.sqrt(n_repeats)
        ax.errorbar(ks, means, yerr=half_widths, fmt="o-", color=color, capsize=3, lw=2,
                    label=rf"mean of {n_repeats} $\mathcal{{L}}_K$, proposal: {label} (±2 s.e.)")
        ax.axhline(lg.elbo(*model, *proposals[label]), color=color, ls=":", lw=1.5, label=f"ELBO of the {label}")
        lowest = min(lowest, np.min(means - half_widths), lg.elbo(*model, *proposals[label]))
    if shown == ["fitted diagonal q"]:
        k_fine = np.geomspace(10, ks[-1], 100)  # the expansion holds for large K only
        ax.plot(k_fine, log_px - chi2 / (2 * k_fine), "k--", lw=1.2, label=r"$\log p(x) - \chi^2/2K$ (delta method)")
    ax.axhline(log_px, color="k", lw=1.5, label=r"exact $\log p(x)$")
    ax.set_xscale("log")
    margin = 0.08 * (log_px - lowest)  # every error bar in full, with room above log p(x) for the scatter
    ax.set_ylim(lowest - margin, log_px + 3 * margin)
    ax.set_xlabel("K, importance samples", fontsize=12)
    ax.set_ylabel("nats", fontsize=12)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9, loc="lower right")
axes[0].set_title(r"$\mathcal{L}_K$ climbs to $\log p(x)$", fontsize=14)
axes[1].set_title("the same, fitted q only, zoomed in", fontsize=14)
save(fig, "01_iw_bound.png")

# %% [markdown]
# Right, the fitted $q$ as proposal (red): each point is the mean of the
# printed number of independent draws of $\mathcal L_K$, with ±2 standard
# errors. $\mathcal L_1$ estimates the ELBO (dotted), and the points climb
# towards $\log p(x)$ (black) along the delta-method curve (dashed). From
# $K \approx 30$ on, the distance still to close, $\chi^2/2K$ (printed), is
# smaller than the standard error of the mean, so the means land on both sides
# of the line. A mean above $\log p(x)$, like the one at $K = 300$, is not a
# bound that failed: it is the Monte Carlo error of an average of 200 draws,
# and its printed $z$ (standard errors above $\log p(x)$) is what chance gives
# among nine points; its ±2 s.e. bar crosses the line. The bound
# holds for the *expectation* $\mathbb E[\mathcal L_K]$; a single draw, or a
# finite average of draws, can exceed it. Left, the prior as proposal (orange): it starts from a far lower ELBO
# (printed), since $D_{KL}(p(z)\,\|\,p(z \mid x))$ is large, and
# $\mathcal L_1$ is very noisy because most draws from the prior land where
# $p(x \mid z)$ is tiny. With $J = 2$ a few hundred draws still cover the
# small posterior; the fraction of prior draws that land inside it shrinks
# exponentially with $J$, which is why a VAE with 20 latents needs an
# encoder. With the exact posterior as proposal, every weight is $p(x)$ to
# round-off: no gap at all, even with one sample.
#
# Lecture 03 computes the same $\mathcal L_K$ for a trained VAE, where
# $\log p(x)$ is unknown. What this lecture shows is what that number means:
# the ELBO is short of $\log p(x)$ by the KL from the encoder's $q$ to the
# true posterior, $\mathcal L_K$ closes part of that gap, and the part a
# diagonal $q$ can never close comes from correlations in the posterior.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the log-mean-exp and the importance-weighted bound of this lecture
# yourself, then check it (`numvae exercises hint lecture01 NAME` gives a hint at a
# time, from what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture01 --only iw_bound
# numvae exercises check lecture01
# ```
#
# **Questions.**
#
# 1. Jensen's inequality gave ELBO ≤ log p(x). Which inequality between the
#    mean of the log-weights and $\mathcal L_K$ does the same argument give for
#    one draw of $K$ samples, and when is it an equality?
# 2. The gap log p(x) − ELBO is a KL. From which distribution to which? Why can
#    a diagonal $q$ not close it for the linear-Gaussian model of this lecture?
#
# **Numerical questions**, graded by `numvae exercises check lecture01 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `elbo_q1`: Two importance samples have log-weights −1 and −3. What is
#   $\mathcal L_2 = \log \tfrac12(w_1 + w_2)$?
# - `elbo_q2`: For the same two samples, what is the average of the
#   log-weights? Compare with `elbo_q1`.
