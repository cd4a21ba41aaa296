r"""The categorical pieces of a classifier q(y|x): softmax, cross-entropy, entropy, one-hot.

A network that classifies outputs one real number per class, the *logits*
:math:`l` of shape (batch, n_classes); the softmax turns them into
probabilities,

.. math::
    p_k = \mathrm{softmax}(l)_k = \frac{e^{l_k}}{\sum_j e^{l_j}}, \qquad
    \frac{\partial p_j}{\partial l_k} = p_j(\delta_{jk} - p_k).

Adding a constant to every logit of a row changes nothing (it cancels in the
ratio), so each function subtracts the row's largest logit first: the largest
exponent is then :math:`e^0 = 1` and nothing overflows, even at ±1e4 (the same
trick as the stable sigmoid and ``log_mean_exp``).

Each backward sits under its forward. The entropy and the cross-entropy are
what M2's bounds need (:mod:`numvae.m2`). Reference: D. P. Kingma,
D. J. Rezende, S. Mohamed and M. Welling, "Semi-Supervised Learning with Deep
Generative Models", NeurIPS 2014 (arXiv:1406.5298), eqs. (6), (7) and (9).
"""

import numpy as np

# --------------------------------------------------------------------------
# One-hot labels
# --------------------------------------------------------------------------


def one_hot(y, n_classes, dtype=np.float64):
    r"""Rows :math:`e_{y_i}`: 1 in column :math:`y_i`, 0 elsewhere.

    Parameters
    ----------
    y : ndarray of int, shape (batch,), values in 0..n_classes−1
    n_classes : int
    dtype : numpy dtype

    Returns
    -------
    ndarray, shape (batch, n_classes)
    """
    return np.eye(n_classes, dtype=dtype)[y]


# --------------------------------------------------------------------------
# Softmax and log-softmax
# --------------------------------------------------------------------------


def log_softmax(logits):
    r"""Row-wise :math:`\log p_k = l_k - \log \sum_j e^{l_j}`, computed without overflow.

    With :math:`m = \max_j l_j`,
    :math:`\log \sum_j e^{l_j} = m + \log \sum_j e^{l_j - m}`, and every
    :math:`e^{l_j - m} \le 1`, one of them exactly 1, so the sum lies in
    [1, n_classes]: its log neither overflows nor is the log of 0.

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    log_p : ndarray, shape (batch, n_classes), each row's exp summing to 1.
    """
    shifted = logits - np.max(logits, axis=-1, keepdims=True)  # (batch, n_classes), row max 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def log_softmax_backward(d_log_p, p):
    r"""Chain rule through :math:`\log p_j = l_j - \log \sum_i e^{l_i}`.

    :math:`\partial \log p_j / \partial l_k = \delta_{jk} - p_k`, so

    .. math::
        \frac{\partial L}{\partial l_k} = \sum_j \overline{\log p_j}\,(\delta_{jk} - p_k)
        = \overline{\log p_k} - p_k \sum_j \overline{\log p_j}.

    Parameters
    ----------
    d_log_p : ndarray, shape (batch, n_classes)
    p : ndarray, shape (batch, n_classes), the softmax of the forward's logits

    Returns
    -------
    d_logits : ndarray, shape (batch, n_classes)
    """
    return d_log_p - p * np.sum(d_log_p, axis=-1, keepdims=True)


def softmax(logits):
    r"""Row-wise probabilities :math:`p_k = e^{l_k} / \sum_j e^{l_j}`; each row sums to 1.

    Computed as ``exp(log_softmax(logits))``: stable wherever
    :func:`log_softmax` is.

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    p : ndarray, shape (batch, n_classes)
    """
    return np.exp(log_softmax(logits))


