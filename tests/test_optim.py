"""Tests of ``numvae.optim``: SGD with momentum and Adam."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numvae import SGD, VAE, Adam

seeds = st.integers(0, 2**32 - 1)


def _quadratic(rng, dim):
    """A, c of f(θ) = ½ (θ - c)ᵀ A (θ - c), A SPD with eigenvalues in [0.5, 2]."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q @ np.diag(rng.uniform(0.5, 2.0, dim)) @ q.T


def _minimise(optimizer, theta, A, c, steps):
    for _ in range(steps):
        optimizer.step({"theta": A @ (theta - c)})  # ∇f = A (θ - c)
    return theta


# --------------------------------------------------------------------------
# Convergence on a convex quadratic
# --------------------------------------------------------------------------


@given(dim=st.integers(1, 5), seed=seeds, data=st.data())
def test_sgd_with_momentum_drives_a_convex_quadratic_to_its_minimum(dim, seed, data):
    c = data.draw(arrays(np.float64, dim, elements=st.floats(-5, 5)), label="c")
    A = _quadratic(np.random.default_rng(seed), dim)
    theta = np.zeros(dim)
    # Heavy ball with lr 0.1 and momentum 0.9 contracts by sqrt(0.9) per step for
    # every eigenvalue in [0.5, 2]: 0.95^600 ~ 2e-14, so 1e-6 is a loose bound.
    _minimise(SGD({"theta": theta}, lr=0.1, momentum=0.9), theta, A, c, steps=600)
    np.testing.assert_allclose(theta, c, rtol=0, atol=1e-6)


@given(dim=st.integers(1, 5), seed=seeds, data=st.data())
def test_plain_sgd_drives_a_convex_quadratic_to_its_minimum(dim, seed, data):
    c = data.draw(arrays(np.float64, dim, elements=st.floats(-5, 5)), label="c")
    A = _quadratic(np.random.default_rng(seed), dim)
    theta = np.zeros(dim)
    # Gradient descent with lr 0.5 contracts by at most max|1 - 0.5 λ| = 0.75 per step.
    _minimise(SGD({"theta": theta}, lr=0.5, momentum=0.0), theta, A, c, steps=100)
    np.testing.assert_allclose(theta, c, rtol=0, atol=1e-6)


@given(dim=st.integers(1, 5), seed=seeds, data=st.data())
def test_adam_drives_a_convex_quadratic_to_its_minimum(dim, seed, data):
    c = data.draw(arrays(np.float64, dim, elements=st.floats(-5, 5)), label="c")
    A = _quadratic(np.random.default_rng(seed), dim)
    theta = np.zeros(dim)
    # With a constant step size Adam only reaches a neighbourhood of c of about
    # lr (its steps stay ~lr in size, and once v has decayed they can spike), so
    # lr is annealed as in practice: 0.1 for 500 steps (enough to travel 5 per
    # coordinate), then x0.985 per step for 700 steps (down to 2.5e-6).
    # Tolerance 1e-6 per coordinate.
    optimizer = Adam({"theta": theta}, lr=0.1)
    for t in range(1200):
        optimizer.lr = 0.1 * 0.985 ** max(0, t - 500)
        optimizer.step({"theta": A @ (theta - c)})
    np.testing.assert_allclose(theta, c, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------
# The update rules themselves
# --------------------------------------------------------------------------


@given(
    g=arrays(np.float64, st.integers(1, 6), elements=st.floats(1e-3, 5)),
    signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=6, max_size=6),
    lr=st.sampled_from([1e-4, 1e-3, 0.1]),
)
def test_adams_first_step_has_magnitude_lr_in_every_coordinate(g, signs, lr):
    # After one step, both bias-corrected moments are exact: m̂ = g and v̂ = g²,
    # so Δθ = -lr g / (|g| + ε): magnitude lr (1 - ε/|g|), against the gradient.
    g = g * np.array(signs[: g.size])
    theta = np.ones_like(g)
    Adam({"w": theta}, lr=lr).step({"w": g})
    step = theta - 1
    np.testing.assert_allclose(np.abs(step), lr, rtol=1e-5)
    assert np.all(np.sign(step) == -np.sign(g))


def _reference_adam(theta, grads, lr, beta1, beta2, epsilon):
    """Kingma & Ba (2015), Algorithm 1, line by line."""
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + epsilon)
    return theta


