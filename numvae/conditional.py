r"""A label as a network input: the one-hot code, and a join of two inputs whose backward splits the gradient.

A conditional model feeds a class label y ∈ {0, …, K−1} to a network beside
its usual input, as a one-hot row :math:`c = e_y` joined to the input's
columns: the encoder of a conditional VAE reads :math:`[x \mid c]`, its
decoder :math:`[z \mid c]`. Joined, the first dense layer computes

.. math::
    [x \mid c] \begin{bmatrix} W_x \\ W_c \end{bmatrix} + b = x W_x + W_c[y] + b,

so the label adds its own learned bias, row y of :math:`W_c`, to the first
layer's pre-activation. With :math:`W_c = 0` the network ignores the label.

The functions are pure, arrays in and arrays out, as in :mod:`numvae.layers`.
Reference: Sohn, Lee & Yan, "Learning Structured Output Representation using
Deep Conditional Generative Models", NeurIPS 2015; Kingma, Rezende, Mohamed &
Welling, "Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014.
"""

import numpy as np


def one_hot(labels, n_classes, dtype=np.float64):
    r"""The rows :math:`e_{y_n}` of the identity: 1 in column :math:`y_n`, 0 elsewhere.

    .. math::
        c_{nk} = [\,y_n = k\,], \qquad k = 0, \dots, K - 1.

    No derivative: the labels are data, not parameters.

    Parameters
    ----------
    labels : ndarray of int, shape (batch,), values in 0 .. n_classes − 1
    n_classes : int
        K, the number of classes.
    dtype : numpy dtype
        That of the network the code is fed to.

    Returns
    -------
    c : ndarray, shape (batch, n_classes)
    """
    c = np.zeros((len(labels), n_classes), dtype=dtype)  # (batch, n_classes)
    c[np.arange(len(labels)), labels] = 1
    return c


def join(a, b):
    r"""The columns of ``a`` then those of ``b``, side by side: :math:`[a \mid b]`.

    Parameters
    ----------
    a : ndarray, shape (batch, width_a)
    b : ndarray, shape (batch, width_b)

    Returns
    -------
    joined : ndarray, shape (batch, width_a + width_b)
    """
    return np.concatenate([a, b], axis=1)


def join_backward(d_joined, width_a):
    r"""The backward of a join is a slice: each input gets back the columns it supplied.

    Column j of :math:`[a \mid b]` is column j of a for j < width_a, and
    column j − width_a of b after it; each is copied, unchanged, so

    .. math::
        \frac{\partial [a \mid b]_{n,j}}{\partial a_{n,i}} = [\,j = i\,], \qquad
        \frac{\partial [a \mid b]_{n,j}}{\partial b_{n,i}} = [\,j = \text{width}_a + i\,],

    and the chain rule's sum over j keeps one term:
    :math:`\bar a = \bar J_{:, :\text{width}_a}`, :math:`\bar b = \bar J_{:, \text{width}_a:}`.

    Parameters
    ----------
    d_joined : ndarray, shape (batch, width_a + width_b)
        :math:`\bar J = \partial L / \partial [a \mid b]`.
    width_a : int
        The number of columns that came from ``a``.

    Returns
    -------
    d_a : ndarray, shape (batch, width_a)
    d_b : ndarray, shape (batch, width_b)
    """
    return d_joined[:, :width_a], d_joined[:, width_a:]
