r"""Evaluating a trained VAE: the test ELBO and an importance-weighted log p(x).

The ELBO is a lower bound on log p(x). A tighter estimate samples K latents
from the encoder and weights each by how much more (or less) likely it is
under the model than under q (Burda, Grosse & Salakhutdinov, "Importance
Weighted Autoencoders", arXiv:1509.00519, eq. 8):

.. math::
    \log p(x) \approx \mathcal L_K = \log \frac1K \sum_{k=1}^{K} w_k, \qquad
    w_k = \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)}, \quad z_k \sim q(z \mid x).

For K = 1 its expectation is the ELBO; :math:`\mathbb E[\mathcal L_K]` grows
with K and tends to log p(x). The weights span hundreds of nats, so the mean
is taken in log space with the log-mean-exp trick:
:math:`\log \frac1K \sum_k e^{a_k} = m + \log \frac1K \sum_k e^{a_k - m}`,
with :math:`m = \max_k a_k`, which never overflows.

With a Bernoulli decoder, log p(x) is a log-probability only for binary x.
On grey levels (``binarize="none"``, the default) the Bernoulli "log p(x)" is
a score, not a normalised density over grey-level images, and it cannot
exceed :math:`-\sum_d H(x_d)`, minus the binary entropies of the image's
pixels (their sum is about 46 nats per mnist5k test image). Training with
dynamic binarization (``binarize="dynamic"``) and evaluating on binarized
targets gives a true log-likelihood; lecture 05 shows both numbers.
"""

import numpy as np

from . import checks
from .gaussian import log_normal, log_standard_normal, reparameterize


def log_mean_exp(a, axis=0):
    """``log(mean(exp(a), axis))`` without overflow or underflow; float64."""
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def _batches(n, batch_size):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def elbo_terms(model, x, rng, batch_size=500):
    """Mean reconstruction, KL and loss (−ELBO when β = 1) over ``x``, in nats per example.

    One reparameterized sample per example, drawn from ``rng``; the model's
    own Generator is not touched. Returns a dict of floats with keys
    ``loss``, ``reconstruction``, ``kl`` (``loss = reconstruction + beta * kl``).
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    rec_sum = kl_sum = 0.0
    for part in _batches(len(x), batch_size):
        eps = rng.standard_normal((part.stop - part.start, model.latent_dim))
        rec, kl = model.per_example_terms(x[part], eps)
        rec_sum += float(np.sum(rec, dtype=np.float64))
        kl_sum += float(np.sum(kl, dtype=np.float64))
    rec, kl = rec_sum / len(x), kl_sum / len(x)
    return {"loss": rec + model.beta * kl, "reconstruction": rec, "kl": kl}


def log_importance_weights(model, x, k, rng):
    """log w for ``k`` samples of each example: shape (k, batch), float64.

    ``x`` (batch, input_dim). ``log w = log p(x|z) + log p(z) − log q(z|x)``.
    """
    k = checks.positive_int("k", k)
    mu, log_var = model.encode(x)  # (batch, latent_dim) each
    batch_size = mu.shape[0]
    eps = rng.standard_normal((k, batch_size, model.latent_dim)).astype(model.dtype, copy=False)
    z, _ = reparameterize(mu, log_var, eps)  # (k, batch, latent_dim), broadcast over k
    x_rep = np.broadcast_to(x, (k, *np.shape(x))).reshape(k * batch_size, -1)
    log_px_z = model.log_px_given_z(x_rep, z.reshape(k * batch_size, -1)).reshape(k, batch_size)
    log_pz = log_standard_normal(z)  # (k, batch)
    log_qz = log_normal(z, mu, log_var)  # (k, batch)
    return log_px_z.astype(np.float64) + log_pz - log_qz


def importance_weighted_log_likelihood(model, x, k, rng, max_rows=20_000):
    r"""Per-example estimate :math:`\mathcal L_K` of log p(x), shape (n,), float64.

    Parameters
    ----------
    model : VAE
    x : array, shape (n, input_dim)
    k : int
        Number of importance samples per example (K = 1 gives a one-sample ELBO).
    rng : numpy.random.Generator
    max_rows : int
        Bound on ``k * batch`` decoded at once, to keep memory flat for large k.
    """
    k = checks.positive_int("k", k)
    batch_size = max(1, checks.positive_int("max_rows", max_rows) // k)
    out = np.empty(len(x), dtype=np.float64)
    for part in _batches(len(x), batch_size):
        out[part] = log_mean_exp(log_importance_weights(model, x[part], k, rng), axis=0)
    return out
