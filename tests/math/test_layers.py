"""The dense layer and the MLP: their gradients match central differences.

The first test is a whole gradient check, written out here so it can be read
top to bottom without opening another file: perturb one entry of W, b or x by
±h, see how the loss moves, compare with what ``dense_backward`` says. The
tests after it use :func:`numvae.check_gradients`, which does the same for
every entry and reports the worst one.
"""

import numpy as np
import pytest

from numvae import activations
from numvae.gradcheck import check_gradients
from numvae.layers import MLP, Activation, Dense, dense_backward, dense_forward
from numvae.course.properties import layers as PL
from numvae.course.properties import verify

ACTIVATION_NAMES = list(activations.ACTIVATIONS)


# --------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------


def test_dense_backward_matches_central_differences_entry_by_entry():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    d_y = rng.standard_normal((4, 2))  # the upstream gradient: the loss is L = sum(d_y * y)

    def loss():
        return np.sum(d_y * dense_forward(x, W, b))

    d_W, d_b, d_x = dense_backward(d_y, x, W)
    h = 1e-6
    for name, array, analytic in (("W", W, d_W), ("b", b, d_b), ("x", x, d_x)):
        assert analytic.shape == array.shape, f"d_{name} has shape {analytic.shape}, {name} has {array.shape}"
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + h
            up = loss()
            array[index] = saved - h
            down = loss()
            array[index] = saved
            numeric = (up - down) / (2 * h)
            # L is linear in each entry, so the only error is rounding: ~1e-10 relative.
            assert abs(analytic[index] - numeric) <= 1e-7 * max(1.0, abs(numeric)), (
                f"d_{name}{list(index)}: dense_backward gives {analytic[index]:.10g}, "
                f"central differences {numeric:.10g}")


@pytest.mark.parametrize("prop", [PL.DENSE_DEFINITION, PL.DENSE_GRADIENTS], ids=["definition", "gradients"])
def test_dense_properties(prop):
    from numvae import layers

    verify(prop, layers)


def test_the_dense_layer_computes_with_dense_forward_and_dense_backward():
    rng = np.random.default_rng(3)
    layer = Dense(3, 2, rng)
    layer.params["b"][...] = rng.standard_normal(2)
    x, d_y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    np.testing.assert_array_equal(layer.forward(x), dense_forward(x, layer.params["W"], layer.params["b"]))
    d_x = layer.backward(d_y)
    expected = dense_backward(d_y, x, layer.params["W"])
    for got, want in zip((layer.grads["W"], layer.grads["b"], d_x), expected):
        np.testing.assert_array_equal(got, want)


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
    params.update(mlp.parameters("mlp"))
    analytic.update({name: g.copy() for name, g in mlp.gradients("mlp").items()})
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
    assert list(mlp.parameters("enc")) == ["enc.0.W", "enc.0.b", "enc.1.W", "enc.1.b", "enc.2.W", "enc.2.b"]
    assert list(mlp.gradients("enc")) == list(mlp.parameters("enc"))


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
