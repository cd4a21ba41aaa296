r"""The Gaussian pieces of a VAE: reparameterization, KL divergence, log densities.

One parameterization is used throughout numvae:

.. math::
    \text{log\_var} = \log \sigma^2, \qquad \text{std} = \sigma = \exp(\tfrac12\,\text{log\_var}).

The encoder outputs ``mu`` and ``log_var`` (any real number, so no positivity
constraint is needed) for q(z|x) = N(mu, diag(exp(log_var))).

All functions are pure: arrays of shape (batch, latent_dim) in, arrays out.
Reference: D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes",
ICLR 2014 (arXiv:1312.6114), section 2.4 and appendix B.
"""

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))

# --------------------------------------------------------------------------
# Reparameterization: z = mu + std * eps
# --------------------------------------------------------------------------


def reparameterize(mu, log_var, eps):
    r"""Draw z ~ N(mu, exp(log_var)) as a differentiable function of (mu, log_var).

    .. math::
        z = \mu + \sigma \odot \varepsilon, \qquad
        \sigma = \exp(\tfrac12 \log\sigma^2), \qquad
        \varepsilon \sim \mathcal N(0, I).

    The randomness lives in ``eps``, which the caller draws and keeps, so the
    same sample can be replayed (a gradient check needs exactly that).

    Parameters
    ----------
    mu, log_var, eps : ndarray, shape (batch, latent_dim)

    Returns
    -------
    z : ndarray, shape (batch, latent_dim)
    std : ndarray, shape (batch, latent_dim)
        :math:`\sigma`, returned because the backward pass needs it.
    """
    std = np.exp(0.5 * log_var)
    return mu + std * eps, std


def reparameterize_backward(d_z, eps, std):
    r"""Chain rule through :math:`z = \mu + \exp(\tfrac12 \log\sigma^2)\,\varepsilon`.

    .. math::
        \frac{\partial z}{\partial \mu} = 1, \qquad
        \frac{\partial z}{\partial \log\sigma^2} = \tfrac12 \sigma \varepsilon,

    so with :math:`\bar z = \partial L / \partial z`:
    :math:`\bar\mu = \bar z` and :math:`\overline{\log\sigma^2} = \tfrac12\, \bar z \odot \varepsilon \odot \sigma`.

    Why one sample of this is an unbiased gradient of an *expectation*:
    substituting :math:`z = \mu + \sigma\varepsilon` (so :math:`dz = \sigma\,d\varepsilon`
    and :math:`\mathcal N(\mu + \sigma\varepsilon; \mu, \sigma^2)\,\sigma = \mathcal N(\varepsilon; 0, 1)`),

    .. math::
        \nabla_\phi \mathbb E_{q_\phi}[f(z)]
        = \nabla_\phi \int f(\mu + \sigma\varepsilon)\, \mathcal N(\varepsilon; 0, I)\, d\varepsilon
        = \mathbb E_\varepsilon\big[\nabla_\phi f(\mu + \sigma\varepsilon)\big]
        = \mathbb E_\varepsilon\Big[f'(z)\,\frac{\partial z}{\partial\phi}\Big],

    because the density of ε does not depend on φ (here (μ, log σ²); in a VAE
    the encoder's parameters, which reach z through them), and the
    gradient passes under the integral onto f. Lecture 04 sets this beside
    the score-function estimator and measures both.

    Parameters
    ----------
    d_z, eps, std : ndarray, shape (batch, latent_dim)

    Returns
    -------
    d_mu, d_log_var : ndarray, shape (batch, latent_dim)
    """
    return d_z, 0.5 * d_z * eps * std


# --------------------------------------------------------------------------
# KL( N(mu, sigma^2) || N(0, I) )
# --------------------------------------------------------------------------


