"""Layers with hand-written backward passes: ``Dense``, ``Activation`` and ``MLP``.

Every layer follows one protocol, borrowed from numpy-ml:

* ``params`` and ``grads`` are dicts with identical keys and shapes;
* ``forward(x)`` computes the output and writes what backward needs into
  ``self.cache`` (pass ``keep_cache=False`` for inference, which leaves the
  cache of a pending training step untouched);
* ``backward(d_out)`` reads only the cache, writes ``grads`` in place and returns
  ``d_in = dL/d(input)``. It raises ``RuntimeError`` if forward was not called.

Shapes: ``batch`` examples in rows, features in columns, as in ``x @ W``.

``pack_parameters`` moves every parameter and gradient of a model into one flat,
contiguous buffer and leaves views behind, so an optimizer can update the whole
model with a handful of vectorised operations; ``view_parameters`` points the
layers at such buffers again after a copy.
"""

import numpy as np

from . import buffers
from .activations import ACTIVATIONS, GAINS


def _missing_cache(layer):
    return RuntimeError(
        f"{type(layer).__name__}.backward() called before forward(): "
        "run forward (e.g. VAE.loss) on a batch first"
    )


class Dense:
    r"""Affine layer :math:`y = x W + b`.

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

    Notes
    -----
    Forward, for ``x`` of shape (batch, fan_in):

    .. math:: y = x W + b, \qquad y \in \mathbb{R}^{\mathrm{batch} \times \mathrm{fan\_out}}

    Backward, from :math:`\bar y = \partial L / \partial y` (batch, fan_out).
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
        \frac{\partial L}{\partial W} &= x^\top \bar y \ (\mathrm{fan\_in}, \mathrm{fan\_out}), \\
        \frac{\partial L}{\partial b} &= \textstyle\sum_{\mathrm{batch}} \bar y \ (\mathrm{fan\_out},), \\
        \frac{\partial L}{\partial x} &= \bar y W^\top \ (\mathrm{batch}, \mathrm{fan\_in}).
    """

    def __init__(self, fan_in, fan_out, rng, gain=1.0, dtype=np.float64):
        bound = gain * np.sqrt(3.0 / fan_in)
        self.params = {
            "W": rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype),
            "b": np.zeros(fan_out, dtype=dtype),
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.cache = None

    def forward(self, x, keep_cache=True):
        y = x @ self.params["W"]  # (batch, fan_out)
        y += self.params["b"]
        if keep_cache:
            self.cache = x
        return y

    def backward(self, d_y, need_d_x=True):
        """Fill ``grads`` from ``d_y`` (batch, fan_out); return ``d_x`` or None.

        The first layer of a network has no use for ``d_x`` (the data is not a
        parameter), so ``need_d_x=False`` skips that matrix product.
        """
        if self.cache is None:
            raise _missing_cache(self)
        x = self.cache
        np.matmul(x.T, d_y, out=self.grads["W"])  # (fan_in, fan_out)
        np.sum(d_y, axis=0, out=self.grads["b"])  # (fan_out,)
        return d_y @ self.params["W"].T if need_d_x else None  # (batch, fan_in)


