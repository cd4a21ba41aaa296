"""Tests of ``numvae.layers``: Dense, Activation, MLP and the flat parameter buffer."""

from types import SimpleNamespace

import numpy as np
import pytest

from numvae import activations
from numvae.course import reference
from numvae.gradcheck import check_gradients
from numvae.layers import MLP, Activation, Dense, pack_parameters, view_parameters
from numvae.course.properties import layers as PL
from numvae.course.properties import verify

ACTIVATION_NAMES = list(activations.ACTIVATIONS)


# --------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------


def _dense_as_functions():
    """Dense's forward and backward as the functions the properties (and the exercise) use."""

    def dense_forward(x, W, b):
        layer = Dense(*W.shape, np.random.default_rng(0))
        layer.params = {"W": W, "b": b}
        return layer.forward(x, keep_cache=False)

    def dense_backward(d_y, x, W):
        layer = Dense(*W.shape, np.random.default_rng(0))
        layer.params["W"] = W
        layer.forward(x)
        d_x = layer.backward(d_y)
        return layer.grads["W"], layer.grads["b"], d_x

    return SimpleNamespace(dense_forward=dense_forward, dense_backward=dense_backward)


@pytest.mark.parametrize("impl", [_dense_as_functions(), reference], ids=["Dense", "reference"])
@pytest.mark.parametrize("prop", [PL.DENSE_DEFINITION, PL.DENSE_GRADIENTS], ids=["definition", "gradients"])
def test_dense_properties(prop, impl):
    verify(prop, impl)


@pytest.mark.parametrize("gain", [1.0, activations.GAINS["relu"], activations.GAINS["tanh"]])
def test_dense_init_is_uniform_with_std_gain_over_sqrt_fan_in_and_zero_bias(gain):
    fan_in, fan_out = 200, 300
    layer = Dense(fan_in, fan_out, np.random.default_rng(5), gain=gain)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (fan_in, fan_out) and b.shape == (fan_out,)
    np.testing.assert_array_equal(b, 0)
    bound = gain * np.sqrt(3 / fan_in)
    assert np.max(np.abs(W)) <= bound
    # The sample mean of W^2 estimates the variance gain^2 / fan_in; allow
    # 5 standard errors, the SE computed from the sample of W^2 itself.
    squares = W.ravel() ** 2
    se = squares.std(ddof=1) / np.sqrt(squares.size)
    expected = gain**2 / fan_in
    assert abs(squares.mean() - expected) < 5 * se, f"var(W) = {squares.mean():.4g}, expected {expected:.4g}"


def test_dense_backward_before_forward_raises_a_clear_error():
    layer = Dense(2, 3, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"Dense\.backward\(\) called before forward\(\)"):
        layer.backward(np.ones((1, 3)))


def test_dense_forward_without_cache_keeps_the_pending_cache():
    rng = np.random.default_rng(1)
    layer = Dense(2, 3, rng)
    x_train, x_other = rng.standard_normal((4, 2)), rng.standard_normal((5, 2))
    d_y = rng.standard_normal((4, 3))
    layer.forward(x_train)
    layer.forward(x_other, keep_cache=False)
    layer.backward(d_y)
    np.testing.assert_allclose(layer.grads["W"], x_train.T @ d_y, rtol=1e-14)


def test_dense_backward_without_d_x_still_fills_the_gradients():
    rng = np.random.default_rng(2)
    layer = Dense(3, 2, rng)
    x, d_y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    assert layer.backward(d_y, need_d_x=False) is None
    np.testing.assert_allclose(layer.grads["W"], x.T @ d_y, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], d_y.sum(axis=0), rtol=1e-14)


def test_activation_layer_backward_before_forward_raises_a_clear_error():
    with pytest.raises(RuntimeError, match=r"Activation\.backward\(\) called before forward\(\)"):
        Activation("tanh").backward(np.ones((1, 3)))


# --------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------

MLP_SIZES = [(3, 2), (3, 5, 2), (4, 6, 5, 3), (2, 3, 3, 3, 2)]


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("sizes", MLP_SIZES, ids=lambda s: "sizes=" + "-".join(map(str, s)))
def test_mlp_gradients_of_every_parameter_and_the_input_match_central_differences(
    sizes, activation, assert_gradients
):
    rng = np.random.default_rng(sum(sizes) + ACTIVATION_NAMES.index(activation))
    mlp = MLP(sizes, activation, rng)
    for layer in mlp.dense:
        layer.params["b"][...] = rng.uniform(-0.5, 0.5, size=layer.params["b"].shape)
    x = rng.standard_normal((4, sizes[0]))
    d_out = rng.standard_normal((4, sizes[-1]))

    mlp.forward(x)
    d_x = mlp.backward(d_out)
    params = {"x": x}
    analytic = {"x": d_x}
    for name, layer in mlp.named_modules("mlp"):
        for key in ("W", "b"):
            params[f"{name}.{key}"] = layer.params[key]
            analytic[f"{name}.{key}"] = layer.grads[key].copy()
    report = check_gradients(lambda: float(np.sum(d_out * mlp.forward(x))), params, analytic)
    assert_gradients(report)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_mlp_forward_is_the_composition_of_its_layers(activation):
    rng = np.random.default_rng(7)
    sizes = (3, 4, 5, 2)
    mlp = MLP(sizes, activation, rng)
    forward, _ = activations.ACTIVATIONS[activation]
    x = rng.standard_normal((6, 3))
    h = x
    for i, layer in enumerate(mlp.dense):
        h = h @ layer.params["W"] + layer.params["b"]
        if i < len(mlp.dense) - 1:
            h = forward(h)
    np.testing.assert_allclose(mlp.forward(x), h, rtol=1e-13)


