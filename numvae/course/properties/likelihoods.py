"""Properties of the decoder likelihoods: ``bernoulli_nll`` from logits, ``gaussian_nll``.

Each negative log-likelihood is compared with the density it claims to be
(the cross-entropy formula, the Gaussian density written out), each gradient
with central differences, and the Bernoulli must be exact at logits of ±1e4.
"""

import numpy as np

from . import strategies as S
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   gradients_match, strict_numerics)

PIXEL_HINTS = {0.5: "a ½ too many", 2.0: "a missing ½", -1.0: "the sign is flipped"}


def bernoulli_gradients(impl, batch, input_dim):
    rng = np.random.default_rng(batch + input_dim)
    x = rng.uniform(0, 1, size=(batch, input_dim))  # grey levels, not only {0, 1}
    x[0, 0] = 1.0
    logits = rng.uniform(-4, 4, size=(batch, input_dim))
    d_nll = rng.standard_normal(batch)
    expect_shape("bernoulli_nll(x, logits)", call_twice(impl, "bernoulli_nll", x, logits), (batch,))
    analytic = call_twice(impl, "bernoulli_nll_backward", d_nll, x, logits.copy())
    f = lambda: float(np.sum(d_nll * call(impl, "bernoulli_nll", x, logits)))  # noqa: E731
    gradients_match(f, {"logits": logits}, {"logits": analytic}, hints=PIXEL_HINTS)


def gaussian_gradients(impl, batch, input_dim):
    """d_mean and the per-pixel d_log_var (summed over the batch)."""
    rng = np.random.default_rng(10 + batch + input_dim)
    x, mean = rng.standard_normal((2, batch, input_dim))
    log_var = rng.uniform(-2, 1, size=input_dim)  # one per pixel, shared by the batch
    d_nll = rng.standard_normal(batch)
    expect_shape("gaussian_nll(x, mean, log_var)", call_twice(impl, "gaussian_nll", x, mean, log_var), (batch,))
    grads = call_twice(impl, "gaussian_nll_backward", d_nll, x, mean.copy(), log_var.copy())
    d_mean, d_log_var = expect_tuple("gaussian_nll_backward", grads, ("d_mean", "d_log_var"))
    f = lambda: float(np.sum(d_nll * call(impl, "gaussian_nll", x, mean, log_var)))  # noqa: E731
    gradients_match(f, {"mean": mean, "log_var": log_var}, {"mean": d_mean, "log_var": d_log_var},
                    hints=PIXEL_HINTS)


def gaussian_fixed_sigma_gradient(impl, sigma):
    """d_mean for one σ shared by every pixel (a scalar log_var), as the VAE's fixed-σ likelihood uses it."""
    rng = np.random.default_rng(int(sigma * 10))
    x, mean = rng.standard_normal((2, 4, 3))
    log_var, d_nll = 2 * np.log(sigma), rng.standard_normal(4)
    grads = call_twice(impl, "gaussian_nll_backward", d_nll, x, mean.copy(), log_var)
    d_mean, _ = expect_tuple("gaussian_nll_backward", grads, ("d_mean", "d_log_var"))
    f = lambda: float(np.sum(d_nll * call(impl, "gaussian_nll", x, mean, log_var)))  # noqa: E731
    gradients_match(f, {"mean": mean}, {"mean": d_mean}, hints=PIXEL_HINTS)


def gaussian_scalar_log_var_gradient(impl):
    # For a scalar log_var, d_log_var comes per pixel; summed, it is the derivative for that scalar.
    rng = np.random.default_rng(3)
    x, mean = rng.standard_normal((2, 4, 3))
    log_var = np.array(0.3)  # 0-d, perturbed in place by the check
    grads = call_twice(impl, "gaussian_nll_backward", 1.0, x, mean, log_var.copy())
    _, d_log_var = expect_tuple("gaussian_nll_backward", grads, ("d_mean", "d_log_var"))
    f = lambda: float(np.sum(call(impl, "gaussian_nll", x, mean, log_var)))  # noqa: E731
    gradients_match(f, {"log_var": log_var}, {"log_var": np.sum(d_log_var)}, hints=PIXEL_HINTS)