def kl_standard_normal(mu, log_var):
    r"""Analytic KL divergence from q = N(mu, diag σ²) to the prior p = N(0, I).

    .. math::
        D_{KL}(q \,\|\, p) = \tfrac12 \sum_j \left(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\right)

    Derivation, one dimension at a time: with
    :math:`\log \mathcal N(z; \mu, \sigma^2) = -\tfrac12(\log 2\pi + \log\sigma^2 + (z - \mu)^2/\sigma^2)`,

    .. math::
        D_{KL} &= \mathbb E_q[\log q(z) - \log p(z)] \\
        &= \mathbb E_q\Big[-\tfrac12 \log\sigma^2 - \frac{(z - \mu)^2}{2\sigma^2} + \frac{z^2}{2}\Big] \\
        &= -\tfrac12 \log\sigma^2 - \tfrac12 + \tfrac12(\mu^2 + \sigma^2),

    using :math:`\mathbb E_q[(z - \mu)^2] = \sigma^2` and
    :math:`\mathbb E_q[z^2] = \operatorname{Var} z + (\mathbb E z)^2 = \mu^2 + \sigma^2`;
    the :math:`\log 2\pi` terms cancel. Independent dimensions add up.

    It is zero exactly when mu = 0 and log_var = 0, and positive otherwise
    (each term :math:`\sigma^2 - \log\sigma^2 - 1 \ge 0`, as :math:`e^t \ge 1 + t`).
    For log_var near 0, ``exp(t) - 1 - t`` would subtract nearly equal numbers
    and could even come out negative; ``expm1(t) - t`` computes
    :math:`e^t - 1` accurately and stays ≥ 0 in floating point too.

    Parameters
    ----------
    mu, log_var : ndarray, shape (batch, latent_dim)

    Returns
    -------
    kl : ndarray, shape (batch,), in nats.
    """
    return 0.5 * np.sum(mu * mu + (np.expm1(log_var) - log_var), axis=-1)


def kl_standard_normal_backward(d_kl, mu, log_var):
    r"""Gradient of the KL for each example, scaled by the upstream ``d_kl``.

    .. math::
        \frac{\partial D_{KL}}{\partial \mu_j} = \mu_j, \qquad
        \frac{\partial D_{KL}}{\partial \log\sigma_j^2} = \tfrac12 (\sigma_j^2 - 1).

    Parameters
    ----------
    d_kl : ndarray, shape (batch,), or a scalar
        :math:`\partial L / \partial D_{KL}` for each example.
    mu, log_var : ndarray, shape (batch, latent_dim)

    Returns
    -------
    d_mu, d_log_var : ndarray, shape (batch, latent_dim)

    Notes
    -----
    :math:`\sigma^2 - 1` is computed as ``expm1(log_var)`` from the inputs
    rather than from the sampler's cached ``std``: it is accurate near
    log_var = 0, where ``std**2 - 1`` loses digits, and it keeps this pure
    function's inputs those of its forward.
    """
    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl
    return d_kl * mu, d_kl * 0.5 * np.expm1(log_var)


# --------------------------------------------------------------------------
# Log densities (importance sampling; their gradients train the IWAE)
# --------------------------------------------------------------------------


