r"""An autoregressive decoder from masked dense layers (MADE), and the VAE that uses it.

MADE (Germain, Gregor, Murray & Larochelle, "MADE: Masked Autoencoder for
Distribution Estimation", ICML 2015, arXiv:1502.03509) writes a distribution
over D binary pixels with the chain rule of probability, and conditioned on
a latent code z:

.. math::
    p_\theta(x \mid z) = \prod_{d=1}^{D} \mathrm{Bernoulli}\big(x_d \,\big|\,
    \mathrm{sigmoid}(l_d(x_{<d}, z))\big).

All D logits come out of *one* pass of an ordinary MLP whose weight matrices
are multiplied by fixed binary masks, chosen so that logit d reads only the
pixels before d (the *autoregressive property*). Given x, the likelihood and
its gradient are exact in one pass ("teacher forcing": the observed pixels
are the inputs); drawing a sample takes D passes, pixel by pixel.

z enters every layer unmasked: each masked layer reads ``[h | z]``, and its
mask has a block of ones in z's rows. The output layer also reads x directly
through a strictly lower-triangular mask, as the MADE authors' code does
(its ``direct_input_connect="Output"``): the pixels just before d (the one to
its left, the one above it) then reach logit d through one weight each.

Contents: :func:`masked_dense_forward` / :func:`masked_dense_backward` (a
dense layer times a mask), :func:`made_degrees` / :func:`made_masks`, and the
layers :class:`MaskedDense` and :class:`MADE`. The VAE with this decoder is
:class:`numvae.made_vae.MADEVAE`.
"""

import numpy as np

from . import activations
from .layers import Activation, Dense, _missing_cache, dense_backward, dense_forward

# --------------------------------------------------------------------------
# The masked dense layer, as functions: y = x (W ⊙ M) + b
# --------------------------------------------------------------------------


def masked_dense_forward(x, W, M, b):
    r"""Masked affine layer :math:`y = x (W \odot M) + b`: a dense layer whose weight is ``W * M``.

    Parameters
    ----------
    x : ndarray, shape (batch, fan_in)
    W : ndarray, shape (fan_in, fan_out)
    M : ndarray of 0/1 (or bool), shape (fan_in, fan_out), fixed
    b : ndarray, shape (fan_out,)

    Returns
    -------
    y : ndarray, shape (batch, fan_out)
    """
    return dense_forward(x, W * M, b)


def masked_dense_backward(d_y, x, W, M, need_d_x=True):
    r"""Gradients of :math:`y = x (W \odot M) + b`: the dense layer's, with the mask applied to ``d_W``.

    With :math:`V = W \odot M`, :func:`numvae.layers.dense_backward` gives
    :math:`\partial L/\partial V = x^\top \bar y`, :math:`\partial L/\partial b` and
    :math:`\partial L/\partial x = \bar y V^\top`; and :math:`V_{ik} = W_{ik} M_{ik}`
    gives :math:`\partial V_{ik}/\partial W_{ik} = M_{ik}`:

    .. math::
        \frac{\partial L}{\partial W} = (x^\top \bar y) \odot M .

    A masked weight gets gradient 0, so an optimizer never moves it.

    Parameters
    ----------
    d_y : ndarray, shape (batch, fan_out)
    x : ndarray, shape (batch, fan_in)
    W, M : ndarray, shape (fan_in, fan_out)
    need_d_x : bool

    Returns
    -------
    d_W : ndarray, shape (fan_in, fan_out), zero where M is
    d_b : ndarray, shape (fan_out,)
    d_x : ndarray, shape (batch, fan_in), or None if not ``need_d_x``
    """
    d_V, d_b, d_x = dense_backward(d_y, x, W * M, need_d_x)
    return d_V * M, d_b, d_x


# --------------------------------------------------------------------------
# Degrees and masks (Germain et al., section 4)
# --------------------------------------------------------------------------


