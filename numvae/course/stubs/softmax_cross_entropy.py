import numpy as np


def log_softmax(logits):
    """The log of the softmax, row by row, computed without overflow.

    A classifier outputs one real number per class, the logits l; its class
    probabilities are

        p_k = softmax(l)_k = e^{l_k} / Σ_j e^{l_j},   so   log p_k = l_k − log Σ_j e^{l_j}

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    log_p : ndarray, shape (batch, n_classes)

    `check` verifies: at logits of ±1e4 it is finite and exact, with no
    warning (overflow, log of 0 and invalid operations are errors during the
    check): log_softmax([[1e4, −1e4, 0]]) = [[0, −2e4, −1e4]],
    log_softmax([[−1e4, −1e4, −1e4]]) = [[−log 3] * 3] and
    log_softmax([[1e4, 1e4, −1e4]]) = [[−log 2, −log 2, −2e4 − log 2]]
    (to 1e-12). e^{1e4} is far beyond float64 (which ends near e^709), and
    the log of a probability that rounds to 0 is −inf: neither can be the way.
    """
    raise NotImplementedError("log_softmax: not implemented yet")


def softmax(logits):
    """Row-wise class probabilities p_k = e^{l_k} / Σ_j e^{l_j}.

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    p : ndarray, shape (batch, n_classes), each row summing to 1

    `check` verifies: every p lies in [0, 1] and every row sums to 1 (to
    1e-12), for logits anywhere in [−1e4, 1e4] (batches of 1 to 4 rows, 2 to
    6 classes, drawn by Hypothesis), with no warning; softmax([[1e4, −1e4, 0]])
    = [[1, 0, 0]], softmax([[−1e4, −1e4, −1e4]]) = [[⅓, ⅓, ⅓]] and
    softmax([[1e4, 1e4, −1e4]]) = [[½, ½, 0]] (to a relative 1e-15).
    """
    raise NotImplementedError("softmax: not implemented yet")


def cross_entropy(logits, y_one_hot):
    """The classifier's negative log-likelihood of the true label, from the logits, one number per example.

    For a one-hot target t (t_y = 1 for the true class y, 0 elsewhere):

        ce = −Σ_k t_k log p_k = −log p_y,   p = softmax(logits)

    Parameters
    ----------
    logits : ndarray, shape (batch, n_classes)
    y_one_hot : ndarray, shape (batch, n_classes), rows summing to 1

    Returns
    -------
    ce : ndarray, shape (batch,), in nats

    `check` verifies: shape (batch,), and the same result twice for the same
    inputs.
    """
    raise NotImplementedError("cross_entropy: not implemented yet")


def cross_entropy_backward(d_ce, logits, y_one_hot):
    """The gradient of the loss with respect to the logits, given d_ce = dL/d(ce).

    Parameters
    ----------
    d_ce : ndarray of shape (batch,) (one number per example), or a scalar
    logits, y_one_hot : ndarray, shape (batch, n_classes)

    Returns
    -------
    d_logits : ndarray, shape (batch, n_classes)

    `check` verifies: with d_ce = 1.0 (a scalar) it equals a closed form to a
    relative 1e-12 (which is yours to derive); with a per-example d_ce it
    matches central differences of sum(d_ce * ce) (relative error < 1e-6);
    batches of 1 to 4 rows, 2 to 10 classes, logits of size about 3.
    """
    raise NotImplementedError("cross_entropy_backward: not implemented yet")
