r"""The amortization gap: q(z|x) fitted to each image, against the encoder's (Cremer, Li & Duvenaud 2018).

The encoder is *amortized* inference: one network φ gives every image its
q_φ(z|x) = N(μ_φ(x), diag σ²_φ(x)) in one pass, instead of an optimisation per
image. What that costs can be measured. For one image x and the decoder θ
held fixed, let q* be the best diagonal Gaussian, the maximiser of the ELBO
over (μ, log σ²) themselves, free parameters of this one image. Then
(Cremer, Li & Duvenaud, "Inference Suboptimality in Variational
Autoencoders", ICML 2018, arXiv:1801.03558, eq. 5)

.. math::
    \log p(x) - \mathrm{ELBO}(q_\phi)
    = \underbrace{\log p(x) - \mathrm{ELBO}(q^*)}_{\text{approximation gap}}
    + \underbrace{\mathrm{ELBO}(q^*) - \mathrm{ELBO}(q_\phi)}_{\text{amortization gap}} :

the first is the price of a diagonal Gaussian family, the second the price of
computing its member by a network rather than by optimisation.

**The gradient of the ELBO in (μ, log σ²), by hand.** It is the VAE's backward
pass (:meth:`numvae.vae.VAE.backward`) stopped before the encoder: with S
samples :math:`z_s = \mu + \sigma\varepsilon_s`,

.. math::
    -\widehat{\mathrm{ELBO}} = \frac1S \sum_s -\log p_\theta(x \mid z_s) + D_{KL}(q \,\|\, p), \qquad
    \frac{\partial}{\partial\mu} = \frac1S \sum_s \bar z_s + \mu, \qquad
    \frac{\partial}{\partial\log\sigma^2} = \frac1S \sum_s \tfrac12 \bar z_s \varepsilon_s \sigma
        + \tfrac12(\sigma^2 - 1),

where :math:`\bar z_s` is the gradient of :math:`-\log p_\theta(x|z_s)` in z_s, from the
likelihood's and the decoder's backward; the rest is
:func:`~numvae.gaussian.reparameterize_backward` and
:func:`~numvae.gaussian.kl_standard_normal_backward`. Adam (:class:`numvae.optim.Adam`)
updates every number on its own, so a batch of images is optimised together
exactly as if one at a time.

log p(x) is estimated by the importance-weighted bound with q* as the
proposal (:func:`iw_log_likelihood`): an estimate, not log p(x) itself, and in
expectation a lower bound on it, so the approximation gap it gives is too
small, if anything. :func:`iw_log_likelihood` also returns each image's
effective sample size, from which the standard error of its estimate follows
(delta method): :math:`\mathrm{se} \approx \sqrt{1/\mathrm{ESS} - 1/K}`.
"""

import numpy as np

from .evaluate import iw_bound, normalized_weights
from .gaussian import kl_standard_normal, kl_standard_normal_backward, log_normal, log_standard_normal
from .gaussian import reparameterize, reparameterize_backward
from .optim import Adam
from .util import checks


def negative_elbo_and_gradient(model, x, mu, log_var, eps):
    r"""−ELBO of each image under q = N(mu, exp(log_var)) with θ fixed, and its gradient in (mu, log_var).

    Parameters
    ----------
    model : VAE
        Only its decoder and likelihood are used (their caches are overwritten).
    x : ndarray, shape (n, input_dim)
    mu, log_var : ndarray, shape (n, latent_dim)
    eps : ndarray, shape (samples, n, latent_dim)

    Returns
    -------
    loss : ndarray, shape (n,)
        The reconstruction term averaged over the samples, plus the analytic KL.
    d_mu, d_log_var : ndarray, shape (n, latent_dim)
        Gradients of ``loss.sum()``: each image's loss depends on its own row only.
    """
    samples, n, latent_dim = eps.shape
    z, std = reparameterize(mu, log_var, eps)  # (samples, n, latent_dim)
    out = model.decoder.forward(z.reshape(samples * n, latent_dim))  # (samples n, input_dim)
    x_rep = np.broadcast_to(x, (samples, *x.shape)).reshape(samples * n, -1)
    reconstruction = model.likelihood.nll(x_rep, out).reshape(samples, n).mean(axis=0)  # (n,)
    loss = reconstruction + kl_standard_normal(mu, log_var)

    d_out = model.likelihood.backward(model.dtype.type(1.0 / samples))  # each sample's −log p(x|z) weighs 1/S
    d_z = model.decoder.backward(d_out).reshape(samples, n, latent_dim)
    d_mu_z, d_log_var_z = reparameterize_backward(d_z, eps, std)  # (samples, n, latent_dim)
    d_mu_kl, d_log_var_kl = kl_standard_normal_backward(1.0, mu, log_var)
    return loss, d_mu_z.sum(axis=0) + d_mu_kl, d_log_var_z.sum(axis=0) + d_log_var_kl


