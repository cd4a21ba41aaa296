r"""Properties of the network pieces: a Dense layer, and the VAE's encoder-gradient wiring.

``dense_forward(x, W, b)`` and ``dense_backward(d_y, x, W) -> (d_W, d_b, d_x)``
are the pure form of :class:`numvae.layers.Dense`. ``encoder_gradient`` is the
step of :meth:`numvae.VAE.backward` where mu and log_var receive gradient from
two paths, the sampler (through z) and the KL, and the two must be summed
(``encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl) -> d_h``).
"""

import numpy as np

from ...gaussian import kl_standard_normal, kl_standard_normal_backward, reparameterize, reparameterize_backward
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   gradients_match)


def dense_gradients(impl, batch, fan_in, fan_out):
    rng = np.random.default_rng(batch * 100 + fan_in * 10 + fan_out)
    W = rng.uniform(-1, 1, size=(fan_in, fan_out))
    b = rng.standard_normal(fan_out)  # not zero: a zero bias hides a wrong bias gradient
    x = rng.standard_normal((batch, fan_in))
    d_y = rng.standard_normal((batch, fan_out))
    expect_shape("dense_forward(x, W, b)", call_twice(impl, "dense_forward", x, W, b), (batch, fan_out))
    grads = expect_tuple("dense_backward", call_twice(impl, "dense_backward", d_y, x.copy(), W.copy()),
                         ("d_W", "d_b", "d_x"))
    f = lambda: float(np.sum(d_y * call(impl, "dense_forward", x, W, b)))  # noqa: E731
    hints = {("b", 1 / batch): "d_b is a sum over the batch, not a mean",
             ("W", 1 / batch): "d_W is a sum over the batch, not a mean (no division by the batch size)",
             ("x", 1 / batch): "d_x has one row per example: nothing divides it by the batch size",
             (None, -1.0): "the sign is flipped"} if batch > 1 else {(None, -1.0): "the sign is flipped"}
    gradients_match(f, {"W": W, "b": b, "x": x}, dict(zip(("W", "b", "x"), grads)), hints=hints)


def dense_is_x_W_plus_b_as_a_sum(impl):
    rng = np.random.default_rng(3)
    W, b, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((2, 4))
    expected = np.array([[sum(x[i, k] * W[k, j] for k in range(4)) + b[j] for j in range(3)] for i in range(2)])
    expect_close("dense_forward(x, W, b)", call_twice(impl, "dense_forward", x, W, b), expected, 1e-13, 0)


PATHS = ("d_mu_z", "d_log_var_z", "d_mu_kl", "d_log_var_kl")


def _combination(impl, latent_dim=3, batch=4):
    """What ``encoder_gradient`` does with its four arguments, read off random ones: each half of d_h
    as a combination of them, e.g. ``{"mu": {"d_mu_z": 1.0, "d_log_var_kl": 1.0}, ...}``; None if it is none."""
    paths = np.random.default_rng(99).standard_normal((4, batch, latent_dim))
    try:
        d_h = np.asarray(call(impl, "encoder_gradient", *paths), dtype=np.float64)
    except (PropertyFailure, TypeError, ValueError):
        return None
    if d_h.shape != (batch, 2 * latent_dim):
        return None
    basis = paths.reshape(4, -1).T  # (batch * latent_dim, 4)
    halves = {}
    for half, part in (("mu", d_h[:, :latent_dim]), ("log_var", d_h[:, latent_dim:])):
        coefficients, *_ = np.linalg.lstsq(basis, part.ravel(), rcond=None)
        if not np.allclose(basis @ coefficients, part.ravel(), rtol=1e-9, atol=1e-12):
            return None
        halves[half] = {n: round(float(c), 6) for n, c in zip(PATHS, coefficients) if abs(c) > 1e-9}
    return halves


