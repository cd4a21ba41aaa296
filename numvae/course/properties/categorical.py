r"""Properties of the softmax, the cross-entropy from logits and the entropy (``numvae.categorical``).

The gradient checks prove each backward matches its forward. The value
properties prove the forwards themselves: rows of probabilities that sum to 1
and stay finite at logits of ±1e4 (a softmax that does not subtract the row's
maximum overflows at 710 in float64), a cross-entropy gradient that is exactly
p − onehot, an entropy of 0 for a sure classifier and log K for a uniform one.
"""

import numpy as np

from . import strategies as S
from .core import Property, PropertyFailure, call, call_twice, expect_close, expect_shape, gradients_match, strict_numerics

OVERFLOW_HINT = "subtract each row's largest logit before exp: softmax(l) = softmax(l − max l), and exp(0) = 1"


def softmax_rows_sum_to_one(impl, logits):
    with strict_numerics():
        p = expect_shape("softmax", call(impl, "softmax", logits), logits.shape)
    if not np.all((p >= 0) & (p <= 1)):
        raise PropertyFailure(f"softmax gave {p[~((p >= 0) & (p <= 1))][0]!r}, outside [0, 1]", hint=OVERFLOW_HINT)
    expect_close("row sums of softmax", p.sum(axis=-1), np.ones(len(logits)), 0, 1e-12,
                 hint="sum over the classes (axis=-1), one total per row, not over the batch")


def softmax_finite_at_extremes(impl):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    with strict_numerics():
        p = call(impl, "softmax", logits)
        log_p = call(impl, "log_softmax", logits)
    expect_close("softmax at ±1e4", p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], 1e-15, 0, hint=OVERFLOW_HINT)
    expect_close("log_softmax at ±1e4", log_p, [[0, -2e4, -1e4], [-np.log(3)] * 3, [-np.log(2), -np.log(2), -2e4 - np.log(2)]],
                 1e-15, 1e-12, hint="log_softmax = (l − m) − log Σ exp(l − m), never log(softmax): log 0 = −inf")


def cross_entropy_gradient_is_p_minus_onehot(impl, batch, n_classes):
    rng = np.random.default_rng(31 * batch + n_classes)
    logits = 3 * rng.standard_normal((batch, n_classes))
    t = np.eye(n_classes)[rng.integers(0, n_classes, batch)]  # (batch, n_classes), one-hot
    expect_shape("cross_entropy", call_twice(impl, "cross_entropy", logits, t), (batch,))
    d_logits = call(impl, "cross_entropy_backward", 1.0, logits, t)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expect_close("cross_entropy_backward(1, logits, onehot)", d_logits, p - t, 1e-12, 1e-14,
                 hint="∂(−log p_y)/∂l_k = p_k − [k = y]: the softmax minus the one-hot target")
    d_ce = rng.standard_normal(batch)

    def f():
        return float(np.sum(d_ce * call(impl, "cross_entropy", logits, t)))

    gradients_match(f, {"logits": logits}, {"logits": call(impl, "cross_entropy_backward", d_ce, logits, t)})


def backward_matches_central_differences(impl, forward, batch, n_classes):
    """softmax, log_softmax and entropy: each backward against central differences of its forward."""
    rng = np.random.default_rng(17 * batch + n_classes)
    logits = 2 * rng.standard_normal((batch, n_classes))
    if forward == "entropy":
        upstream = rng.standard_normal(batch)
        analytic = call(impl, "entropy_backward", upstream, logits)
    else:
        upstream = rng.standard_normal((batch, n_classes))
        p = np.exp(call(impl, "log_softmax", logits))
        analytic = call(impl, f"{forward}_backward", upstream, p)

    def f():
        return float(np.sum(upstream * call(impl, forward, logits)))

    gradients_match(f, {"logits": logits}, {"logits": analytic},
                    hints={-1.0: "the sign is flipped"} if forward != "entropy" else
                    {-1.0: "the sign is flipped: H = −Σ p log p"})


def entropy_at_the_extremes(impl, n_classes):
    sure = np.full((1, n_classes), -1e3)
    sure[0, 0] = 1e3  # softmax exactly one-hot in float64 (e^-2000 = 0)
    with strict_numerics():
        h_sure = call(impl, "entropy", sure)
        h_uniform = call(impl, "entropy", np.zeros((1, n_classes)))
    expect_close("entropy of a one-hot q", h_sure, [0.0], 0, 1e-15,
                 hint="0·log 0 is 0: compute p·log p from log_softmax, never log(softmax)")
    expect_close("entropy of a uniform q", h_uniform, [np.log(n_classes)], 1e-14, 0, hint="H = −Σ p log p")


def _batch_and_classes(st, hnp):
    shapes = st.tuples(st.integers(1, 4), st.integers(2, 6))
    return {"logits": S.arrays(st, hnp, shapes, -1e4, 1e4)}


_SHAPES = ({"batch": 1, "n_classes": 2}, {"batch": 4, "n_classes": 3}, {"batch": 3, "n_classes": 10})

SOFTMAX_ROWS = Property("softmax rows sum to 1", softmax_rows_sum_to_one, strategies=_batch_and_classes,
                        examples=({"logits": np.array([[1e4, -1e4], [710.0, 0.0]])},))
SOFTMAX_EXTREMES = Property("softmax and log_softmax finite and exact at ±1e4", softmax_finite_at_extremes, cases=({},))
CROSS_ENTROPY_GRADIENT = Property("the cross-entropy gradient is p − onehot", cross_entropy_gradient_is_p_minus_onehot,
                                  cases=_SHAPES)
BACKWARD_GRADIENTS = Property("softmax, log_softmax and entropy backward match central differences",
                              backward_matches_central_differences,
                              cases=tuple({"forward": f, **s} for f in ("softmax", "log_softmax", "entropy")
                                          for s in _SHAPES))
ENTROPY_EXTREMES = Property("entropy 0 for one-hot q, log K for uniform q", entropy_at_the_extremes,
                            cases=({"n_classes": 2}, {"n_classes": 10}))