def elbo(model, x, mu, log_var, eps):
    """ELBO of each image under q = N(mu, exp(log_var)): the mean of log p(x|z) over the draws in ``eps`` minus the analytic KL.

    ``x`` (n, input_dim); ``mu``, ``log_var`` (n, latent_dim); ``eps``
    (samples, n, latent_dim), decoded one draw at a time (memory of one
    batch). Returns shape (n,), float64. No gradients: for measuring.
    """
    total = np.zeros(len(x))
    for eps_s in eps:  # (n, latent_dim)
        z, _ = reparameterize(mu, log_var, eps_s)
        total += model.log_px_given_z(x, z).astype(np.float64)
    return total / len(eps) - kl_standard_normal(np.asarray(mu, np.float64), np.asarray(log_var, np.float64))


def fit_local_posterior(model, x, mu, log_var, rng, steps=500, samples=10, lr=1e-2, on_step=None):
    """q* for each image: Adam on its own (mu, log_var), started from copies of the ones given.

    The last fifth of the steps use lr / 10, so that the noisy gradients
    (``samples`` draws per step) leave the optimum less far behind.
    ``on_step(step, mu, log_var)`` is called after every step, if given.
    Returns the fitted ``mu, log_var`` (new arrays of the given shapes).
    """
    steps = checks.positive_int("steps", steps)
    samples = checks.positive_int("samples", samples)
    rng = checks.generator("rng", rng)
    params = {"mu": np.array(mu, dtype=model.dtype), "log_var": np.array(log_var, dtype=model.dtype)}
    optimizer = Adam(params, lr=lr)
    for step in range(steps):
        if step == steps - steps // 5:
            optimizer.lr = lr / 10
        eps = rng.standard_normal((samples, *params["mu"].shape)).astype(model.dtype)
        _, d_mu, d_log_var = negative_elbo_and_gradient(model, x, params["mu"], params["log_var"], eps)
        optimizer.step({"mu": d_mu, "log_var": d_log_var})
        if on_step is not None:
            on_step(step + 1, params["mu"], params["log_var"])
    return params["mu"], params["log_var"]


def iw_log_likelihood(model, x, mu, log_var, k, rng):
    """The importance-weighted estimate L_K of log p(x) with proposal N(mu, exp(log_var)), one image at a time.

    Returns ``(log_px, ess)``, each of shape (n,), float64: the estimate and
    the effective sample size 1 / Σ_k w̃_k² of its K weights.
    """
    k = checks.positive_int("k", k)
    rng = checks.generator("rng", rng)
    log_px, ess = np.empty(len(x)), np.empty(len(x))
    for i in range(len(x)):
        eps = rng.standard_normal((k, 1, model.latent_dim)).astype(model.dtype)
        z, _ = reparameterize(mu[i : i + 1], log_var[i : i + 1], eps)  # (k, 1, latent_dim)
        log_px_z = model.log_px_given_z(np.repeat(x[i : i + 1], k, axis=0), z[:, 0]).astype(np.float64)[:, None]
        log_pz, log_qz = log_standard_normal(z), log_normal(z, mu[i : i + 1], log_var[i : i + 1])  # (k, 1)
        log_px[i] = iw_bound(log_px_z, log_pz, log_qz)[0]
        ess[i] = 1.0 / np.sum(normalized_weights(log_px_z + log_pz - log_qz) ** 2)
    return log_px, ess