class Activation:
    """Element-wise activation layer wrapping a function pair from ``activations``.

    The cache holds the input ``x`` and the output ``y``; each backward uses
    whichever of the two its derivative is cheapest in (``y`` for sigmoid and
    tanh, ``x`` for the others).

    Parameters
    ----------
    name : str
        A key of ``activations.ACTIVATIONS``.
    """

    params = {}
    grads = {}

    def __init__(self, name):
        self.name = name
        self._forward, self._backward = ACTIVATIONS[name]
        self.cache = None

    def forward(self, x, keep_cache=True):
        y = self._forward(x)
        if keep_cache:
            self.cache = (x, y)
        return y

    def backward(self, d_y, need_d_x=True):
        if self.cache is None:
            raise _missing_cache(self)
        x, y = self.cache
        return self._backward(d_y, x, y)


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
        self.dense = []
        self.layers = []
        last = len(sizes) - 2
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            gain = 1.0 if i == last else GAINS[activation]
            layer = Dense(fan_in, fan_out, rng, gain=gain, dtype=dtype)
            self.dense.append(layer)
            self.layers.append(layer)
            if i != last:
                self.layers.append(Activation(activation))

    def forward(self, x, keep_cache=True):
        """(batch, sizes[0]) -> (batch, sizes[-1])."""
        for layer in self.layers:
            x = layer.forward(x, keep_cache)
        return x

    def backward(self, d_out, need_d_x=True):
        """(batch, sizes[-1]) -> (batch, sizes[0]), or None if ``need_d_x`` is False."""
        for layer in reversed(self.layers[1:]):
            d_out = layer.backward(d_out)
        return self.layers[0].backward(d_out, need_d_x)

    def named_modules(self, prefix):
        """Yield ``(f"{prefix}.{i}", dense_i)`` for the parametrised layers, first to last."""
        for i, layer in enumerate(self.dense):
            yield f"{prefix}.{i}", layer


def pack_parameters(named_modules, dtype):
    """Move the parameters and gradients of many modules into two flat buffers.

    Each module's ``params[key]`` and ``grads[key]`` are replaced by views into
    ``flat_params`` and ``flat_grads`` (the values of ``params`` are copied
    over), so updating the flat buffer updates every layer at once.

    Parameters
    ----------
    named_modules : iterable of (str, module)
        Modules with ``params``/``grads`` dicts, in the order the buffers use.
    dtype : numpy dtype

    Returns
    -------
    flat_params, flat_grads : ndarray, shape (n_parameters,)
    params, grads : dict
        ``"{module_name}.{key}" -> view``, in buffer order.
    """
    named_modules = list(named_modules)
    values = [value for _, module in named_modules for value in module.params.values()]
    total = sum(value.size for value in values)
    # On huge pages when large: every step sweeps both buffers (see numvae.buffers).
    flat_params = buffers.zeros(total, dtype)
    flat_grads = buffers.zeros(total, dtype)
    offset = 0
    for value in values:
        flat_params[offset : offset + value.size] = value.ravel()
        offset += value.size
    params, grads = view_parameters(named_modules, flat_params, flat_grads)
    return flat_params, flat_grads, params, grads


def view_parameters(named_modules, flat_params, flat_grads):
    """Point every module's ``params`` and ``grads`` at views into two flat buffers.

    The layout is :func:`pack_parameters`'s: modules in order, keys in order,
    each array's shape kept. Nothing is copied; the views see the buffers'
    values. ``VAE`` calls this again after a copy or an unpickling, which
    gives every array its own memory and so would cut the views loose.

    Parameters
    ----------
    named_modules : iterable of (str, module)
        Modules with ``params``/``grads`` dicts, in the order the buffers use.
    flat_params, flat_grads : ndarray, shape (n_parameters,)
        Contiguous buffers holding exactly the modules' parameter count.

    Returns
    -------
    params, grads : dict
        ``"{module_name}.{key}" -> view``, in buffer order.

    Raises
    ------
    ValueError
        If a buffer's size differs from the modules' parameter count.
    """
    named_modules = list(named_modules)
    total = sum(value.size for _, module in named_modules for value in module.params.values())
    if flat_params.size != total or flat_grads.size != total:
        raise ValueError(
            f"flat_params, flat_grads: expected {total} values each for these modules, "
            f"got {flat_params.size} and {flat_grads.size}"
        )
    params, grads = {}, {}
    offset = 0
    for module_name, module in named_modules:
        for key, value in module.params.items():
            size, shape = value.size, value.shape
            p = flat_params[offset : offset + size].reshape(shape)
            g = flat_grads[offset : offset + size].reshape(shape)
            module.params[key], module.grads[key] = p, g
            params[f"{module_name}.{key}"], grads[f"{module_name}.{key}"] = p, g
            offset += size
    return params, grads
