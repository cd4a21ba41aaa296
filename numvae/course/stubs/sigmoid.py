import numpy as np


def sigmoid(x):
    """The logistic sigmoid, y = 1 / (1 + e^−x), element by element, for any x.

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64

    Returns
    -------
    y : ndarray, the shape and dtype of x, in [0, 1]

    `check` verifies: y = 1 / (1 + e^−x) to a relative 1e-14 for |x| <= 20;
    at x = ±1e4, in float32 and in float64, sigmoid is exactly 1 and 0 and
    NumPy warns of nothing (no overflow: e^−x for x = −1e4 is far beyond
    float64); dtype kept, finite for |x| <= 1e4; x itself is not changed.
    """
    raise NotImplementedError("sigmoid: not implemented yet")


def sigmoid_backward(d_y, x, y):
    """The gradient of the loss with respect to x, given d_y = dL/dy.

    The forward's input x and its output y = sigmoid(x) are both passed in:
    the derivative can be written in either; choose the one that costs nothing.

    Parameters
    ----------
    d_y, x, y : ndarray, all of one shape

    Returns
    -------
    d_x : ndarray, the shape and dtype of x

    `check` verifies: d_x matches central differences of sum(d_y * sigmoid(x))
    (relative error < 1e-6); d_x = 0 at x = ±1e4, with no warning; dtype kept.
    """
    raise NotImplementedError("sigmoid_backward: not implemented yet")
