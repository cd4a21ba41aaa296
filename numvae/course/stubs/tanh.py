import numpy as np


def tanh(x):
    """The hyperbolic tangent, y = tanh(x) = (e^x − e^−x) / (e^x + e^−x), element by element.

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64

    Returns
    -------
    y : ndarray, the shape and dtype of x

    `check` verifies: y = (e^2x − 1) / (e^2x + 1) to a relative 1e-13 for
    |x| <= 20; dtype kept; finite and silent (no overflow warning) for
    |x| <= 1e4; x itself is not changed.
    """
    raise NotImplementedError("tanh: not implemented yet")


def tanh_backward(d_y, x, y):
    """The gradient of the loss with respect to x, given d_y = dL/dy.

    The forward's input x and its output y = tanh(x) are both passed in: the
    derivative can be written in either; choose the one that costs nothing.

    Parameters
    ----------
    d_y, x, y : ndarray, all of one shape

    Returns
    -------
    d_x : ndarray, the shape and dtype of x

    `check` verifies: d_x matches central differences of sum(d_y * tanh(x))
    (relative error < 1e-6); finite, dtype kept for |x| <= 1e4.
    """
    raise NotImplementedError("tanh_backward: not implemented yet")
