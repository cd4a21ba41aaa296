r"""Properties of the optimizers: the update rules, and behaviour on convex quadratics.

``impl.Adam(params, lr=..., betas=..., epsilon=...)`` and
``impl.SGD(params, lr=..., momentum=...)`` build optimizers whose ``step(grads)``
updates the arrays of ``params`` in place, as :mod:`numvae.optim` does. On
f(ω) = ½ (ω − c)ᵀ A (ω − c), A symmetric positive definite with eigenvalues in
[0.5, 2], each must reach c; Adam's first step has size lr in every coordinate
(both bias-corrected moments are exact after one step), and twenty steps match
Algorithm 1 of Kingma & Ba (2015) line by line.
"""

import numpy as np

from . import strategies as S
from .core import Property, PropertyFailure, call, describe, expect_close, first_match


def _quadratic(rng, dim):
    """A of f(ω) = ½ (ω - c)ᵀ A (ω - c), A SPD with eigenvalues in [0.5, 2]."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q @ np.diag(rng.uniform(0.5, 2.0, dim)) @ q.T


def _step(optimizer, grads):
    try:
        optimizer.step(grads)
    except (Exception, SystemExit) as exc:  # the student's adam_step inside, exit() included
        raise PropertyFailure(f"step raised {describe(exc)}") from None


def sgd_reaches_the_minimum_of_a_quadratic(impl, c, seed, momentum):
    A = _quadratic(np.random.default_rng(seed), c.size)
    omega = np.zeros(c.size)
    # Heavy ball with lr 0.1 and momentum 0.9 contracts by sqrt(0.9) per step for every
    # eigenvalue in [0.5, 2]; plain descent with lr 0.5 by at most max|1 - 0.5 λ| = 0.75.
    lr, steps = (0.1, 600) if momentum else (0.5, 100)
    optimizer = call(impl, "SGD", {"omega": omega}, lr=lr, momentum=momentum)
    for _ in range(steps):
        _step(optimizer, {"omega": A @ (omega - c)})  # ∇f = A (ω - c)
    expect_close("ω after SGD on the quadratic", omega, c, 0, 1e-6)


def adam_reaches_the_minimum_of_a_quadratic(impl, c, seed):
    A = _quadratic(np.random.default_rng(seed), c.size)
    omega = np.zeros(c.size)
    # With a constant step size Adam only reaches a neighbourhood of c of about lr,
    # so lr is annealed as in practice: 0.1 for 500 steps (enough to travel 5 per
    # coordinate), then x0.985 per step for 700 steps (down to 2.5e-6).
    optimizer = call(impl, "Adam", {"omega": omega}, lr=0.1)
    for t in range(1200):
        optimizer.lr = 0.1 * 0.985 ** max(0, t - 500)
        _step(optimizer, {"omega": A @ (omega - c)})
    expect_close("ω after Adam on the quadratic", omega, c, 0, 1e-6)


def adam_first_step_has_size_lr(impl, g, signs, lr):
    # After one step m̂ = g and v̂ = g², so Δω = -lr g / (|g| + δ): magnitude lr (1 - δ/|g|).
    g = g * np.array(signs[: g.size])
    omega = np.ones_like(g)
    _step(call(impl, "Adam", {"w": omega}, lr=lr), {"w": g})
    step = omega - 1
    mistakes = _adam_mistakes(np.ones_like(g), [g], lr, 0.9, 0.999, 1e-8)
    expect_close("|first Adam step|", np.abs(step), np.full_like(g, lr), 1e-5, 0,
                 hint=lambda got, _: first_match(step, [(text, omega_k - 1) for text, omega_k in mistakes], 1e-6, 0))
    if not np.all(np.sign(step) == -np.sign(g)):
        raise PropertyFailure("the first step goes with the gradient, not against it")


def _adam(omega, grads, lr, beta1, beta2, epsilon, correct_m=True, correct_v=True, inside=False, t0=1):
    """Adam as Algorithm 1 of Kingma & Ba (2015) writes it, line by line; or with one known mistake (a correction
    left out, δ under the root, t + 1 for t)."""
    m, v = np.zeros_like(omega), np.zeros_like(omega)
    for t, g in enumerate(grads, start=t0):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t) if correct_m else m
        v_hat = v / (1 - beta2**t) if correct_v else v
        omega = omega - lr * m_hat / (np.sqrt(v_hat + epsilon) if inside else np.sqrt(v_hat) + epsilon)
    return omega


def _adam_mistakes(omega, grads, lr, beta1, beta2, epsilon):
    """(text, ω after the steps) for each known mistake in Adam, on these gradients."""
    with np.errstate(all="ignore"):
        return [
            ("without bias correction: divide m by 1 − ρ₁ᵗ and v by 1 − ρ₂ᵗ (ρ₁, ρ₂: the betas)",
             _adam(omega, grads, lr, beta1, beta2, epsilon, correct_m=False, correct_v=False)),
            ("m is bias-corrected but v is not: divide v by 1 − ρ₂ᵗ too",
             _adam(omega, grads, lr, beta1, beta2, epsilon, correct_v=False)),
            ("v is bias-corrected but m is not: divide m by 1 − ρ₁ᵗ too",
             _adam(omega, grads, lr, beta1, beta2, epsilon, correct_m=False)),
            ("δ (epsilon) is under the square root: Algorithm 1 adds it after, √v̂ + δ",
             _adam(omega, grads, lr, beta1, beta2, epsilon, inside=True)),
            ("the bias corrections use t + 1: t counts steps from 1 and is passed in as it is",
             _adam(omega, grads, lr, beta1, beta2, epsilon, t0=2)),
        ]


def adam_matches_algorithm_1(impl, betas, epsilon):
    rng = np.random.default_rng(0)
    omega0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-4, 2) for _ in range(20)]
    omega = omega0.copy()
    optimizer = call(impl, "Adam", {"w": omega}, lr=0.01, betas=betas, epsilon=epsilon)
    for g in grads:
        _step(optimizer, {"w": g})
    mistakes = _adam_mistakes(omega0, grads, 0.01, *betas, epsilon)
    expect_close("ω after 20 Adam steps", omega, _adam(omega0, grads, 0.01, *betas, epsilon), 1e-12, 1e-14,
                 hint=lambda got, _: first_match(got, mistakes, 1e-9, 1e-12))


def sgd_matches_the_heavy_ball_formula(impl, momentum):
    rng = np.random.default_rng(1)
    omega = rng.standard_normal(5)
    expected, velocity = omega.copy(), np.zeros(5)
    optimizer = call(impl, "SGD", {"w": omega}, lr=0.05, momentum=momentum)
    for _ in range(10):
        g = rng.standard_normal(5)
        velocity = momentum * velocity + g
        expected = expected - 0.05 * velocity
        _step(optimizer, {"w": g})
    expect_close("ω after 10 SGD steps", omega, expected, 1e-14, 1e-15)


def _targets(st, hnp):
    return {"c": S.arrays(st, hnp, st.integers(1, 5), -5, 5), "seed": S.seeds(st)}


SGD_MOMENTUM_QUADRATIC = Property("SGD with momentum reaches the minimum of a quadratic",
                                  sgd_reaches_the_minimum_of_a_quadratic,
                                  strategies=lambda st, hnp: {**_targets(st, hnp), "momentum": st.just(0.9)})
SGD_PLAIN_QUADRATIC = Property("plain SGD reaches the minimum of a quadratic", sgd_reaches_the_minimum_of_a_quadratic,
                               strategies=lambda st, hnp: {**_targets(st, hnp), "momentum": st.just(0.0)})
ADAM_QUADRATIC = Property("Adam reaches the minimum of a quadratic", adam_reaches_the_minimum_of_a_quadratic,
                          strategies=_targets)
ADAM_FIRST_STEP = Property(
    "Adam's first step has size lr", adam_first_step_has_size_lr,
    strategies=lambda st, hnp: {"g": S.arrays(st, hnp, st.integers(1, 6), 1e-3, 5),
                                "signs": st.lists(st.sampled_from([-1.0, 1.0]), min_size=6, max_size=6),
                                "lr": st.sampled_from([1e-4, 1e-3, 0.1])})
ADAM_ALGORITHM_1 = Property("Adam matches Algorithm 1 of the paper", adam_matches_algorithm_1,
                            cases=tuple({"betas": b, "epsilon": e} for b, e in
                                        (((0.9, 0.999), 1e-8), ((0.5, 0.9), 1e-3), ((0.0, 0.0), 1e-8))))
SGD_HEAVY_BALL = Property("SGD matches the heavy-ball formula", sgd_matches_the_heavy_ball_formula,
                          cases=tuple({"momentum": m} for m in (0.0, 0.5, 0.9)))
