r"""Properties of the masked dense layer, the MADE decoder, the MADE-VAE and free bits.

``masked_dense_forward(x, W, M, b)`` and ``masked_dense_backward(d_y, x, W, M)
-> (d_W, d_b, d_x)`` are the pure form of :class:`numvae.made.MaskedDense`;
``MADE(input_dim, hidden_dims, latent_dim, activation, rng, dtype)`` computes
logits ``forward(x, z)``, logit d a function of :math:`x_{<d}` and z only
(Germain et al. 2015); ``MADEVAE`` (:mod:`numvae.made_vae`) has ``loss``,
``backward`` and ``parameters`` like :class:`numvae.VAE`; ``free_bits`` and
``free_bits_backward`` (:mod:`numvae.collapse`) are Kingma et al.'s (2016) KL
term :math:`\sum_j \max(\lambda, \overline{\mathrm{KL}}_j)` and its gradient.
"""

import numpy as np

from ...gradcheck import check_model
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   gradients_match, report_within_tolerance)


def _mask(rng, fan_in, fan_out):
    """A random boolean mask with at least one True, and one False when it has two entries or more."""
    mask = rng.random((fan_in, fan_out)) < 0.5
    mask.flat[0] = True
    if mask.size > 1:
        mask.flat[-1] = False
    return mask


def masked_dense_gradients(impl, batch, fan_in, fan_out):
    """masked_dense_backward matches central differences of masked_dense_forward, masked entries included."""
    rng = np.random.default_rng(batch * 100 + fan_in * 10 + fan_out)
    W = rng.uniform(-1, 1, size=(fan_in, fan_out))  # non-zero where masked too: the mask must hide them
    M = _mask(rng, fan_in, fan_out)
    b = rng.standard_normal(fan_out)
    x = rng.standard_normal((batch, fan_in))
    d_y = rng.standard_normal((batch, fan_out))
    expect_shape("masked_dense_forward(x, W, M, b)", call_twice(impl, "masked_dense_forward", x, W, M, b),
                 (batch, fan_out))
    grads = expect_tuple("masked_dense_backward", call_twice(impl, "masked_dense_backward", d_y, x, W, M),
                         ("d_W", "d_b", "d_x"))
    d_W = np.asarray(grads[0])
    if d_W.shape == M.shape and np.any(d_W[~M] != 0):
        raise PropertyFailure(f"d_W is {d_W[~M][np.nonzero(d_W[~M])[0][0]]:.6g} at a masked weight, expected 0",
                              hint="a masked weight never reaches the output: multiply d_W by the mask")
    f = lambda: float(np.sum(d_y * call(impl, "masked_dense_forward", x, W, M, b)))  # noqa: E731
    gradients_match(f, {"W": W, "b": b, "x": x}, dict(zip(("W", "b", "x"), grads)),
                    hints={1.0: "d_x must use W ⊙ M, not W"})


def masked_weights_change_nothing(impl):
    """Changing W where M = 0 leaves the output as it was, bit for bit."""
    rng = np.random.default_rng(7)
    W, b, x = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal((3, 5))
    M = _mask(rng, 5, 4)
    before = call(impl, "masked_dense_forward", x, W, M, b)
    W_changed = np.where(M, W, W + 10.0)
    expect_close("masked_dense_forward after changing masked weights", call(impl, "masked_dense_forward",
                 x, W_changed, M, b), before, 0, 0, hint="the weight must be W * M, in the forward pass")


def _dependence(forward, x, z):
    """(D, D) array: entry (d, j) = largest change of logit d over the batch when x_j moves by 0.5 (others fixed)."""
    base = forward(x, z)
    dependence = np.zeros((x.shape[1], x.shape[1]))
    for j in range(x.shape[1]):
        moved = x.copy()
        moved[:, j] += 0.5
        dependence[:, j] = np.max(np.abs(forward(moved, z) - base), axis=0)
    return dependence


def made_is_autoregressive(impl, input_dim, hidden_dims, latent_dim):
    """Logit d changes with x_j only for j < d, and with z always.

    With hidden layers of at least D − 1 units it changes with every x_j, j < d.
    """
    rng = np.random.default_rng(input_dim + 10 * latent_dim)
    made = call(impl, "MADE", input_dim, hidden_dims, latent_dim, "tanh", rng, np.float64)
    for dense in made.dense:  # non-zero biases: a unit that happens to sit at 0 can hide nothing
        dense.params["b"][...] = rng.standard_normal(dense.params["b"].shape)
    x = rng.uniform(size=(3, input_dim))
    z = rng.standard_normal((3, latent_dim))
    forward = lambda x, z: made.forward(x, z, keep_cache=False)  # noqa: E731
    expect_shape("MADE.forward(x, z)", forward(x, z), (3, input_dim))
    dependence = _dependence(forward, x, z)
    later = np.triu(np.ones((input_dim, input_dim), dtype=bool))  # (d, j) with j >= d
    if np.any(dependence[later] != 0):
        d, j = (int(i) for i in np.argwhere((dependence != 0) & later)[0])
        raise PropertyFailure(f"logit {d} changes by {dependence[d, j]:.3g} when x_{j} moves, expected 0 for j >= d",
                              hint="hidden masks need m(k) >= m(k'), the output mask a strict d > m(k)")
    if all(size >= input_dim - 1 for size in hidden_dims) and np.any(dependence[~later] == 0):
        d, j = (int(i) for i in np.argwhere((dependence == 0) & ~later)[0])
        raise PropertyFailure(f"logit {d} ignores x_{j} (j < d): the masks cut more than the order requires")
    if latent_dim:
        moved = z + 0.5
        unchanged = np.max(np.abs(forward(x, moved) - forward(x, z)), axis=0) == 0
        if np.any(unchanged):
            raise PropertyFailure(f"logit {int(np.argmax(unchanged))} ignores z", hint="z enters every layer unmasked")