def log_normal(z, mu, log_var):
    r"""Log density of a diagonal Gaussian, summed over the last axis; float64.

    .. math::
        \log \mathcal N(z; \mu, \sigma^2) = -\tfrac12 \sum_j
        \left(\log 2\pi + \log\sigma_j^2 + \frac{(z_j - \mu_j)^2}{\sigma_j^2}\right)

    Computed in float64 whatever the inputs' dtype, with the quadratic term
    written as

    .. math::
        \frac{(z_j - \mu_j)^2}{\sigma_j^2} = \exp\!\left(2 \log|z_j - \mu_j| - \log\sigma_j^2\right).

    The obvious ``(z - mu)**2 * exp(-log_var)`` overflows where the answer
    does not: ``exp(-log_var)`` is inf in float32 once log_var < −88 (float64:
    < −709), and where z = μ it then gives 0·inf = NaN instead of 0. The sum
    of logs cannot overflow; at z = μ it is exp(−inf) = 0. The result is ±inf
    only where the true value is beyond float64's range.

    Parameters
    ----------
    z, mu, log_var : ndarray, broadcastable, last axis latent_dim

    Returns
    -------
    ndarray of float64, the broadcast shape without its last axis.
    """
    z, mu, log_var = (np.asarray(a, dtype=np.float64) for a in (z, mu, log_var))
    # log|0| = -inf is intended (exp(-inf) = 0), and so is inf where the true
    # value is beyond float64: neither deserves a warning.
    with np.errstate(divide="ignore", over="ignore"):
        quadratic = np.exp(2 * np.log(np.abs(z - mu)) - log_var)
    return -0.5 * np.sum(LOG_2PI + log_var + quadratic, axis=-1)


def log_normal_backward(d_log_q, z, mu, log_var):
    r"""Partial derivatives of :func:`log_normal`, each scaled by the upstream ``d_log_q``.

    With :math:`r_j = (z_j - \mu_j) / \sigma_j^2`, differentiating
    :math:`-\tfrac12 (\log\sigma_j^2 + (z_j - \mu_j)^2 e^{-\log\sigma_j^2})` term by term:

    .. math::
        \frac{\partial \log q}{\partial z_j} = -r_j, \qquad
        \frac{\partial \log q}{\partial \mu_j} = r_j, \qquad
        \frac{\partial \log q}{\partial \log\sigma_j^2} = \tfrac12\big((z_j - \mu_j)\, r_j - 1\big).

    These are *partial* derivatives, z held apart from (μ, log σ²). When z is
    the sample :math:`\mu + \sigma\varepsilon`, the chain rule adds the path
    through z (:func:`reparameterize_backward`): the total derivative in μ is
    :math:`r_j - r_j = 0` and in log σ² it is
    :math:`\tfrac12(\varepsilon_j^2 - 1) - \tfrac12 \varepsilon_j^2 = -\tfrac12`, as
    :math:`\log q(\mu + \sigma\varepsilon) = -\tfrac12 \sum_j (\log 2\pi + \log\sigma_j^2 + \varepsilon_j^2)`
    says directly. The importance-weighted bound (:mod:`numvae.iwae`) needs both paths.

    Parameters
    ----------
    d_log_q : ndarray, shape z.shape[:-1], or a scalar
        :math:`\partial L / \partial \log q` for each sample.
    z, mu, log_var : ndarray, broadcastable to one shape (..., latent_dim)

    Returns
    -------
    d_z, d_mu, d_log_var : ndarray, each of the broadcast shape (..., latent_dim)
        Not summed over broadcast axes: the caller sums over the samples that share a μ.
    """
    d_log_q = np.expand_dims(d_log_q, -1) if np.ndim(d_log_q) else d_log_q  # (..., 1): one factor per sample
    residual = z - mu  # (..., latent_dim)
    r = residual * np.exp(-log_var)  # (z - mu) / sigma^2
    return -d_log_q * r, d_log_q * r, d_log_q * 0.5 * (residual * r - 1)


def log_standard_normal(z):
    r""":math:`\log \mathcal N(z; 0, I) = -\tfrac12 \sum_j (\log 2\pi + z_j^2)`, summed over the last axis; float64."""
    z = np.asarray(z, dtype=np.float64)
    return -0.5 * np.sum(LOG_2PI + z * z, axis=-1)


def log_standard_normal_backward(d_log_p, z):
    r""":math:`\partial \log \mathcal N(z; 0, I) / \partial z_j = -z_j`, scaled by ``d_log_p`` (shape z.shape[:-1] or a scalar); returns d_z, z's shape."""
    d_log_p = np.expand_dims(d_log_p, -1) if np.ndim(d_log_p) else d_log_p
    return -d_log_p * z