@pytest.mark.parametrize("betas, epsilon", [((0.9, 0.999), 1e-8), ((0.5, 0.9), 1e-3), ((0.0, 0.0), 1e-8)])
def test_adam_matches_algorithm_1_of_the_paper(betas, epsilon):
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-4, 2) for _ in range(20)]
    theta = theta0.copy()
    opt = Adam({"w": theta}, lr=0.01, betas=betas, epsilon=epsilon)
    for g in grads:
        opt.step({"w": g})
    expected = _reference_adam(theta0, grads, 0.01, *betas, epsilon)
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14)
    assert opt.t == 20


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_sgd_matches_the_heavy_ball_formula(momentum):
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(5)
    expected, velocity = theta.copy(), np.zeros(5)
    opt = SGD({"w": theta}, lr=0.05, momentum=momentum)
    for _ in range(10):
        g = rng.standard_normal(5)
        velocity = momentum * velocity + g
        expected = expected - 0.05 * velocity
        opt.step({"w": g})
    np.testing.assert_allclose(theta, expected, rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------
# One flat buffer is the same as many arrays
# --------------------------------------------------------------------------


def _train(model, optimizer, params_key, steps, data_seed):
    rng = np.random.default_rng(data_seed)
    for _ in range(steps):
        x = rng.uniform(0, 1, size=(8, model.input_dim))
        model.loss(x, rng.standard_normal((8, model.latent_dim)))
        grads = model.backward()
        optimizer.step({"all": model.flat_grads} if params_key == "flat" else grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make_optimizer",
    [lambda p: Adam(p, lr=1e-2), lambda p: SGD(p, lr=1e-2, momentum=0.9)],
    ids=["adam", "sgd"],
)
def test_the_flat_buffer_optimiser_is_bit_identical_to_the_per_parameter_one(make_optimizer, dtype):
    kwargs = dict(
        input_dim=7, hidden_dims=(5, 4), latent_dim=2, likelihood="gaussian", learn_sigma=True, dtype=dtype, seed=3
    )
    per_parameter, flat = VAE(**kwargs), VAE(**kwargs)
    _train(per_parameter, make_optimizer(per_parameter.parameters()), "per_parameter", steps=5, data_seed=4)
    _train(flat, make_optimizer({"all": flat.flat_params}), "flat", steps=5, data_seed=4)
    assert not np.array_equal(flat.flat_params, VAE(**kwargs).flat_params)  # training moved them
    np.testing.assert_array_equal(flat.flat_params, per_parameter.flat_params)


# --------------------------------------------------------------------------
# Contract and bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("make_optimizer", [Adam, SGD], ids=["adam", "sgd"])
def test_state_dict_resumes_bit_identically(make_optimizer):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(4) for _ in range(6)]
    theta_a = rng.standard_normal(4)
    theta_b = theta_a.copy()
    a = make_optimizer({"w": theta_a}, lr=0.01)
    for g in grads[:3]:
        a.step({"w": g})
    b = make_optimizer({"w": theta_b}, lr=0.01)
    theta_b[...] = theta_a
    b.load_state_dict(a.state_dict())
    assert b.t == 3
    for g in grads[3:]:
        a.step({"w": g})
        b.step({"w": g})
    np.testing.assert_array_equal(theta_b, theta_a)


@pytest.mark.parametrize("make_optimizer", [Adam, SGD], ids=["adam", "sgd"])
def test_float32_parameters_stay_float32(make_optimizer):
    theta = np.ones(3, dtype=np.float32)
    opt = make_optimizer({"w": theta}, lr=0.1)
    opt.step({"w": np.array([1.0, -2.0, 3.0], dtype=np.float32)})
    assert theta.dtype == np.float32 and np.all(theta != 1)
    for buffers in opt._slots().values():
        assert buffers["w"].dtype == np.float32


@pytest.mark.parametrize("make_optimizer", [Adam, SGD], ids=["adam", "sgd"])
def test_step_with_other_keys_raises_a_value_error_listing_both(make_optimizer):
    opt = make_optimizer({"w": np.zeros(2)}, lr=0.1)
    with pytest.raises(ValueError, match=r"grads: expected the keys \['w'\], got \['v'\]"):
        opt.step({"v": np.zeros(2)})


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: Adam(p, lr=0.0), r"lr: expected a finite number > 0, got 0\.0"),
        (lambda p: SGD(p, lr=-1.0), r"lr: expected a finite number > 0, got -1\.0"),
        (lambda p: SGD(p, momentum=1.0), r"momentum: expected a number in \[0, 1\), got 1\.0"),
        (lambda p: SGD(p, momentum=-0.1), r"momentum: expected a finite number >= 0, got -0\.1"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas: expected two numbers in \[0, 1\), got \(0\.9, 1\.0\)"),
        (lambda p: Adam(p, epsilon=0.0), r"epsilon: expected a finite number > 0, got 0\.0"),
    ],
    ids=["adam_lr_0", "sgd_lr_negative", "momentum_1", "momentum_negative", "beta2_1", "epsilon_0"],
)
def test_bad_hyperparameters_raise_value_errors_naming_them(make, message):
    with pytest.raises(ValueError, match=message):
        make({"w": np.zeros(2)})


def test_adam_training_lowers_the_loss_of_a_small_vae():
    # Two prototype patterns plus noise: a 1-D latent can learn them.
    rng = np.random.default_rng(0)
    prototypes = np.array([[1, 1, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 1, 1, 0, 1]], dtype=float)
    x = np.clip(prototypes[rng.integers(0, 2, 64)] + rng.normal(0, 0.05, (64, 8)), 0, 1)
    model = VAE(8, hidden_dims=(16,), latent_dim=1, seed=1)
    eps = np.random.default_rng(2).standard_normal((64, 1))  # fixed evaluation noise
    before = model.loss(x, eps).loss
    opt = Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        model.loss(x)
        opt.step(model.backward())
    after = model.loss(x, eps).loss
    # An untrained decoder is near p = 1/2 (8 log 2 = 5.5 nats); trained, the
    # reconstruction of two clean patterns costs far less.
    assert after < 0.5 * before, f"loss {before:.3f} -> {after:.3f}"
