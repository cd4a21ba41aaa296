"""Element-wise activation functions and their derivatives.

Each function ``f`` is followed directly by ``f_backward``, which turns the
upstream gradient ``d_y = dL/dy`` into ``d_x = dL/dx = d_y * f'(x)``. The
backward functions receive whatever the forward already computed (the input
``x`` and/or the output ``y``) so that nothing is evaluated twice.

All functions are pure (arrays in, arrays out), keep the dtype of their
floating-point input and are numerically stable: ``sigmoid`` and ``softplus``
never overflow, even for inputs of +-1e4.
"""

import numpy as np

# --------------------------------------------------------------------------
# ReLU: y = max(x, 0),  dy/dx = 1[x > 0]
# --------------------------------------------------------------------------


def relu(x):
    r"""Rectified linear unit, :math:`y = \max(x, 0)`.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``.
    """
    return np.maximum(x, 0)


def relu_backward(d_y, x, y):
    r""":math:`\partial y / \partial x = 1` where :math:`x > 0`, else 0.

    At the kink x = 0 we use the subgradient 0, as PyTorch does.
    """
    return d_y * (x > 0)


# --------------------------------------------------------------------------
# Leaky ReLU: y = x if x > 0 else a x,  dy/dx = 1 or a
# --------------------------------------------------------------------------

LEAKY_SLOPE = 0.01
"""Slope ``a`` of the leaky ReLU for negative inputs (PyTorch's default)."""


def leaky_relu(x, slope=LEAKY_SLOPE):
    r"""Leaky ReLU, :math:`y = x` for :math:`x > 0` and :math:`y = a x` otherwise.

    Parameters
    ----------
    x : ndarray, any shape
    slope : float
        The slope ``a`` for negative inputs.

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``.
    """
    return np.where(x > 0, x, x * slope)


def leaky_relu_backward(d_y, x, y, slope=LEAKY_SLOPE):
    r""":math:`\partial y / \partial x = 1` where :math:`x > 0`, else ``a``."""
    return np.where(x > 0, d_y, d_y * slope)


# --------------------------------------------------------------------------
# Tanh: y = tanh(x),  dy/dx = 1 - y^2
# --------------------------------------------------------------------------


def tanh(x):
    r"""Hyperbolic tangent, :math:`y = \tanh x` (stable in NumPy for any x)."""
    return np.tanh(x)


def tanh_backward(d_y, x, y):
    r""":math:`\partial y / \partial x = 1 - \tanh^2 x = 1 - y^2`, using the cached ``y``."""
    return d_y * (1 - y * y)


# --------------------------------------------------------------------------
# Sigmoid: y = 1 / (1 + exp(-x)),  dy/dx = y (1 - y)
# --------------------------------------------------------------------------


def sigmoid(x):
    r"""Logistic sigmoid, :math:`\mathrm{sigmoid}(x) = 1 / (1 + e^{-x})`, without overflow.

    (Spelled out: in numvae σ is always a standard deviation.)

    ``exp(-x)`` overflows for x < -709 in float64 (x < -88 in float32). We only
    ever exponentiate a non-positive number, :math:`e = e^{-|x|} \in (0, 1]`:

    .. math::
        \mathrm{sigmoid}(x) = \frac{1}{1 + e} \ (x \ge 0), \qquad
        \mathrm{sigmoid}(x) = \frac{e}{1 + e} \ (x < 0).

    Parameters
    ----------
    x : ndarray of floats, any shape

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``, in [0, 1].
    """
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    # The numerator is 1 where x >= 0 and e elsewhere. Since 0 < e <= 1 it is
    # max(e, [x >= 0]) (the comparison counts as 1 or 0): the values of
    # np.where(x >= 0, 1, e), about ten times faster (measured in benchmarks/README.md).
    return np.maximum(e, x >= 0) / (1 + e)


def sigmoid_backward(d_y, x, y):
    r""":math:`\mathrm{sigmoid}'(x) = \mathrm{sigmoid}(x)\,(1 - \mathrm{sigmoid}(x)) = y (1 - y)`, using the cached ``y``."""
    return d_y * y * (1 - y)


# --------------------------------------------------------------------------
# Softplus: y = log(1 + exp(x)),  dy/dx = sigmoid(x)
# --------------------------------------------------------------------------


def softplus(x):
    r"""Softplus, :math:`y = \log(1 + e^{x})`, without overflow.

    For large x, ``exp(x)`` overflows although y is close to x. The identity

    .. math::
        \log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})

    exponentiates only non-positive numbers, and ``log1p`` keeps precision
    when :math:`e^{-|x|}` is tiny.

    Parameters
    ----------
    x : ndarray of floats, any shape

    Returns
    -------
    y : ndarray, same shape and dtype as ``x``, non-negative.
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_backward(d_y, x, y):
    r""":math:`\frac{d}{dx}\log(1 + e^{x}) = \frac{e^{x}}{1 + e^{x}} = \mathrm{sigmoid}(x)`."""
    return d_y * sigmoid(x)


ACTIVATIONS = {
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "tanh": (tanh, tanh_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "softplus": (softplus, softplus_backward),
}
"""Name -> (forward, backward) for every activation numvae knows."""

GAINS = {
    "relu": float(np.sqrt(2.0)),
    "leaky_relu": float(np.sqrt(2.0 / (1 + LEAKY_SLOPE**2))),
    "tanh": 5.0 / 3.0,
    "sigmoid": 1.0,
    "softplus": 1.0,
}
"""Initialisation gain per activation (the values of PyTorch's ``calculate_gain``, except softplus).

PyTorch's ``calculate_gain`` has no entry for softplus; numvae's 1.0 is its own
choice (the gain of a linear unit, as for sigmoid).

A gain g keeps the variance of activations roughly constant from layer to layer
when weights are drawn with standard deviation ``g / sqrt(fan_in)``.
"""
