import numpy as np

from numvae.activations import sigmoid, softplus  # the activation exercises' functions, numvae's own copies


def bernoulli_nll(x, logits):
    """−log p(x | logits) for pixels that are independent Bernoulli variables, one number per example.

    The decoder outputs logits l (any real number); pixel d is 1 with
    probability p_d = sigmoid(l_d). For grey levels x in [0, 1] this is the
    binary cross-entropy, summed over pixels:

        −log p(x | l) = −Σ_d [x_d log p_d + (1 − x_d) log(1 − p_d)]

    Parameters
    ----------
    x : ndarray, shape (batch, input_dim), values in [0, 1]
    logits : ndarray, shape (batch, input_dim)

    Returns
    -------
    nll : ndarray, shape (batch,), in nats

    `check` verifies: it equals the formula above to a relative 1e-6 for
    |l| <= 20; at logits of ±1e4, in float32 and float64, it is exact
    (−log p = 1e4 · (1 − x) at +1e4 and 1e4 · x at −1e4, summed) with no
    warning, so p = sigmoid(l) and log(p) cannot be the way (p is exactly 0
    or 1 there); dtype kept.
    """
    raise NotImplementedError("bernoulli_nll: not implemented yet")


def bernoulli_nll_backward(d_nll, x, logits):
    """The gradient of the loss with respect to the logits, given d_nll = dL/d(nll).

    Parameters
    ----------
    d_nll : ndarray of shape (batch,) (one number per example), or a scalar
    x, logits : ndarray, shape (batch, input_dim)

    Returns
    -------
    d_logits : ndarray, shape (batch, input_dim)

    `check` verifies: it matches central differences of sum(d_nll * nll)
    (relative error < 1e-6) and a closed form to a relative 1e-12; exact and
    silent at logits of ±1e4; dtype kept.
    """
    raise NotImplementedError("bernoulli_nll_backward: not implemented yet")