def made_degrees(input_dim, hidden_dims):
    r"""The degree of every unit: inputs 1..D, then each hidden layer's, spread evenly.

    Pixel d (counting from 1) has degree d. A hidden unit of degree m will be
    allowed to see pixels 1..m only; its degree lies in
    :math:`[\min m^{l-1}, D - 1]` (a unit of degree D could feed no output).
    Germain et al. draw the hidden degrees at random; here they are spread
    evenly over that range, so the masks are the same on every run.

    Returns
    -------
    list of ndarray of int: ``[m^0 (input_dim,), m^1 (hidden_dims[0],), ...]``
    """
    degrees = [np.arange(1, input_dim + 1)]
    for size in hidden_dims:
        low = int(degrees[-1].min())
        degrees.append(low + (np.arange(size) * (input_dim - low)) // size)  # values in [low, input_dim - 1]
    return degrees


def made_masks(input_dim, hidden_dims, latent_dim=0):
    r"""The masks of a MADE with these hidden sizes, one per layer, each of shape (rows read, fan_out).

    With the degrees :math:`m^l` of :func:`made_degrees`:

    .. math::
        M^{l}_{k' k} = [\, m^{l}(k) \ge m^{l-1}(k') \,] \ \text{(hidden layers)}, \qquad
        M^{\mathrm{out}}_{k d} = [\, d > m^{L}(k) \,] \ \text{(output)}.

    By induction a hidden unit of degree m depends only on pixels 1..m (those
    it reads have degree ≤ m, and each depends only on pixels up to its own
    degree), and output d reads only units of degree < d: logit d depends on
    :math:`x_{<d}` alone. The strict inequality is where the property lives;
    with ≥ at the output, pixel d would see itself.

    With hidden layers the output also reads x itself, through
    :math:`M^{\mathrm{direct}}_{d' d} = [\, d > d' \,]`, strictly
    lower-triangular; with none, that is the whole network (a logistic
    autoregressive model). The last ``latent_dim`` rows of every mask are
    ones: z feeds every unit.

    Returns
    -------
    list of bool ndarray, one per layer, with rows in the order the layer reads
    them: ``[h | z]`` for a hidden layer, ``[h_L | x | z]`` for the output
    (``[x | z]`` without hidden layers).
    """
    degrees = made_degrees(input_dim, hidden_dims)
    masks = [m_in[:, None] <= m_out[None, :] for m_in, m_out in zip(degrees[:-1], degrees[1:])]
    earlier = degrees[0][:, None] < degrees[0][None, :]  # (input_dim, input_dim): pixel d' before pixel d
    masks.append(np.vstack([degrees[-1][:, None] < degrees[0][None, :], *([earlier] if hidden_dims else [])]))
    return [np.vstack([mask, np.ones((latent_dim, mask.shape[1]), dtype=bool)]) for mask in masks]


# --------------------------------------------------------------------------
# Layers: state around the functions
# --------------------------------------------------------------------------


class MaskedDense(Dense):
    r"""A :class:`~numvae.layers.Dense` layer times a fixed mask: :func:`masked_dense_forward` and its backward.

    The weights are initialised as Dense's, and the masked ones set to 0
    (never used, never moved), so ``params["W"]`` shows the network as it is.

    Parameters
    ----------
    mask : bool ndarray, shape (fan_in, fan_out)
    rng, gain, dtype : as for Dense
    """

    def __init__(self, mask, rng, gain=1.0, dtype=np.float64):
        super().__init__(*mask.shape, rng, gain, dtype)
        self.mask = mask
        self.params["W"] *= mask

    def forward(self, x, keep_cache=True):
        """(batch, fan_in) -> (batch, fan_out)."""
        if keep_cache:
            self.cache = x
        return masked_dense_forward(x, self.params["W"], self.mask, self.params["b"])

    def backward(self, d_y, need_d_x=True):
        """Fill ``grads`` from ``d_y`` (batch, fan_out); return ``d_x`` (batch, fan_in), or None."""
        if self.cache is None:
            raise _missing_cache(self)
        self.grads["W"], self.grads["b"], d_x = masked_dense_backward(d_y, self.cache, self.params["W"], self.mask,
                                                                      need_d_x)
        return d_x


class MADE:
    """The conditional MADE: logits ``l(x, z)`` of shape (batch, input_dim), logit d a function of x_<d and z.

    Layer l computes ``h_l = activation([h_{l-1} | z] (W_l ⊙ M_l) + b_l)``,
    from ``h_0 = x``; the output layer computes ``[h_L | x | z] (W ⊙ M) + b``,
    with no activation (:func:`made_masks` gives every M).

    Parameters
    ----------
    input_dim : int >= 2
    hidden_dims : sequence of int
    latent_dim : int >= 0
    activation : str
    rng : numpy.random.Generator
    dtype : numpy dtype
    """

    def __init__(self, input_dim, hidden_dims, latent_dim, activation, rng, dtype=np.float64):
        self.latent_dim = latent_dim
        self.widths = (input_dim, *hidden_dims)  # the h that each layer reads
        masks = made_masks(input_dim, hidden_dims, latent_dim)
        gain = activations.GAINS[activation]
        self.dense = [MaskedDense(mask, rng, gain, dtype) for mask in masks[:-1]] + [MaskedDense(masks[-1], rng, 1.0, dtype)]
        self.activations = [Activation(activation) for _ in hidden_dims]  # after each Dense but the last

    def forward(self, x, z, keep_cache=True):
        """x (batch, input_dim), z (batch, latent_dim) -> logits (batch, input_dim)."""
        h = x
        for i, dense in enumerate(self.dense):
            reads = [h, x, z] if 0 < i == len(self.activations) else [h, z]  # the output reads x directly too
            h = dense.forward(np.concatenate(reads, axis=1), keep_cache)
            if i < len(self.activations):
                h = self.activations[i].forward(h, keep_cache)
        return h

    def logit(self, x, z, d):
        """Logit d alone, shape (batch,): the hidden layers in full, then only column d of the output layer.

        What sequential sampling needs, at the cost of the hidden layers: the
        output layer (reading x directly as well) is the largest.
        """
        h = x
        for dense, activation in zip(self.dense, self.activations):
            h = activation.forward(dense.forward(np.concatenate([h, z], axis=1), keep_cache=False), keep_cache=False)
        output = self.dense[-1]
        reads = np.concatenate([h, x, z] if self.activations else [h, z], axis=1)  # as in forward
        return masked_dense_forward(reads, output.params["W"][:, d : d + 1], output.mask[:, d : d + 1],
                                    output.params["b"][d : d + 1])[:, 0]

    def backward(self, d_logits):
        """d_logits (batch, input_dim) -> d_z (batch, latent_dim), summed over the layers z feeds; fills ``grads``."""
        d_h, d_z = d_logits, 0
        for i in reversed(range(len(self.dense))):
            if i < len(self.activations):
                d_h = self.activations[i].backward(d_h)
            d_in = self.dense[i].backward(d_h)  # (batch, rows read): [h | z], or [h_L | x | z]
            d_h, d_z = d_in[:, : self.widths[i]], d_z + d_in[:, d_in.shape[1] - self.latent_dim :]
        return d_z

    def parameters(self, prefix):
        """``{f"{prefix}.{i}.W": W_i, f"{prefix}.{i}.b": b_i}`` for the masked layers, first to last."""
        return {f"{prefix}.{i}.{key}": value for i, dense in enumerate(self.dense) for key, value in dense.params.items()}

    def gradients(self, prefix):
        """The ``grads`` of the masked layers, named and ordered as :meth:`parameters`."""
        return {f"{prefix}.{i}.{key}": value for i, dense in enumerate(self.dense) for key, value in dense.grads.items()}
