r"""Evaluating a trained VAE: the test ELBO and an importance-weighted log p(x).

The ELBO is a lower bound on log p(x). A tighter estimate samples K latents
from the encoder and weights each by how much more (or less) likely it is
under the model than under q (Burda, Grosse & Salakhutdinov, "Importance
Weighted Autoencoders", arXiv:1509.00519, eq. 8):

.. math::
    \log p(x) \approx \mathcal L_K = \log \frac1K \sum_{k=1}^{K} w_k, \qquad
    w_k = \frac{p_\theta(x \mid z_k)\, p(z_k)}{q_\phi(z_k \mid x)}, \quad z_k \sim q_\phi(z \mid x),

for the trained decoder's parameters θ and encoder's φ.

For K = 1 its expectation is the ELBO; :math:`\mathbb E[\mathcal L_K]` grows
with K and tends to log p(x). Why:

* *A lower bound.* Each weight has :math:`\mathbb E_q[w_k] = \int p(x, z)\,dz = p(x)`,
  so by Jensen (log is concave)
  :math:`\mathbb E[\mathcal L_K] \le \log \mathbb E[\frac1K \sum_k w_k] = \log p(x)`.
* *Growing with K.* For M < K, the mean of K weights is the average over all
  subsets I of M indices of the subset means,
  :math:`\frac1K \sum_k w_k = \mathbb E_I[\frac1M \sum_{i \in I} w_i]`; Jensen over I gives
  :math:`\mathcal L_K \ge \mathbb E_I[\log \frac1M \sum_{i \in I} w_i]`, and each subset is
  M independent draws, so :math:`\mathbb E[\mathcal L_K] \ge \mathbb E[\mathcal L_M]`
  (Burda et al., theorem 1).
* *Tending to log p(x)*, as the mean of the weights tends to p(x) (law of
  large numbers; when the weights are bounded).

Lecture 01 checks all three against the exact log p(x) of a linear-Gaussian
model. The bounds hold for the expectation: one draw of
:math:`\mathcal L_K` can exceed log p(x). The weights span hundreds of nats, so the mean
is taken in log space with the log-mean-exp trick:
:math:`\log \frac1K \sum_k e^{a_k} = m + \log \frac1K \sum_k e^{a_k - m}`,
with :math:`m = \max_k a_k`, which never overflows.

:func:`iw_bound` is that formula. Memory stays bounded for any K: the samples
are taken in chunks of at most ``max_rows`` decoded rows, :func:`iw_bound`
gives the bound of each chunk, and the bound over all samples so far is kept
as one number per example: the mean of :math:`s + n` weights is the mean of
the first s and the mean of the next n, weighted by their counts,
:math:`\mathcal L_{s+n} = \log\big(\frac{s}{s+n} e^{\mathcal L_s} + \frac{n}{s+n} e^{\mathcal L_n}\big)`,
which ``np.logaddexp`` computes without overflow. Time, not memory, grows
with K: about K × (number of images) decoder passes.

A result that is not a finite number is an error naming the term that broke
(log p(x|z), log p(z) or log q(z|x)), never a NaN returned to the caller.

With a Bernoulli decoder, log p(x) is a log-probability only for binary x.
On grey levels (``binarize="none"``) the Bernoulli "log p(x)" is a score,
not a normalised density over grey-level images, and it cannot exceed
:math:`-\sum_d H(x_d)`, minus the binary entropies of the image's pixels
(their sum is about 46 nats per mnist5k test image). Training with dynamic
binarization (``binarize="dynamic"``, the default with a Bernoulli decoder)
and evaluating on binarized targets gives a true log-likelihood; lecture 05
shows both numbers.

A conditional VAE (:class:`numvae.cvae.CVAE`) takes the labels of x as
``labels``: every estimate is then of log p(x|y), with q(z|x,y) and p(x|z,y)
in place of q(z|x) and p(x|z).
"""

import numpy as np

from .util import checks
from .gaussian import log_normal, log_standard_normal, reparameterize


def log_mean_exp(a, axis=0):
    """``log(mean(exp(a), axis))`` without overflow or underflow; float64."""
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def iw_bound(log_px_z, log_pz, log_qz):
    r"""The importance-weighted bound :math:`\mathcal L_K = \log \frac1K \sum_k w_k` of each example.

    .. math::
        \log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x)

    Parameters
    ----------
    log_px_z, log_pz, log_qz : ndarray, shape (K, batch)
        The three terms of each sample's log-weight.

    Returns
    -------
    ndarray, shape (batch,)
    """
    return log_mean_exp(log_px_z + log_pz - log_qz, axis=0)