def bernoulli_is_the_cross_entropy(impl, shape, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    x = data.draw(S.arrays(st, hnp, shape, 0, 1), label="x")
    logits = data.draw(S.arrays(st, hnp, shape, -20, 20), label="logits")
    p = 1 / (1 + np.exp(-logits))  # stable for |l| <= 20: p and 1 - p stay above 2e-9
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    inputs = {"x": x, "logits": logits}
    try:
        nll = expect_shape("bernoulli_nll", call(impl, "bernoulli_nll", x, logits), shape[:1])
        # log(1 - p) loses about eps / (1 - p) relative precision when p is near 1.
        expect_close("−log p(x|logits), summed over pixels", nll, expected, 1e-6, 1e-6,
                     hint="−log p = Σ_d [softplus(l_d) − x_d l_d]: a sum over pixels, of the logits as given")
        expect_close("d_logits", call(impl, "bernoulli_nll_backward", 1.0, x, logits), p - x, 1e-12, 1e-15)
    except PropertyFailure as failure:
        failure.inputs = inputs
        raise


def bernoulli_exact_at_extreme_logits(impl, dtype, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    x = data.draw(S.arrays(st, hnp, (2, 3), 0, 1, dtype), label="x")
    logits = np.array([[1e4] * 3, [-1e4] * 3], dtype=dtype)
    with strict_numerics():
        nll = np.asarray(call(impl, "bernoulli_nll", x, logits))
        d_logits = np.asarray(call(impl, "bernoulli_nll_backward", 1.0, x, logits))
    if nll.dtype != dtype or d_logits.dtype != dtype:
        raise PropertyFailure(f"{np.dtype(dtype).name} in, {nll.dtype} and {d_logits.dtype} out", {"x": x})
    # log(1 + e^L) = L + log(1 + e^-L) and e^-1e4 is 0 in both dtypes, so
    # -log p(x | +L) = L (1 - x) and -log p(x | -L) = L x; p is exactly 1 or 0.
    x64 = x.astype(np.float64)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    expect_close("nll at logits ±1e4", nll, [1e4 * np.sum(1 - x64[0]), 1e4 * np.sum(x64[1])], rtol, rtol * 1e4)
    expect_close("d_logits at logits ±1e4", d_logits, [1 - x64[0], -x64[1]], rtol, rtol)


def gaussian_is_the_density(impl, shape, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    x = data.draw(S.arrays(st, hnp, shape, -3, 3), label="x")
    mean = data.draw(S.arrays(st, hnp, shape, -3, 3), label="mean")
    log_var = data.draw(S.arrays(st, hnp, shape[1], -2, 2), label="log_var")
    var = np.exp(log_var)
    # N(x; m, s^2) = exp(-(x - m)^2 / (2 s^2)) / sqrt(2 pi s^2); no underflow for these bounds.
    density = np.exp(-((x - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    try:
        expect_close("gaussian_nll", call(impl, "gaussian_nll", x, mean, log_var), -np.sum(np.log(density), axis=1),
                     1e-12, 1e-12, hint="−log N(x; m, σ²) = ½ Σ [(x − m)²/σ² + log σ² + log 2π]: every term counts")
    except PropertyFailure as failure:
        failure.inputs = {"x": x, "mean": mean, "log_var": log_var}
        raise


def gaussian_finite_for_far_means(impl, dtype):
    dtype = np.dtype(dtype).type
    x = np.zeros((2, 3), dtype=dtype)
    mean = np.array([[1e4] * 3, [-1e4] * 3], dtype=dtype)
    with np.errstate(over="raise", invalid="raise"):
        nll = np.asarray(call(impl, "gaussian_nll", x, mean, dtype(2 * np.log(0.1))))
    # 0.5 * 3 * (1e8 / 0.01 + log(0.01) + log(2 pi)) per example.
    expected = 1.5 * (1e10 + np.log(0.01) + np.log(2 * np.pi))
    if nll.dtype != dtype:
        raise PropertyFailure(f"{np.dtype(dtype).name} in, {nll.dtype} out")
    expect_close("gaussian_nll at |x − mean| = 1e4", nll, [expected, expected], 1e-6, 0)


def _shaped(st, hnp):
    return {"shape": S.batch_shapes(st), "data": st.data()}


BERNOULLI_GRADIENTS = Property("bernoulli_nll_backward matches central differences", bernoulli_gradients,
                               cases=({"batch": 1, "input_dim": 1}, {"batch": 3, "input_dim": 5}))
GAUSSIAN_GRADIENTS = Property("gaussian_nll_backward matches central differences", gaussian_gradients,
                              cases=({"batch": 1, "input_dim": 1}, {"batch": 3, "input_dim": 5}))
GAUSSIAN_FIXED_SIGMA_GRADIENT = Property("gaussian d_mean with fixed σ matches central differences",
                                         gaussian_fixed_sigma_gradient, cases=tuple({"sigma": s} for s in (0.1, 1.0, 3.0)))
GAUSSIAN_SCALAR_LOG_VAR = Property("gaussian d_log_var for a scalar log_var sums to its derivative",
                                   gaussian_scalar_log_var_gradient, cases=({},))
BERNOULLI_CROSS_ENTROPY = Property("bernoulli_nll is the cross-entropy", bernoulli_is_the_cross_entropy,
                                   strategies=_shaped)


def bernoulli_extremes(dtype=None):
    """The extreme-logit property in one dtype, or in a dtype Hypothesis picks."""
    def strategies(st, hnp):
        dtypes = st.just(dtype) if dtype else st.sampled_from([np.float32, np.float64])
        return {"dtype": dtypes, "data": st.data()}
    return Property("bernoulli_nll exact and silent at logits ±1e4", bernoulli_exact_at_extreme_logits,
                    strategies=strategies, hint="never form p = sigmoid(l) and log(p): use softplus(l) − x l")


BERNOULLI_EXTREMES = bernoulli_extremes()
GAUSSIAN_DENSITY = Property("gaussian_nll is −log of the Gaussian density", gaussian_is_the_density,
                            strategies=_shaped)
GAUSSIAN_FAR_MEANS = Property("gaussian_nll finite for far-away means", gaussian_finite_for_far_means,
                              cases=({"dtype": "float32"}, {"dtype": "float64"}))