def made_vae_gradients(impl, decoder_hidden_dims, latent_dim, beta, free_bits, activation):
    """Every parameter's gradient of MADEVAE.loss matches central differences (float64, eps replayed)."""
    model = call(impl, "MADEVAE", 6, hidden_dims=(5,), decoder_hidden_dims=decoder_hidden_dims,
                 latent_dim=latent_dim, activation=activation, beta=beta, free_bits=free_bits, seed=latent_dim)
    rng = np.random.default_rng(len(decoder_hidden_dims))
    x = rng.random((4, 6))  # grey levels: an all-zero row would sit every first-layer ReLU on its kink (b = 0)
    report_within_tolerance(check_model(model, x, eps=rng.standard_normal((4, latent_dim))))


def _kl_units_straddling(rng, batch, latent_dim, free_nats):
    """Per-example, per-unit KLs (batch, latent_dim) >= 0: even units average below λ > 0, odd ones above, none near it.

    Each unit mean is at least 0.3 λ away from the kink, where max has no derivative.
    """
    below = (np.arange(latent_dim) % 2 == 0)  # (latent_dim,)
    centre = np.where(below, 0.5 * free_nats, free_nats + 0.5)
    spread = np.where(below, 0.2 * free_nats, 0.2)
    return centre + spread * rng.uniform(-1, 1, size=(batch, latent_dim))


def free_bits_gradients(impl, batch, latent_dim, free_nats):
    """free_bits_backward matches central differences of free_bits, units below λ and above it."""
    rng = np.random.default_rng(batch + 10 * latent_dim)
    kl_units = _kl_units_straddling(rng, batch, latent_dim, free_nats)
    d_kl = expect_shape("free_bits_backward", call_twice(impl, "free_bits_backward", 1.5, kl_units, free_nats),
                        kl_units.shape)
    gradients_match(lambda: 1.5 * call(impl, "free_bits", kl_units, free_nats), {"kl_units": kl_units},
                    {"kl_units": d_kl}, hints={float(batch): "the mean over the batch gives each example 1/B"})


def free_bits_of_zero_is_the_mean_kl(impl):
    """With λ = 0, the free-bits term is the batch mean of the summed KL."""
    kl_units = np.random.default_rng(2).uniform(0, 3, size=(5, 4))
    expect_close("free_bits(kl_units, 0)", call(impl, "free_bits", kl_units, 0.0), kl_units.sum(axis=1).mean(),
                 1e-12, 0)


MASKED_DENSE_GRADIENTS = Property(
    "masked_dense_backward matches central differences", masked_dense_gradients,
    cases=tuple({"batch": b, "fan_in": i, "fan_out": o} for b, i, o in ((1, 1, 2), (3, 4, 2), (5, 6, 7))))
MASKED_WEIGHTS = Property("a masked weight changes nothing", masked_weights_change_nothing, cases=({},))
MADE_AUTOREGRESSIVE = Property(
    "logit d depends on x_<d and z only", made_is_autoregressive,
    cases=tuple({"input_dim": d, "hidden_dims": h, "latent_dim": j}
                for d, h, j in ((2, (), 0), (5, (), 1), (5, (4,), 2), (6, (8, 5), 1), (7, (3,), 2), (8, (9, 4, 7), 3))))
MADE_VAE_GRADIENTS = Property(
    "MADEVAE's gradients match central differences", made_vae_gradients,
    cases=tuple({"decoder_hidden_dims": h, "latent_dim": j, "beta": beta, "free_bits": fb, "activation": a}
                for h, j, beta, fb, a in (((), 1, 1.0, 0.0, "tanh"), ((7,), 2, 1.0, 0.0, "relu"),
                                          ((7, 5), 3, 2.5, 0.0, "tanh"), ((7,), 3, 1.0, 0.3, "tanh"),
                                          ((6,), 2, 0.5, 0.2, "softplus"))))
FREE_BITS_GRADIENTS = Property(
    "free_bits_backward matches central differences", free_bits_gradients,
    cases=tuple({"batch": b, "latent_dim": j, "free_nats": lam} for b, j, lam in ((1, 3, 0.5), (4, 5, 0.25), (6, 2, 1.0))),
    hint="∂/∂KL_nj of Σ_j max(λ, mean_n KL_nj) is [mean KL_j > λ] / B")
FREE_BITS_AT_ZERO = Property("free bits with λ = 0 is the mean KL", free_bits_of_zero_is_the_mean_kl, cases=({},))
