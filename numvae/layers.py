"""Layers with hand-written backward passes: the dense layer as two functions, then ``Dense``, ``Activation`` and ``MLP``.

The math is in pure functions (arrays in, arrays out), as in CS231n's
``affine_forward`` / ``affine_backward``: :func:`dense_forward` and
:func:`dense_backward` here, the activations in :mod:`numvae.activations`.
The classes only hold state and call them. Every layer follows one
protocol, borrowed from numpy-ml:

* ``params`` and ``grads`` are dicts with identical keys and shapes;
* ``forward(x)`` computes the output and keeps what backward needs in
  ``self.cache`` (pass ``keep_cache=False`` for inference, which leaves the
  cache of a pending training step untouched);
* ``backward(d_out)`` reads only the cache, fills ``grads`` and returns
  ``d_in = dL/d(input)``. It raises ``RuntimeError`` if forward was not called.

Shapes: ``batch`` examples in rows, features in columns, as in ``x @ W``.
"""

import numpy as np

from . import activations

# --------------------------------------------------------------------------
# The dense layer, as functions: y = x W + b
# --------------------------------------------------------------------------


def dense_forward(x, W, b):
    r"""Affine layer :math:`y = x W + b`.

    Parameters
    ----------
    x : ndarray, shape (batch, fan_in)
    W : ndarray, shape (fan_in, fan_out)
    b : ndarray, shape (fan_out,)

    Returns
    -------
    y : ndarray, shape (batch, fan_out)
    """
    y = x @ W  # (batch, fan_out)
    y += b  # in place: no second array of this size
    return y


def dense_backward(d_y, x, W, need_d_x=True):
    r"""Gradients of :math:`y = x W + b` from :math:`\bar y = \partial L / \partial y`.

    By indices first: :math:`y_{nk} = \sum_i x_{ni} W_{ik} + b_k` for example n
    and output k, so :math:`\partial y_{nk} / \partial W_{ik} = x_{ni}`,
    :math:`\partial y_{nk} / \partial b_k = 1`, :math:`\partial y_{nk} / \partial x_{ni} = W_{ik}`,
    and the chain rule sums over every :math:`y_{nk}` a parameter touches:

    .. math::
        \frac{\partial L}{\partial W_{ik}} = \sum_n \bar y_{nk}\, x_{ni}, \qquad
        \frac{\partial L}{\partial b_k} = \sum_n \bar y_{nk}, \qquad
        \frac{\partial L}{\partial x_{ni}} = \sum_k \bar y_{nk}\, W_{ik}.

    (W_ik is used by every example, so its sum runs over the batch; x_ni
    feeds every output, so its sum runs over k.) Each sum is a matrix product:

    .. math::
        \frac{\partial L}{\partial W} = x^\top \bar y, \qquad
        \frac{\partial L}{\partial b} = \textstyle\sum_{\mathrm{batch}} \bar y, \qquad
        \frac{\partial L}{\partial x} = \bar y W^\top.

    Parameters
    ----------
    d_y : ndarray, shape (batch, fan_out)
    x : ndarray, shape (batch, fan_in), the forward's input
    W : ndarray, shape (fan_in, fan_out)
    need_d_x : bool
        False for a network's first layer, whose input is the data: its
        gradient is of no use, and it is the costliest product of the three.

    Returns
    -------
    d_W : ndarray, shape (fan_in, fan_out)
    d_b : ndarray, shape (fan_out,)
    d_x : ndarray, shape (batch, fan_in), or None if not ``need_d_x``
    """
    return x.T @ d_y, d_y.sum(axis=0), d_y @ W.T if need_d_x else None


# --------------------------------------------------------------------------
# Layers: state around the functions
# --------------------------------------------------------------------------


def _missing_cache(layer):
    return RuntimeError(
        f"{type(layer).__name__}.backward() called before forward(): "
        "run forward (e.g. VAE.loss) on a batch first"
    )