def normalized_weights(log_w, axis=0):
    r"""The normalised importance weights :math:`\tilde w_k = w_k / \sum_j w_j = \mathrm{softmax}_k(\log w)`.

    Computed as :math:`\exp(\log w_k - m) / \sum_j \exp(\log w_j - m)` with
    :math:`m = \max_j \log w_j`: the largest term is exp(0) = 1, so nothing
    overflows and the sum is at least 1. Float64; each slice along ``axis``
    sums to 1.
    """
    log_w = np.asarray(log_w, dtype=np.float64)
    weights = np.exp(log_w - np.max(log_w, axis=axis, keepdims=True))
    return weights / np.sum(weights, axis=axis, keepdims=True)


def iw_bound_backward(d_bound, log_px_z, log_pz, log_qz):
    r"""Gradient of :func:`iw_bound` with respect to its three terms, scaled by ``d_bound``.

    :math:`\mathcal L_K = \log \frac1K \sum_j e^{\log w_j}`, so

    .. math::
        \frac{\partial \mathcal L_K}{\partial \log w_k}
        = \frac{e^{\log w_k}}{\sum_j e^{\log w_j}} = \tilde w_k,

    the normalised weight (the 1/K cancels), and
    :math:`\log w_k = \log p(x|z_k) + \log p(z_k) - \log q(z_k|x)` passes it on
    with signs +, +, −. At K = 1, :math:`\tilde w_1 = 1`.

    Parameters
    ----------
    d_bound : ndarray, shape (batch,), or a scalar
    log_px_z, log_pz, log_qz : ndarray, shape (K, batch)

    Returns
    -------
    d_log_px_z, d_log_pz, d_log_qz : ndarray, shape (K, batch), float64
    """
    d_log_w = d_bound * normalized_weights(log_px_z + log_pz - log_qz, axis=0)  # (K, batch)
    return d_log_w, d_log_w, -d_log_w


def _batches(n, batch_size):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def _check_data(model, x, rng):
    """``x`` as a checked (batch >= 1, input_dim) array of the model's dtype, and ``rng`` a Generator.

    Checked once up front: with no examples the loops below would run zero
    times and no per-batch check would see it.
    """
    return checks.batch("x", x, model.input_dim, model.dtype), checks.generator("rng", rng)


def _check_labels(model, labels, n):
    """The labels a CVAE needs (checked), or None for a VAE, which takes none."""
    if not model.n_classes:
        if labels is not None:
            raise ValueError("labels: a VAE models x alone and takes no labels (a CVAE does), got labels")
        return None
    if labels is None:
        raise ValueError("labels: a CVAE's bound is on log p(x|y): pass the labels y of x")
    return checks.labels("labels", labels, model.n_classes, n)


def _require_finite(what, values, model):
    """Raise ValueError naming ``what`` if ``values`` (..., batch) holds NaN or ±inf."""
    finite = np.isfinite(values)
    if not np.all(finite):
        bad = values[~finite][0]
        raise ValueError(
            f"{what} is {bad} for {np.count_nonzero(~finite)} of {values.size} values: the model's "
            f"outputs overflow {model.dtype.name} or its parameters are not finite; no estimate is possible"
        )


