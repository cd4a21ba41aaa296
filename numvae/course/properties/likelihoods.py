"""Properties of the decoder likelihoods: ``bernoulli_nll`` from logits, ``gaussian_nll``.

Each negative log-likelihood is compared with the density it claims to be
(the cross-entropy formula, the Gaussian density written out), each gradient
with central differences, and the Bernoulli must be exact at logits of ±1e4.
"""

import numpy as np

from . import strategies as S
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   first_match, gradients_match, strict_numerics)

BERNOULLI_HINTS = {(None, -1.0): "the sign is flipped"}
GAUSSIAN_HINTS = {("mean", 2.0): "d_mean is twice too large: the ½ in front and the 2 of the square cancel",
                  ("mean", 0.5): "a ½ too many in d_mean: the ½ in front and the 2 of the square cancel",
                  ("log_var", 2.0): "d_log_var is missing a ½: the leading ½ multiplies the log_var terms too",
                  ("log_var", 0.5): "a ½ too many in d_log_var",
                  (None, -1.0): "the sign is flipped"}


def bernoulli_gradients(impl, batch, input_dim):
    rng = np.random.default_rng(batch + input_dim)
    x = rng.uniform(0, 1, size=(batch, input_dim))  # grey levels, not only {0, 1}
    x[0, 0] = 1.0
    logits = rng.uniform(-4, 4, size=(batch, input_dim))
    d_nll = rng.standard_normal(batch)
    expect_shape("bernoulli_nll(x, logits)", call_twice(impl, "bernoulli_nll", x, logits), (batch,))
    analytic = call_twice(impl, "bernoulli_nll_backward", d_nll, x, logits.copy())
    f = lambda: float(np.sum(d_nll * call(impl, "bernoulli_nll", x, logits)))  # noqa: E731
    disagree = (f"bernoulli_nll and its backward disagree by a factor of input_dim = {input_dim}: is one a mean over "
                "pixels and the other a sum? −log p(x) sums them")
    hints = {**BERNOULLI_HINTS, ("logits", input_dim): disagree, ("logits", 1 / input_dim): disagree} \
        if input_dim > 1 else BERNOULLI_HINTS
    gradients_match(f, {"logits": logits}, {"logits": analytic}, hints=hints)


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
                    hints=GAUSSIAN_HINTS)


def gaussian_fixed_sigma_gradient(impl, sigma):
    """d_mean for one σ shared by every pixel (a scalar log_var), as the VAE's fixed-σ likelihood uses it."""
    rng = np.random.default_rng(int(sigma * 10))
    x, mean = rng.standard_normal((2, 4, 3))
    log_var, d_nll = 2 * np.log(sigma), rng.standard_normal(4)
    grads = call_twice(impl, "gaussian_nll_backward", d_nll, x, mean.copy(), log_var)
    d_mean, _ = expect_tuple("gaussian_nll_backward", grads, ("d_mean", "d_log_var"))
    f = lambda: float(np.sum(d_nll * call(impl, "gaussian_nll", x, mean, log_var)))  # noqa: E731
    gradients_match(f, {"mean": mean}, {"mean": d_mean}, hints=GAUSSIAN_HINTS)


def gaussian_scalar_log_var_gradient(impl):
    # For a scalar log_var, d_log_var comes per pixel; summed, it is the derivative for that scalar.
    rng = np.random.default_rng(3)
    x, mean = rng.standard_normal((2, 4, 3))
    log_var = np.array(0.3)  # 0-d, perturbed in place by the check
    grads = call_twice(impl, "gaussian_nll_backward", 1.0, x, mean, log_var.copy())
    _, d_log_var = expect_tuple("gaussian_nll_backward", grads, ("d_mean", "d_log_var"))
    f = lambda: float(np.sum(call(impl, "gaussian_nll", x, mean, log_var)))  # noqa: E731
    gradients_match(f, {"log_var": log_var}, {"log_var": np.sum(d_log_var)}, hints=GAUSSIAN_HINTS)


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
        squashed = 1 / (1 + np.exp(-p))  # what a sigmoid applied to the logits first makes of them
        expect_close("−log p(x|logits), summed over pixels", nll, expected, 1e-6, 1e-6,
                     hint=lambda got, _: first_match(got, [
                         ("a mean over pixels: −log p(x) sums them (each pixel is one independent Bernoulli)",
                          expected / shape[1]),
                         ("the sign is flipped", -expected),
                         ("the logits went through a sigmoid first: they are the decoder's raw output",
                          -np.sum(x * np.log(squashed) + (1 - x) * np.log(1 - squashed), axis=1)),
                     ], 1e-6, 1e-9))
        expect_close("d_logits", call(impl, "bernoulli_nll_backward", 1.0, x, logits), p - x, 1e-12, 1e-15,
                     hint=lambda got, _: first_match(got, [("the sign is flipped", x - p),
                                                           ("a mean over pixels: −log p(x) sums them",
                                                            (p - x) / shape[1])]))
    except PropertyFailure as failure:
        failure.inputs = inputs
        raise


def bernoulli_exact_at_extreme_logits(impl, dtype, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    x = data.draw(S.arrays(st, hnp, (2, 3), 0, 1, dtype), label="x")
    logits = np.array([[1e4] * 3, [-1e4] * 3], dtype=dtype)
    try:
        with strict_numerics():
            nll = np.asarray(call(impl, "bernoulli_nll", x, logits))
            d_logits = np.asarray(call(impl, "bernoulli_nll_backward", 1.0, x, logits))
    except PropertyFailure as failure:
        # the evidence: NumPy's warning (overflow, log of 0, 0 · inf), turned into an error by strict_numerics
        if any(w in failure.detail for w in ("overflow", "divide by zero", "invalid value")):
            failure.hint = ("at logits of ±1e4, p = sigmoid(l) is exactly 0 or 1 and log(p) is −inf: write −log p "
                            "with the logits themselves (softplus), never through p")
        raise
    if nll.dtype != dtype or d_logits.dtype != dtype:
        raise PropertyFailure(f"{np.dtype(dtype).name} in, {nll.dtype} and {d_logits.dtype} out", {"x": x},
                              hint="keep the input's dtype: np.float64 constants and .astype(float) turn float32 "
                                   "into float64")
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
        expected = -np.sum(np.log(density), axis=1)
        square, log_2pi = np.sum((x - mean) ** 2 / var, axis=1), shape[1] * np.log(2 * np.pi)
        expect_close("gaussian_nll", call(impl, "gaussian_nll", x, mean, log_var), expected, 1e-12, 1e-12,
                     hint=lambda got, _: first_match(got, [
                         ("the log 2π term is missing: without it this is no density (a loss in nats needs it)",
                          expected - log_2pi / 2),
                         ("the log σ² term is missing", expected - np.sum(log_var) / 2),
                         ("the leading ½ is missing", 2 * expected),
                         ("the square is divided by σ, not by the variance σ² = exp(log_var)",
                          expected + 0.5 * (np.sum((x - mean) ** 2 / np.sqrt(var), axis=1) - square)),
                         ("a mean over pixels: −log p(x) sums them", expected / shape[1]),
                     ], 1e-9, 1e-9))
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
                    strategies=strategies)


BERNOULLI_EXTREMES = bernoulli_extremes()
GAUSSIAN_DENSITY = Property("gaussian_nll is −log of the Gaussian density", gaussian_is_the_density,
                            strategies=_shaped)
GAUSSIAN_FAR_MEANS = Property("gaussian_nll finite for far-away means", gaussian_finite_for_far_means,
                              cases=({"dtype": "float32"}, {"dtype": "float64"}))