class Dense:
    r"""Affine layer :math:`y = x W + b`, holding W and b: :func:`dense_forward` and :func:`dense_backward`.

    Parameters
    ----------
    fan_in, fan_out : int
        Input and output sizes.
    rng : numpy.random.Generator
        Source of the initial weights.
    gain : float
        Initialisation gain of the activation that follows (see
        ``activations.GAINS``): ``W ~ U(-a, a)`` with
        :math:`a = g \sqrt{3 / \mathrm{fan\_in}}`, i.e. standard deviation
        :math:`g / \sqrt{\mathrm{fan\_in}}` (He/LeCun uniform). ``b = 0``.
    dtype : numpy dtype
    """

    def __init__(self, fan_in, fan_out, rng, gain=1.0, dtype=np.float64):
        bound = gain * np.sqrt(3.0 / fan_in)
        self.params = {
            "W": rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype),  # (fan_in, fan_out)
            "b": np.zeros(fan_out, dtype=dtype),  # (fan_out,)
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.cache = None

    def forward(self, x, keep_cache=True):
        """(batch, fan_in) -> (batch, fan_out)."""
        if keep_cache:
            self.cache = x
        return dense_forward(x, self.params["W"], self.params["b"])

    def backward(self, d_y, need_d_x=True):
        """Fill ``grads`` from ``d_y`` (batch, fan_out); return ``d_x`` (batch, fan_in), or None."""
        if self.cache is None:
            raise _missing_cache(self)
        self.grads["W"], self.grads["b"], d_x = dense_backward(d_y, self.cache, self.params["W"], need_d_x)
        return d_x


class Activation:
    """Element-wise activation layer: a function and its backward from ``activations``.

    The cache holds the input ``x`` and the output ``y``; each backward uses
    whichever of the two its derivative is cheapest in (``y`` for sigmoid and
    tanh, ``x`` for the others).

    Parameters
    ----------
    name : str
        A key of ``activations.ACTIVATIONS``.
    """

    def __init__(self, name):
        self.name = name
        self.function, self.function_backward = activations.ACTIVATIONS[name]
        self.cache = None

    def forward(self, x, keep_cache=True):
        y = self.function(x)
        if keep_cache:
            self.cache = (x, y)
        return y

    def backward(self, d_y):
        if self.cache is None:
            raise _missing_cache(self)
        x, y = self.cache
        return self.function_backward(d_y, x, y)


class MLP:
    """Multilayer perceptron: Dense, activation, Dense, ..., Dense.

    The activation sits between Dense layers and never after the last one, so
    the network's output is unconstrained (logits, a mean, or [mu | log_var]).

    Parameters
    ----------
    sizes : sequence of int
        ``(in_dim, hidden_1, ..., out_dim)``; at least two entries.
    activation : str
        Name of the hidden activation (a key of ``activations.ACTIVATIONS``).
    rng : numpy.random.Generator
    dtype : numpy dtype
    """

    def __init__(self, sizes, activation, rng, dtype=np.float64):
        self.layers = []
        for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):  # hidden layers
            self.layers += [Dense(fan_in, fan_out, rng, activations.GAINS[activation], dtype), Activation(activation)]
        self.layers.append(Dense(sizes[-2], sizes[-1], rng, 1.0, dtype))  # the output layer: no activation
        self.dense = self.layers[::2]  # the Dense layers, first to last

    def forward(self, x, keep_cache=True):
        """(batch, sizes[0]) -> (batch, sizes[-1])."""
        for layer in self.layers:
            x = layer.forward(x, keep_cache)
        return x

    def backward(self, d_out, need_d_x=True):
        """(batch, sizes[-1]) -> (batch, sizes[0]), or None if not ``need_d_x``; fills every Dense layer's ``grads``."""
        for layer in reversed(self.layers[1:]):
            d_out = layer.backward(d_out)
        return self.layers[0].backward(d_out, need_d_x)

    def parameters(self, prefix):
        """``{f"{prefix}.{i}.W": W_i, f"{prefix}.{i}.b": b_i}`` for the Dense layers, first to last."""
        return {f"{prefix}.{i}.{key}": value for i, dense in enumerate(self.dense) for key, value in dense.params.items()}

    def gradients(self, prefix):
        """The ``grads`` of the Dense layers, named and ordered as :meth:`parameters`."""
        return {f"{prefix}.{i}.{key}": value for i, dense in enumerate(self.dense) for key, value in dense.grads.items()}