def elbo_terms(model, x, rng, batch_size=500, labels=None):
    """Mean reconstruction, KL and loss (−ELBO when β = 1) over ``x``, in nats per example.

    ``labels`` (n,): the classes of x, for a CVAE only.

    One reparameterized sample per example, drawn from ``rng``; the model's
    own Generator is not touched. Returns a dict of floats with keys
    ``loss``, ``reconstruction``, ``kl`` (``loss = reconstruction + beta * kl``).
    A term may come out NaN or infinite (a diverged model): the trainer
    reports that as divergence, so it is returned, not raised.
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    x, rng = _check_data(model, x, rng)
    y = _check_labels(model, labels, len(x))
    rec_sum = kl_sum = 0.0
    for part in _batches(len(x), batch_size):
        eps = rng.standard_normal((part.stop - part.start, model.latent_dim))
        given = (x[part],) if y is None else (x[part], y[part])  # what the model conditions on
        rec, kl = model.per_example_terms(*given, eps)
        rec_sum += float(np.sum(rec, dtype=np.float64))
        kl_sum += float(np.sum(kl, dtype=np.float64))
    rec, kl = rec_sum / len(x), kl_sum / len(x)
    return {"loss": rec + model.beta * kl, "reconstruction": rec, "kl": kl}


def log_importance_terms(model, x, k, rng, labels=None):
    """The terms of log w for ``k`` samples of each example: (log p(x|z), log p(z), log q(z|x)), each (k, batch), float64.

    ``x`` (batch, input_dim); :func:`iw_bound` turns them into the bound.
    ``labels`` (batch,), for a CVAE only: the terms are then those of log p(x|y).
    Memory: about ``k * batch`` rows of the decoder; see
    :func:`importance_weighted_log_likelihood` for large k. Raises ValueError
    naming the term that is not finite.
    """
    k = checks.positive_int("k", k)
    x, rng = _check_data(model, x, rng)
    y = _check_labels(model, labels, len(x))
    mu, log_var = model.encode(x) if y is None else model.encode(x, y)  # (batch, latent_dim) each
    batch_size = mu.shape[0]
    eps = rng.standard_normal((k, batch_size, model.latent_dim)).astype(model.dtype, copy=False)
    z, _ = reparameterize(mu, log_var, eps)  # (k, batch, latent_dim), broadcast over k
    _require_finite("an importance sample z = mu + exp(0.5·log_var)·eps", z, model)
    x_rep = np.broadcast_to(x, (k, *np.shape(x))).reshape(k * batch_size, -1)  # row i is x[i % batch]
    given = (x_rep,) if y is None else (x_rep, np.tile(y, k))
    log_px_z = model.log_px_given_z(*given, z.reshape(k * batch_size, -1)).reshape(k, batch_size)
    _require_finite("log p(x|z)", log_px_z, model)
    log_pz = log_standard_normal(z)  # (k, batch), float64
    _require_finite("log p(z)", log_pz, model)
    log_qz = log_normal(z, mu, log_var)  # (k, batch), float64
    _require_finite("log q(z|x)", log_qz, model)
    return log_px_z.astype(np.float64), log_pz, log_qz


def log_importance_weights(model, x, k, rng, labels=None):
    """log w = log p(x|z) + log p(z) − log q(z|x) for ``k`` samples of each example: shape (k, batch), float64.

    The terms are :func:`log_importance_terms`'s (``labels`` for a CVAE
    only); raises ValueError naming the term that is not finite.
    """
    given = {} if labels is None else {"labels": labels}
    log_px_z, log_pz, log_qz = log_importance_terms(model, x, k, rng, **given)
    log_w = log_px_z + log_pz - log_qz
    _require_finite("log w = log p(x|z) + log p(z) − log q(z|x)", log_w, model)
    return log_w


def importance_weighted_log_likelihood(model, x, k, rng, max_rows=20_000, labels=None):
    r"""Per-example estimate :math:`\mathcal L_K` of log p(x), shape (n,), float64.

    Parameters
    ----------
    model : VAE
    x : array, shape (n, input_dim)
    k : int
        Number of importance samples per example (K = 1 gives a one-sample ELBO).
    rng : numpy.random.Generator
    max_rows : int
        Bound on ``k * batch`` decoded at once, to keep memory flat for any k:
        ``max_rows // k`` examples at a time while k <= max_rows, else one
        example at a time with its k samples in chunks of ``max_rows``.
        The Generator is consumed in the same order either way.
    labels : array of int, shape (n,), optional
        The classes of x, for a CVAE only: the estimate is then of log p(x|y).

    Raises
    ------
    ValueError
        Bad arguments, or a term of the estimate is not finite (the message names it).
    """
    k = checks.positive_int("k", k)
    max_rows = checks.positive_int("max_rows", max_rows)
    x, rng = _check_data(model, x, rng)
    y = _check_labels(model, labels, len(x))
    batch_size = max(1, max_rows // k)
    chunk = min(k, max_rows)  # samples of one example decoded at once
    out = np.empty(len(x), dtype=np.float64)
    for part in _batches(len(x), batch_size):
        seen = 0  # samples of each example taken so far
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            given = {} if y is None else {"labels": y[part]}
            bound = iw_bound(*log_importance_terms(model, x[part], n, rng, **given))  # (batch,): L over these n
            if seen:  # the mean of seen + n weights is the two means, weighted by their counts
                bound = np.logaddexp(out[part] + np.log(seen / (seen + n)), bound + np.log(n / (seen + n)))
            out[part] = bound
            seen += n
    return out
