import numpy as np


def dense_forward(x, W, b):
    """A dense (affine) layer, y = x W + b: y[n, k] = Σ_i x[n, i] W[i, k] + b[k].

    Parameters
    ----------
    x : ndarray, shape (batch, fan_in), one example per row
    W : ndarray, shape (fan_in, fan_out)
    b : ndarray, shape (fan_out,)

    Returns
    -------
    y : ndarray, shape (batch, fan_out)

    `check` verifies: y equals the sum above, written out, to a relative 1e-13;
    no argument is changed in place.
    """
    raise NotImplementedError("dense_forward: not implemented yet")


def dense_backward(d_y, x, W):
    """The gradients of the loss with respect to W, b and x, given d_y = dL/dy.

    Every example in the batch uses the same W and b.

    Parameters
    ----------
    d_y : ndarray, shape (batch, fan_out)
    x : ndarray, shape (batch, fan_in), the forward's input
    W : ndarray, shape (fan_in, fan_out)

    Returns
    -------
    (d_W, d_b, d_x) : a tuple of three arrays, the shapes of W, b and x

    `check` verifies: each matches central differences of sum(d_y * y)
    (relative error < 1e-6) for batches of 1, 3 and 5, with a bias that is not
    zero (a zero bias would hide a wrong d_b); no argument changed in place.
    """
    raise NotImplementedError("dense_backward: not implemented yet")
