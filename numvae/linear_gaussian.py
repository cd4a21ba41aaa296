r"""The linear-Gaussian latent variable model, where everything is exact.

.. math::
    z \sim \mathcal N(0, I_J), \qquad x \mid z \sim \mathcal N(W z + b,\ \sigma^2 I_D),

with ``W`` of shape (D, J), ``b`` of shape (D,) and a noise standard deviation
σ > 0. It is the VAE with a linear decoder and a Gaussian likelihood (and,
at its optimum, probabilistic PCA: Tipping & Bishop 1999). Unlike a VAE with
a neural decoder, its evidence and its posterior have closed forms, so the
ELBO, its gap and the importance-weighted bound can all be compared with the
exact :math:`\log p(x)` (lecture 01).

* Evidence: :math:`x = Wz + b + \sigma\nu` with :math:`\nu \sim \mathcal N(0, I_D)`
  independent of z is a sum of independent Gaussians, so
  :math:`p(x) = \mathcal N(x;\ b,\ C)` with :math:`C = W W^\top + \sigma^2 I_D`.
* Posterior: :math:`\log p(z \mid x) = \log p(x \mid z) + \log p(z) + \text{const}`
  is quadratic in z; completing the square gives
  :math:`p(z \mid x) = \mathcal N(\mu_{\text{post}}, \Lambda^{-1})` with precision
  :math:`\Lambda = I_J + W^\top W / \sigma^2` and mean
  :math:`\mu_{\text{post}} = \Lambda^{-1} W^\top (x - b) / \sigma^2`.

Approximate posteriors are diagonal, as in a VAE:
:math:`q(z) = \mathcal N(m, \operatorname{diag} e^{s})`, with ``s`` = log_var
(numvae's one parameterization, see ``numvae.gaussian``).

Functions take one example ``x`` of shape (D,); all are pure, float64 NumPy,
and import nothing from the neural-network engine.
"""

import numpy as np

from .util import checks
from .gaussian import LOG_2PI, kl_standard_normal, kl_standard_normal_backward


def _check_model(x, W, b, sigma):
    """Refuse, by name, arguments that would give a wrong number or a NumPy error naming none.

    σ must be finite and > 0: the formulas use only σ², so a negative σ would pass unnoticed,
    and σ = 0 makes C singular. Returns J.
    """
    checks.real("sigma", sigma, minimum=0, strict=True)
    if np.ndim(x) != 1:
        raise ValueError(f"x: expected one example of shape (D,), got shape {np.shape(x)}")
    D = np.shape(x)[0]
    if np.ndim(W) != 2 or np.shape(W)[0] != D:
        raise ValueError(f"W: expected shape ({D}, J) for x of shape ({D},), got shape {np.shape(W)}")
    if np.shape(b) != (D,):
        raise ValueError(f"b: expected shape ({D},) like x, got shape {np.shape(b)}")
    return np.shape(W)[1]


def _check_q(J, m, s):
    """``m`` and ``s`` of q: one mean and one log-variance per latent dimension."""
    for name, value in (("m", m), ("s", s)):
        if np.shape(value) != (J,):
            raise ValueError(f"{name}: expected shape ({J},), one per column of W, got shape {np.shape(value)}")


def log_evidence(x, W, b, sigma):
    r"""Exact :math:`\log p(x) = \log \mathcal N(x;\ b,\ W W^\top + \sigma^2 I)`.

    .. math::
        \log p(x) = -\tfrac12\left(D \log 2\pi + \log\det C + (x - b)^\top C^{-1} (x - b)\right),
        \qquad C = W W^\top + \sigma^2 I_D,

    computed through the Cholesky factor :math:`C = L L^\top`
    (:math:`\log\det C = 2 \sum_d \log L_{dd}`).

    Parameters
    ----------
    x, b : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    sigma : float > 0

    Returns
    -------
    float, in nats.
    """
    _check_model(x, W, b, sigma)
    D = x.shape[0]
    L = np.linalg.cholesky(W @ W.T + sigma**2 * np.eye(D))  # (D, D)
    r = np.linalg.solve(L, x - b)  # (D,): L⁻¹(x − b), so rᵀr = (x − b)ᵀC⁻¹(x − b)
    return float(-0.5 * (D * LOG_2PI + 2 * np.sum(np.log(np.diag(L))) + r @ r))


def log_joint(x, z, W, b, sigma):
    r""":math:`\log p(x, z) = \log \mathcal N(x;\ Wz + b,\ \sigma^2 I) + \log \mathcal N(z;\ 0, I)`.

    Parameters
    ----------
    x, b : ndarray, shape (D,)
    z : ndarray, shape (..., J)
        Any number of codes, e.g. (K, J) for K importance samples.
    W : ndarray, shape (D, J)
    sigma : float > 0

    Returns
    -------
    ndarray, shape (...), in nats.
    """
    J = _check_model(x, W, b, sigma)
    if np.shape(z)[-1:] != (J,):
        raise ValueError(f"z: expected shape (..., {J}), one value per column of W, got shape {np.shape(z)}")
    D = x.shape[0]
    residual = x - b - z @ W.T  # (..., D)
    log_px_z = -0.5 * (D * (LOG_2PI + np.log(sigma**2)) + np.sum(residual**2, axis=-1) / sigma**2)
    return log_px_z - 0.5 * np.sum(LOG_2PI + z * z, axis=-1)