def test_mlp_puts_an_activation_between_dense_layers_and_none_after_the_last():
    mlp = MLP((3, 4, 5, 2), "relu", np.random.default_rng(0))
    kinds = [type(layer).__name__ for layer in mlp.layers]
    assert kinds == ["Dense", "Activation", "Dense", "Activation", "Dense"]
    assert [d.params["W"].shape for d in mlp.dense] == [(3, 4), (4, 5), (5, 2)]
    assert [name for name, _ in mlp.named_modules("enc")] == ["enc.0", "enc.1", "enc.2"]


def test_mlp_without_input_gradient_returns_none():
    rng = np.random.default_rng(4)
    mlp = MLP((3, 4, 2), "tanh", rng)
    mlp.forward(rng.standard_normal((2, 3)))
    assert mlp.backward(rng.standard_normal((2, 2)), need_d_x=False) is None


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_mlp_in_float32_stays_float32(activation):
    rng = np.random.default_rng(8)
    mlp = MLP((3, 4, 2), activation, rng, dtype=np.float32)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = mlp.forward(x)
    d_x = mlp.backward(np.ones_like(y))
    assert y.dtype == np.float32 and d_x.dtype == np.float32
    for layer in mlp.dense:
        for key in ("W", "b"):
            assert layer.params[key].dtype == np.float32 and layer.grads[key].dtype == np.float32


# --------------------------------------------------------------------------
# Flat buffers
# --------------------------------------------------------------------------


def test_pack_parameters_copies_values_and_leaves_views_in_order():
    rng = np.random.default_rng(9)
    mlp = MLP((3, 4, 2), "relu", rng)
    before = {f"{name}.{key}": layer.params[key].copy() for name, layer in mlp.named_modules("m") for key in ("W", "b")}

    flat_params, flat_grads, params, grads = pack_parameters(mlp.named_modules("m"), np.float64)

    assert list(params) == ["m.0.W", "m.0.b", "m.1.W", "m.1.b"] and list(grads) == list(params)
    assert flat_params.shape == flat_grads.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(flat_params, np.concatenate([v.ravel() for v in before.values()]))
    for name, value in before.items():
        np.testing.assert_array_equal(params[name], value)
        assert np.shares_memory(params[name], flat_params), name
        assert np.shares_memory(grads[name], flat_grads), name
    # The layers themselves now read from and write to the buffers.
    flat_params[:] = np.arange(flat_params.size)
    np.testing.assert_array_equal(mlp.dense[0].params["W"], np.arange(12).reshape(3, 4))
    mlp.forward(rng.standard_normal((2, 3)))
    mlp.backward(rng.standard_normal((2, 2)))
    assert np.any(flat_grads != 0)
    np.testing.assert_array_equal(flat_grads[12:16], mlp.dense[0].grads["b"])


def test_view_parameters_points_the_layers_at_given_buffers_without_copying():
    mlp = MLP((3, 4, 2), "relu", np.random.default_rng(9))
    n = 3 * 4 + 4 + 4 * 2 + 2
    flat_params, flat_grads = np.arange(n, dtype=float), np.zeros(n)
    params, grads = view_parameters(mlp.named_modules("m"), flat_params, flat_grads)
    assert list(params) == ["m.0.W", "m.0.b", "m.1.W", "m.1.b"] and list(grads) == list(params)
    np.testing.assert_array_equal(mlp.dense[0].params["W"], np.arange(12).reshape(3, 4))  # the buffer's values
    np.testing.assert_array_equal(mlp.dense[1].params["b"], [n - 2, n - 1])
    mlp.forward(np.ones((2, 3)))
    mlp.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(flat_grads[n - 2 :], [2.0, 2.0])  # d b = column sums of d_y


@pytest.mark.parametrize("sizes", [(25, 26), (26, 25), (27, 26)])
def test_view_parameters_refuses_buffers_of_the_wrong_size(sizes):
    mlp = MLP((3, 4, 2), "relu", np.random.default_rng(9))  # 26 parameters
    with pytest.raises(ValueError, match=rf"flat_params, flat_grads: expected 26 values each .* got {sizes[0]} and {sizes[1]}"):
        view_parameters(mlp.named_modules("m"), np.zeros(sizes[0]), np.zeros(sizes[1]))
