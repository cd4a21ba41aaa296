r"""Properties of the network pieces: a Dense layer, and the VAE's encoder-gradient wiring.

``dense_forward(x, W, b)`` and ``dense_backward(d_y, x, W) -> (d_W, d_b, d_x)``
are the pure form of :class:`numvae.layers.Dense`. ``encoder_gradient`` is the
step of :meth:`numvae.VAE.backward` where mu and log_var receive gradient from
two paths, the sampler (through z) and the KL, and the two must be summed
(``encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl) -> d_h``).
"""

import numpy as np

from ...gaussian import kl_standard_normal, kl_standard_normal_backward, reparameterize, reparameterize_backward
from .core import Property, call, call_twice, expect_close, expect_shape, expect_tuple, gradients_match


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
    gradients_match(f, {"W": W, "b": b, "x": x}, dict(zip(("W", "b", "x"), grads)),
                    hints={1 / batch: "d_b is a sum over the batch, not a mean"} if batch > 1 else None)


def dense_is_x_W_plus_b_as_a_sum(impl):
    rng = np.random.default_rng(3)
    W, b, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((2, 4))
    expected = np.array([[sum(x[i, k] * W[k, j] for k in range(4)) + b[j] for j in range(3)] for i in range(2)])
    expect_close("dense_forward(x, W, b)", call_twice(impl, "dense_forward", x, W, b), expected, 1e-13, 0)


def encoder_gradient_sums_both_paths(impl, batch, latent_dim, beta):
    """d_h = [d_mu | d_log_var] of  Σ d_z·z(mu, log_var, eps) + Σ d_kl·KL(mu, log_var).

    The two paths' gradients come from numvae's own backward functions; the
    property checks how ``encoder_gradient`` joins them.
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
    gradients_match(f, {"mu": mu, "log_var": log_var}, analytic)


DENSE_GRADIENTS = Property(
    "dense_backward matches central differences", dense_gradients,
    cases=tuple({"batch": b, "fan_in": i, "fan_out": o} for b, i, o in ((1, 1, 1), (3, 4, 2), (5, 2, 6))))
DENSE_DEFINITION = Property("dense_forward is x W + b", dense_is_x_W_plus_b_as_a_sum, cases=({},))
ENCODER_GRADIENT = Property(
    "encoder_gradient matches central differences", encoder_gradient_sums_both_paths,
    cases=tuple({"batch": b, "latent_dim": j, "beta": beta} for b, j, beta in ((1, 1, 1.0), (4, 3, 1.0), (3, 2, 2.5))),
    hint="mu and log_var get gradient from two paths, the sampler and the KL: add both")