def softmax_backward(d_p, p):
    r"""Chain rule through the softmax, :math:`\partial p_j / \partial l_k = p_j(\delta_{jk} - p_k)`.

    (From the quotient rule on :math:`e^{l_j} / S` with :math:`S = \sum_i e^{l_i}`:
    :math:`\partial p_j / \partial l_k = \delta_{jk} e^{l_j}/S - e^{l_j} e^{l_k}/S^2`.)
    Then

    .. math::
        \frac{\partial L}{\partial l_k} = \sum_j \bar p_j\, p_j (\delta_{jk} - p_k)
        = p_k \Big(\bar p_k - \sum_j \bar p_j\, p_j\Big).

    Parameters
    ----------
    d_p : ndarray, shape (batch, n_classes)
    p : ndarray, shape (batch, n_classes), the forward's output

    Returns
    -------
    d_logits : ndarray, shape (batch, n_classes)
    """
    return p * (d_p - np.sum(d_p * p, axis=-1, keepdims=True))


# --------------------------------------------------------------------------
# Cross-entropy from logits: −log p_y
# --------------------------------------------------------------------------


def cross_entropy(logits, y_one_hot):
    r"""Per-example cross-entropy :math:`-\sum_k t_k \log p_k = -\log p_y` from logits.

    For a one-hot target :math:`t = e_y` this is :math:`-\log p_y`, the
    classifier's negative log-likelihood of the true label. Computed from
    :func:`log_softmax`, never from p (whose log would be −inf where
    :math:`p_y` rounds to 0).

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)
    y_one_hot : ndarray, shape (batch, n_classes), rows summing to 1

    Returns
    -------
    ce : ndarray, shape (batch,), in nats.
    """
    return -np.sum(y_one_hot * log_softmax(logits), axis=-1)


def cross_entropy_backward(d_ce, logits, y_one_hot):
    r"""Gradient of :func:`cross_entropy`: :math:`p - t`, scaled by ``d_ce``.

    By :func:`log_softmax_backward` with :math:`\overline{\log p} = -t`:
    :math:`\partial L / \partial l_k = -t_k + p_k \sum_j t_j = p_k - t_k`
    (the targets sum to 1). The classifier is pushed up on the true class by
    :math:`1 - p_y` and down on every other class by its probability.

    Parameters
    ----------
    d_ce : ndarray, shape (batch,), or a scalar
    logits, y_one_hot : ndarray, shape (batch, n_classes)

    Returns
    -------
    d_logits : ndarray, shape (batch, n_classes)
    """
    d_ce = np.reshape(d_ce, (-1, 1)) if np.ndim(d_ce) else d_ce  # (batch, 1): one factor per example
    return d_ce * (softmax(logits) - y_one_hot)


# --------------------------------------------------------------------------
# Entropy of the softmax: H = −Σ p log p
# --------------------------------------------------------------------------


def entropy(logits):
    r"""Per-example entropy :math:`H(p) = -\sum_k p_k \log p_k` of :math:`p = \mathrm{softmax}(l)`.

    0 for a one-hot p (:math:`0 \log 0 = 0`: here :math:`p_k = e^{\log p_k}`
    underflows to 0 and multiplies a finite log), :math:`\log K` for the
    uniform p over K classes, and in between otherwise.

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    h : ndarray, shape (batch,), in nats.
    """
    log_p = log_softmax(logits)
    return -np.sum(np.exp(log_p) * log_p, axis=-1)


def entropy_backward(d_h, logits):
    r"""Gradient of :func:`entropy` with respect to the logits, through the softmax.

    First with respect to p: :math:`\partial H / \partial p_j = -(\log p_j + 1)`.
    Then through :func:`softmax_backward`, with :math:`\sum_j p_j = 1` and
    :math:`\sum_j p_j \log p_j = -H`:

    .. math::
        \frac{\partial H}{\partial l_k}
        = p_k\Big(-(\log p_k + 1) + \sum_j p_j(\log p_j + 1)\Big)
        = -p_k\,(\log p_k + H).

    It vanishes at the uniform p (:math:`\log p_k = -\log K = -H`, the
    maximum) and at a one-hot p.

    Parameters
    ----------
    d_h : ndarray, shape (batch,), or a scalar
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    d_logits : ndarray, shape (batch, n_classes)
    """
    d_h = np.reshape(d_h, (-1, 1)) if np.ndim(d_h) else d_h  # (batch, 1)
    log_p = log_softmax(logits)
    p = np.exp(log_p)
    h = -np.sum(p * log_p, axis=-1, keepdims=True)  # (batch, 1)
    return -d_h * p * (log_p + h)