def posterior(x, W, b, sigma):
    r"""The exact posterior :math:`p(z \mid x) = \mathcal N(\mu_{\text{post}}, \Lambda^{-1})`.

    .. math::
        \Lambda = I_J + \frac{W^\top W}{\sigma^2}, \qquad
        \mu_{\text{post}} = \Lambda^{-1} \frac{W^\top (x - b)}{\sigma^2}.

    Derivation: up to terms free of z,
    :math:`\log p(x \mid z) + \log p(z) = -\frac{\|x - b - Wz\|^2}{2\sigma^2} - \frac{\|z\|^2}{2}
    = -\tfrac12 z^\top \Lambda z + z^\top W^\top (x - b)/\sigma^2`,
    which is :math:`-\tfrac12 (z - \mu_{\text{post}})^\top \Lambda (z - \mu_{\text{post}})`
    plus a constant. It is correlated (Λ not diagonal) unless the columns of W
    are orthogonal.

    Parameters
    ----------
    x, b : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    sigma : float > 0

    Returns
    -------
    mean : ndarray, shape (J,)
    precision : ndarray, shape (J, J)
        Λ; the covariance is its inverse.
    """
    _check_model(x, W, b, sigma)
    precision = np.eye(W.shape[1]) + W.T @ W / sigma**2  # (J, J)
    mean = np.linalg.solve(precision, W.T @ (x - b) / sigma**2)  # (J,)
    return mean, precision


def elbo(x, W, b, sigma, m, s):
    r"""Exact ELBO of :math:`q = \mathcal N(m, \operatorname{diag} e^{s})`.

    .. math::
        \mathcal L(q) = \mathbb E_q[\log p(x \mid z)] - D_{KL}(q \,\|\, \mathcal N(0, I)),

    .. math::
        \mathbb E_q[\log p(x \mid z)] = -\frac D2 \log 2\pi\sigma^2
        - \frac{1}{2\sigma^2}\Big(\|x - b - W m\|^2 + \sum_j (W^\top W)_{jj}\, e^{s_j}\Big).

    Derivation of the middle term: with :math:`z = m + d`, :math:`d = e^{s/2} \odot \varepsilon`,
    so :math:`\mathbb E\,d = 0` and :math:`\operatorname{Cov} d = \operatorname{diag} e^{s}`,
    :math:`\mathbb E\|x - b - Wz\|^2 = \|x - b - Wm\|^2 + \mathbb E\|W d\|^2`
    (the cross term has mean 0), and
    :math:`\mathbb E\|W d\|^2 = \operatorname{tr}(W^\top W \operatorname{diag} e^{s})`.
    The KL is :func:`numvae.gaussian.kl_standard_normal`.

    Parameters
    ----------
    x, b : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    sigma : float > 0
    m, s : ndarray, shape (J,)
        Mean and log-variance (log_var) of q.

    Returns
    -------
    float, in nats.
    """
    _check_q(_check_model(x, W, b, sigma), m, s)
    D = x.shape[0]
    residual = x - b - W @ m  # (D,)
    spread = np.sum(np.sum(W * W, axis=0) * np.exp(s))  # Σ_j (WᵀW)_jj e^{s_j}
    expected_log_lik = -0.5 * D * (LOG_2PI + np.log(sigma**2)) - (residual @ residual + spread) / (2 * sigma**2)
    return float(expected_log_lik - kl_standard_normal(m, s))


def elbo_backward(x, W, b, sigma, m, s):
    r"""Gradient of :func:`elbo` with respect to the parameters m and s of q.

    .. math::
        \frac{\partial \mathcal L}{\partial m} = \frac{W^\top (x - b - W m)}{\sigma^2} - m, \qquad
        \frac{\partial \mathcal L}{\partial s_j} = -\frac{(W^\top W)_{jj}\, e^{s_j}}{2\sigma^2}
        - \tfrac12 (e^{s_j} - 1),

    the KL's part coming from :func:`numvae.gaussian.kl_standard_normal_backward`.

    Parameters
    ----------
    x, b : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    sigma : float > 0
    m, s : ndarray, shape (J,)

    Returns
    -------
    d_m, d_s : ndarray, shape (J,)
        Gradients of the ELBO (to *ascend*; an optimizer that minimises takes
        their negatives).
    """
    _check_q(_check_model(x, W, b, sigma), m, s)
    kl_d_m, kl_d_s = kl_standard_normal_backward(1.0, m, s)
    d_m = W.T @ (x - b - W @ m) / sigma**2 - kl_d_m
    d_s = -np.sum(W * W, axis=0) * np.exp(s) / (2 * sigma**2) - kl_d_s
    return d_m, d_s


