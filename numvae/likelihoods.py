r"""Decoder likelihoods p(x|z): negative log-likelihoods and their gradients.

The decoder network outputs one vector per example, ``out`` of shape
(batch, input_dim). A likelihood turns it into a distribution over x:

* **Bernoulli**: ``out`` are logits l, p(x_d = 1 | z) = sigmoid(l_d).
* **Gaussian**: ``out`` is the mean x̂, p(x|z) = N(x; x̂, σ²) with a fixed σ,
  or with a learned per-pixel ``log_var = log σ²`` (the same parameterization
  as the encoder's, see ``numvae.gaussian``).

The pure functions come first (arrays in, arrays out, each backward right under
its forward); the small classes after them hold the decoder's learned variance
(if any) and the cache of one training step.
"""

import numpy as np

from .activations import sigmoid, softplus
from .gaussian import LOG_2PI


def _check_cache(likelihood):
    if likelihood.cache is None:
        raise RuntimeError(
            f"{type(likelihood).__name__}.backward() called before nll(): "
            "compute the loss on a batch first"
        )
    return likelihood.cache


# --------------------------------------------------------------------------
# Bernoulli from logits
# --------------------------------------------------------------------------


def bernoulli_nll(x, logits):
    r"""Negative Bernoulli log-likelihood computed from logits.

    With :math:`p = \mathrm{sigmoid}(l)`, :math:`\log p = -\mathrm{softplus}(-l)` and
    :math:`\log(1-p) = -\mathrm{softplus}(l)`; since
    :math:`\mathrm{softplus}(l) - \mathrm{softplus}(-l) = l`,

    .. math::
        -\log p(x \mid l) = -\sum_d \left[x_d \log p_d + (1-x_d)\log(1-p_d)\right]
                          = \sum_d \left[\mathrm{softplus}(l_d) - x_d\, l_d\right].

    Never forming p avoids log(0) at extreme logits. For grey levels
    x in [0, 1] this is the binary cross-entropy used by the PyTorch example.

    Parameters
    ----------
    x : ndarray, shape (batch, input_dim), values in [0, 1]
    logits : ndarray, shape (batch, input_dim)

    Returns
    -------
    nll : ndarray, shape (batch,), in nats.
    """
    return np.sum(softplus(logits) - x * logits, axis=-1)


def bernoulli_nll_backward(d_nll, x, logits):
    r""":math:`\partial(-\log p)/\partial l_d = \mathrm{sigmoid}(l_d) - x_d`, scaled by ``d_nll``.

    Parameters
    ----------
    d_nll : ndarray, shape (batch,), or a scalar
    x, logits : ndarray, shape (batch, input_dim)

    Returns
    -------
    d_logits : ndarray, shape (batch, input_dim)
    """
    d_nll = np.reshape(d_nll, (-1, 1)) if np.ndim(d_nll) else d_nll  # (batch, 1): one factor per example
    return d_nll * (sigmoid(logits) - x)


# --------------------------------------------------------------------------
# Gaussian with variance exp(log_var)
# --------------------------------------------------------------------------


def gaussian_nll(x, mean, log_var):
    r"""Negative log-likelihood of x under N(mean, exp(log_var)), summed over pixels.

    .. math::
        -\log p(x \mid \hat x) = \tfrac12 \sum_d \left(
            \frac{(x_d - \hat x_d)^2}{\sigma_d^2} + \log\sigma_d^2 + \log 2\pi\right)

    Parameters
    ----------
    x, mean : ndarray, shape (batch, input_dim)
    log_var : float or ndarray of shape (input_dim,)
        :math:`\log\sigma^2`, one value for all pixels or one per pixel.

    Returns
    -------
    nll : ndarray, shape (batch,), in nats.
    """
    residual = x - mean
    per_pixel = residual * residual * np.exp(-log_var) + log_var + LOG_2PI
    return 0.5 * np.sum(per_pixel, axis=-1)