def _wiring_evidence(halves):
    """The mistake a combination shows, in words; or what it is, when no known mistake matches."""
    expected = {"mu": {"d_mu_z": 1.0, "d_mu_kl": 1.0}, "log_var": {"d_log_var_z": 1.0, "d_log_var_kl": 1.0}}
    if halves == {"mu": expected["log_var"], "log_var": expected["mu"]}:
        return "the halves are in the wrong order: d_h = [d_mu | d_log_var], mu's gradient first"
    if halves == {"mu": {"d_mu_z": 1.0}, "log_var": {"d_log_var_z": 1.0}}:
        return "the KL's path is missing: mu and log_var also reach the loss through the KL"
    if halves == {"mu": {"d_mu_kl": 1.0}, "log_var": {"d_log_var_kl": 1.0}}:
        return "the sampler's path is missing: mu and log_var also reach the loss through z"
    if halves == {"mu": {"d_mu_z": 1.0, "d_log_var_kl": 1.0}, "log_var": {"d_log_var_z": 1.0, "d_mu_kl": 1.0}}:
        return "the KL's two gradients are swapped: d_mu_kl belongs with d_mu_z, d_log_var_kl with d_log_var_z"
    if halves == {"mu": {"d_mu_z": 1.0, "d_log_var_z": 1.0}, "log_var": {"d_mu_kl": 1.0, "d_log_var_kl": 1.0}}:
        return "each half adds the two gradients of one path; each should add one variable's gradients from both paths"

    def text(half):
        return " + ".join(f"{c:g}·{n}" if c != 1 else n for n, c in halves[half].items()) or "0"

    return f"your d_h is [{text('mu')} | {text('log_var')}]; expected [d_mu_z + d_mu_kl | d_log_var_z + d_log_var_kl]"


def encoder_gradient_sums_both_paths(impl, batch, latent_dim, beta):
    """d_h = [d_mu | d_log_var] of  Σ d_z·z(mu, log_var, eps) + Σ d_kl·KL(mu, log_var).

    The two paths' gradients come from numvae's own backward functions; the
    property checks how ``encoder_gradient`` joins them. On a failure, the
    hint reads off which combination of its four arguments it returned.
    """
    rng = np.random.default_rng(batch + 10 * latent_dim)
    mu = rng.standard_normal((batch, latent_dim))
    log_var = rng.uniform(-2, 2, size=(batch, latent_dim))
    eps, d_z = rng.standard_normal((2, batch, latent_dim))
    d_kl = beta / batch
    _, std = reparameterize(mu, log_var, eps)
    paths = (*reparameterize_backward(d_z, eps, std), *kl_standard_normal_backward(d_kl, mu, log_var))
    d_h = expect_shape("d_h", call_twice(impl, "encoder_gradient", *paths), (batch, 2 * latent_dim))

    def f():
        z, _ = reparameterize(mu, log_var, eps)
        return float(np.sum(d_z * z) + np.sum(d_kl * kl_standard_normal(mu, log_var)))

    analytic = {"mu": d_h[:, :latent_dim], "log_var": d_h[:, latent_dim:]}
    try:
        gradients_match(f, {"mu": mu, "log_var": log_var}, analytic)
    except PropertyFailure as failure:
        halves = _combination(impl)
        failure.hint = _wiring_evidence(halves) if halves is not None else failure.hint
        raise


DENSE_GRADIENTS = Property(
    "dense_backward matches central differences", dense_gradients,
    cases=tuple({"batch": b, "fan_in": i, "fan_out": o} for b, i, o in ((1, 1, 1), (3, 4, 2), (5, 2, 6))))
DENSE_DEFINITION = Property("dense_forward is x W + b", dense_is_x_W_plus_b_as_a_sum, cases=({},))
ENCODER_GRADIENT = Property(
    "encoder_gradient matches central differences", encoder_gradient_sums_both_paths,
    cases=tuple({"batch": b, "latent_dim": j, "beta": beta} for b, j, beta in ((1, 1, 1.0), (4, 3, 1.0), (3, 2, 2.5))))
