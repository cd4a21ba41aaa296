"""Tests of ``numvae.optim``: SGD with momentum and Adam."""

import numpy as np
import pytest

from numvae import SGD, VAE, Adam, optim
from numvae.course.properties import optim as P
from numvae.course.properties import verify

ADAM = pytest.mark.parametrize("impl", [optim], ids=["numvae.optim"])


# --------------------------------------------------------------------------
# Convergence on a convex quadratic
# --------------------------------------------------------------------------


@pytest.mark.parametrize("prop", [P.SGD_MOMENTUM_QUADRATIC, P.SGD_PLAIN_QUADRATIC], ids=["momentum", "plain"])
def test_sgd_drives_a_convex_quadratic_to_its_minimum(prop):
    verify(prop, optim)


@ADAM
def test_adam_drives_a_convex_quadratic_to_its_minimum(impl):
    verify(P.ADAM_QUADRATIC, impl)


# --------------------------------------------------------------------------
# The update rules themselves
# --------------------------------------------------------------------------


@ADAM
def test_adams_first_step_has_magnitude_lr_in_every_coordinate(impl):
    verify(P.ADAM_FIRST_STEP, impl)


@ADAM
@pytest.mark.parametrize("case", P.ADAM_ALGORITHM_1.cases, ids=P.ADAM_ALGORITHM_1.case_ids())
def test_adam_matches_algorithm_1_of_the_paper(impl, case):
    verify(P.ADAM_ALGORITHM_1, impl, case=case)


@pytest.mark.parametrize("case", P.SGD_HEAVY_BALL.cases, ids=P.SGD_HEAVY_BALL.case_ids())
def test_sgd_matches_the_heavy_ball_formula(case):
    verify(P.SGD_HEAVY_BALL, optim, case=case)


def test_adam_keeps_float32_parameters_and_state_in_float32():
    rng = np.random.default_rng(2)
    w = rng.standard_normal(6).astype(np.float32)
    adam = Adam({"w": w}, lr=0.01)
    for _ in range(3):
        adam.step({"w": rng.standard_normal(6).astype(np.float32)})
    assert w.dtype == adam.m["w"].dtype == adam.v["w"].dtype == np.float32


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


def _stepped(make_optimizer):
    """An optimizer after one step, so its state is not all zeros."""
    opt = make_optimizer({"a": np.ones(3), "b": np.ones((2, 2))}, lr=0.1)
    opt.step({"a": np.full(3, 0.5), "b": np.full((2, 2), -0.5)})
    return opt


def _with(state, key, value):
    return {**state, key: value}


BAD_STATES = [
    # (what is wrong, make the bad state from a good Adam state, expected message)
    ("missing buffer", lambda s: {k: v for k, v in s.items() if k != "m.a"}, r"^state: expected the keys .*'m\.a'"),
    ("extra key", lambda s: _with(s, "m.c", np.ones(3)), r"^state: expected the keys .*, got .*'m\.c'"),
    ("wrong shape", lambda s: _with(s, "m.b", np.ones(4)), r"^state\['m\.b'\]: expected shape \(2, 2\), got shape \(4,\)"),
    ("strings", lambda s: _with(s, "m.a", np.array(["1", "2", "3"])), r"^state\['m\.a'\]: expected finite real numbers .*<U1"),
    ("complex", lambda s: _with(s, "m.a", np.ones(3, complex)), r"^state\['m\.a'\]: expected finite real numbers .*complex128"),
    ("nan", lambda s: _with(s, "v.b", np.full((2, 2), np.nan)), r"^state\['v\.b'\]: expected finite real numbers, got nan"),
    ("negative v", lambda s: _with(s, "v.a", -np.ones(3)), r"^state\['v\.a'\]: expected .* >= 0 .*got -1"),
    ("negative t", lambda s: _with(s, "t", -5), r"^state\['t'\]: expected a non-negative integer, got -5"),
    ("fractional t", lambda s: _with(s, "t", 2.7), r"^state\['t'\]: expected a non-negative integer, got 2\.7"),
    ("not a dict", lambda s: list(s.values()), r"^state: expected a dict"),
]


@pytest.mark.parametrize("what, spoil, message", BAD_STATES, ids=[b[0] for b in BAD_STATES])
def test_loading_a_bad_state_is_refused_by_name_and_changes_nothing(what, spoil, message):
    good = _stepped(Adam).state_dict()
    opt = _stepped(Adam)
    opt.step({"a": np.full(3, 2.0), "b": np.full((2, 2), 3.0)})  # a state that differs from ``good``
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(spoil(good))
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=f"{what}: {key} changed by a refused load")


def test_an_adam_state_does_not_load_into_sgd():
    with pytest.raises(ValueError, match=r"^state: expected the keys \['t', 'velocity\.a', 'velocity\.b'\] "
                                         r"of SGD\.state_dict\(\), got \['m\.a', "):
        _stepped(SGD).load_state_dict(_stepped(Adam).state_dict())


def _read_only(values):
    array = np.array(values)
    array.flags.writeable = False
    return array


BAD_PARAMS = [
    ("read-only", {"w": _read_only([1.0, 2.0])}, r"^params\['w'\]: expected a writable floating-point ndarray .*read-only"),
    ("list", {"w": [1.0, 2.0]}, r"^params\['w'\]: expected a writable floating-point ndarray .*got list"),
    ("int", {"w": np.arange(3)}, r"^params\['w'\]: expected a writable floating-point ndarray .*int64"),
    ("not a dict", [np.ones(3)], r"^params: expected a dict of name -> array, got list"),
]


@pytest.mark.parametrize("make_optimizer", [Adam, SGD], ids=["adam", "sgd"])
@pytest.mark.parametrize("what, params, message", BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_an_optimizer_refuses_parameters_it_cannot_update_in_place(make_optimizer, what, params, message):
    # Before, a read-only array failed inside step(), after t and the moments
    # had changed; a list or an int array failed only there too.
    with pytest.raises(ValueError, match=message):
        make_optimizer(params)


def test_neighbouring_views_of_one_buffer_are_accepted_and_each_updated_once():
    flat = np.zeros(6)
    params = {"W": flat[:4].reshape(2, 2), "b": flat[4:]}
    optimizer = SGD(params, lr=0.5)
    optimizer.step({"W": np.ones((2, 2)), "b": np.ones(2)})
    np.testing.assert_array_equal(flat, np.full(6, -0.5))  # one step of lr * gradient, not two