def gaussian_nll_backward(d_nll, x, mean, log_var):
    r"""Gradients of :func:`gaussian_nll`, scaled by ``d_nll``.

    .. math::
        \frac{\partial}{\partial \hat x_d} = \frac{\hat x_d - x_d}{\sigma_d^2}, \qquad
        \frac{\partial}{\partial \log\sigma_d^2} = \tfrac12\left(1 - \frac{(x_d - \hat x_d)^2}{\sigma_d^2}\right).

    Parameters
    ----------
    d_nll : ndarray, shape (batch,), or a scalar
    x, mean : ndarray, shape (batch, input_dim)
    log_var : float or ndarray of shape (input_dim,)

    Returns
    -------
    d_mean : ndarray, shape (batch, input_dim)
    d_log_var : ndarray, shape (input_dim,)
        Summed over the batch, as a per-pixel parameter shared by all examples
        needs. (For a scalar ``log_var`` sum it once more if you need it.)

    Notes
    -----
    The residual :math:`x - \hat x` and :math:`1/\sigma^2` are recomputed
    from the inputs (two element-wise operations) rather than passed from the
    forward pass, so that this pure function takes exactly what its forward
    took and can be shown and tested on its own.
    """
    d_nll = np.reshape(d_nll, (-1, 1)) if np.ndim(d_nll) else d_nll  # (batch, 1): one factor per example
    inv_var = np.exp(-log_var)
    residual = x - mean
    d_mean = -d_nll * residual * inv_var
    d_log_var = np.sum(d_nll * 0.5 * (1 - residual * residual * inv_var), axis=0)
    return d_mean, d_log_var


# --------------------------------------------------------------------------
# Stateful wrappers used by the VAE
# --------------------------------------------------------------------------


class Bernoulli:
    """Bernoulli decoder likelihood; the decoder outputs logits. No parameters."""

    def __init__(self):
        self.params, self.grads, self.cache = {}, {}, None

    def nll(self, x, logits, keep_cache=True):
        """Per-example −log p(x|z), shape (batch,)."""
        if keep_cache:
            self.cache = (x, logits)
        return bernoulli_nll(x, logits)

    def backward(self, d_nll):
        """``d_nll`` (batch,) or a scalar -> d_logits (batch, input_dim)."""
        x, logits = _check_cache(self)
        return bernoulli_nll_backward(d_nll, x, logits)

    def mean(self, logits):
        """E[x|z] = sigmoid(logits), the pixel probabilities."""
        return sigmoid(logits)


class Gaussian:
    """Gaussian decoder likelihood N(x; x̂, σ²); the decoder outputs the mean x̂.

    Parameters
    ----------
    sigma : float > 0
        The fixed standard deviation, or the initial one if ``learn_sigma``.
    input_dim : int
    learn_sigma : bool
        Learn a per-pixel ``log_var`` (= log σ², shape (input_dim,)), exposed as
        the parameter ``"log_var"``. A pixel that is constant in the data can
        drive its σ towards 0 and its likelihood towards +inf; with a fixed σ
        that cannot happen.
    dtype : numpy dtype
    """

    def __init__(self, sigma, input_dim, learn_sigma=False, dtype=np.float64):
        self.learn_sigma = learn_sigma
        log_var = 2.0 * np.log(sigma)
        if learn_sigma:
            self.params = {"log_var": np.full(input_dim, log_var, dtype=dtype)}
            self.grads = {"log_var": np.zeros(input_dim, dtype=dtype)}
        else:
            self.params, self.grads = {}, {}
            self._fixed_log_var = np.dtype(dtype).type(log_var)
        self.cache = None

    @property
    def log_var(self):
        """log σ², a scalar (fixed σ) or an array of shape (input_dim,) (learned)."""
        return self.params["log_var"] if self.learn_sigma else self._fixed_log_var

    def nll(self, x, mean, keep_cache=True):
        """Per-example −log p(x|z), shape (batch,)."""
        if keep_cache:
            self.cache = (x, mean)
        return gaussian_nll(x, mean, self.log_var)

    def backward(self, d_nll):
        """``d_nll`` (batch,) -> d_mean (batch, input_dim); fills ``grads`` if σ is learned."""
        x, mean = _check_cache(self)
        d_mean, d_log_var = gaussian_nll_backward(d_nll, x, mean, self.log_var)
        if self.learn_sigma:
            self.grads["log_var"] = d_log_var
        return d_mean

    def mean(self, out):
        """E[x|z] = x̂, the decoder output itself."""
        return out