def kl_to_posterior(x, W, b, sigma, m, s):
    r""":math:`D_{KL}(q \,\|\, p(z \mid x))` for :math:`q = \mathcal N(m, \operatorname{diag} e^{s})`.

    For Gaussians in J dimensions, with the posterior's precision Λ,

    .. math::
        D_{KL} = \tfrac12\Big(\operatorname{tr}(\Lambda \operatorname{diag} e^{s})
        + (m - \mu_{\text{post}})^\top \Lambda (m - \mu_{\text{post}})
        - J - \log\det\Lambda - \textstyle\sum_j s_j\Big).

    Computed independently of :func:`elbo`, so that
    :math:`\log p(x) = \mathcal L(q) + D_{KL}(q \,\|\, p(z|x))` is a real check.

    Returns
    -------
    float, in nats.
    """
    _check_q(_check_model(x, W, b, sigma), m, s)
    mean, precision = posterior(x, W, b, sigma)
    diff = m - mean  # (J,)
    _, log_det = np.linalg.slogdet(precision)
    trace = np.sum(np.diag(precision) * np.exp(s))
    return float(0.5 * (trace + diff @ precision @ diff - m.shape[0] - log_det - np.sum(s)))


def best_diagonal(x, W, b, sigma):
    r"""The diagonal q that maximises the ELBO: the posterior mean, precisions :math:`\Lambda_{jj}`.

    Minimising the KL of :func:`kl_to_posterior` over m and s: the quadratic
    term vanishes at :math:`m = \mu_{\text{post}}`, and
    :math:`\partial/\partial s_j = \tfrac12(\Lambda_{jj} e^{s_j} - 1) = 0` gives
    :math:`e^{s_j} = 1/\Lambda_{jj}`. The gap left over is

    .. math::
        D_{KL}(q^* \,\|\, p(z|x)) = \tfrac12\Big(\textstyle\sum_j \log \Lambda_{jj} - \log\det\Lambda\Big) \ge 0,

    zero exactly when Λ is diagonal (Hadamard's inequality): a diagonal q
    cannot represent a correlated posterior, and it pays with variances
    :math:`1/\Lambda_{jj}` *smaller* than the posterior's marginal variances
    :math:`(\Lambda^{-1})_{jj}`.

    Returns
    -------
    m, s : ndarray, shape (J,)
    """
    mean, precision = posterior(x, W, b, sigma)
    return mean, -np.log(np.diag(precision))


# --------------------------------------------------------------------------
# With a label: the linear-Gaussian M2, p(x) an exact mixture
# --------------------------------------------------------------------------


def labelled_log_evidence(x, W, B, sigma):
    r"""Exact :math:`\log p(x)` of the model with a label: one offset per class.

    .. math::
        y \sim \mathrm{Uniform}\{1..K\}, \quad z \sim \mathcal N(0, I_J), \quad
        x \mid y, z \sim \mathcal N(W z + b_y,\ \sigma^2 I_D),

    M2 with a linear decoder whose class enters as an offset. Given y it is the
    model above, so :math:`p(x \mid y) = \mathcal N(x;\ b_y,\ C)` and

    .. math::
        \log p(x) = \log \tfrac1K \sum_y p(x \mid y)
        = \operatorname{logsumexp}_y \log \mathcal N(x;\ b_y,\ C) - \log K.

    Parameters
    ----------
    x : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    B : ndarray, shape (K, D), the offsets :math:`b_y`, one row per class
    sigma : float > 0

    Returns
    -------
    float, in nats.
    """
    per_class = np.array([log_evidence(x, W, b, sigma) for b in B])  # (K,): log p(x | y)
    top = per_class.max()
    return float(top + np.log(np.mean(np.exp(per_class - top))))


def labelled_losses(x, W, B, sigma, M, S):
    r"""M2's labelled loss :math:`L(x, y) = -\mathcal L(q_y) + \log K` for every class, exactly.

    :math:`\mathcal L(q_y)` is :func:`elbo` of :math:`q(z|x,y) = \mathcal N(m_y, \operatorname{diag} e^{s_y})`
    in the model given y (offset :math:`b_y`), and :math:`\log K = -\log p(y)`;
    so :math:`L(x, y) \ge -\log p(x, y)`, equal when :math:`q(z|x,y) = p(z|x,y)`.

    Parameters
    ----------
    x : ndarray, shape (D,)
    W : ndarray, shape (D, J)
    B : ndarray, shape (K, D)
    sigma : float > 0
    M, S : ndarray, shape (K, J), the mean and log-variance of q(z|x,y) for each class

    Returns
    -------
    ndarray, shape (K,), in nats.
    """
    return np.array([-elbo(x, W, b, sigma, m, s) for b, m, s in zip(B, M, S)]) + np.log(len(B))
