"""Tests of ``numvae.vae.VAE``: gradients, the loss, the public contract and bad input."""

import copy
import pickle
import re

import numpy as np
import pytest

from numvae import VAE
from numvae.gaussian import reparameterize
from numvae.gradcheck import check_model
from numvae.course.properties.gaussian import mean_and_variance_match
from numvae.vae import HIDDEN_ACTIVATIONS

INPUT_DIM = 6



def _flat(model):
    """Every parameter of ``model``, back to back in ``parameters()`` order."""
    return np.concatenate([p.ravel() for p in model.parameters().values()])

def _data(rng, batch, likelihood):
    """A batch the likelihood accepts: grey levels in [0, 1] or real numbers."""
    if likelihood == "bernoulli":
        x = rng.uniform(0, 1, size=(batch, INPUT_DIM))
        x[0, :3] = [0.0, 1.0, 1.0]  # include exact binary pixels
        return x
    return rng.normal(0.5, 1.0, size=(batch, INPUT_DIM))


def _make(likelihood_kind, **kwargs):
    """``likelihood_kind``: bernoulli, gaussian (fixed σ) or gaussian_learned."""
    if likelihood_kind == "bernoulli":
        return VAE(INPUT_DIM, likelihood="bernoulli", **kwargs)
    if likelihood_kind == "gaussian":
        return VAE(INPUT_DIM, likelihood="gaussian", sigma=0.3, **kwargs)
    return VAE(INPUT_DIM, likelihood="gaussian", sigma=0.5, learn_sigma=True, **kwargs)


def _likelihood_name(kind):
    return "bernoulli" if kind == "bernoulli" else "gaussian"


# --------------------------------------------------------------------------
# Gradient check of the whole loss
# --------------------------------------------------------------------------

HIDDEN = [(), (5,), (6, 4)]
KINDS = ["bernoulli", "gaussian", "gaussian_learned"]
BETAS = [1.0, 0.5, 2.5]


def _gradcheck_config(activation, hidden, latent_dim, kind, beta):
    name = f"{activation}-h{'x'.join(map(str, hidden)) or 'none'}-z{latent_dim}-{kind}-beta{beta}"
    return pytest.param(activation, hidden, latent_dim, kind, beta, id=name)


# Every activation x architecture x likelihood; latent_dim (1..3) and beta cycle along.
GRADCHECK_CONFIGS = [
    _gradcheck_config(activation, hidden, 1 + (i + j) % 3, kind, BETAS[(i + j + k) % 3])
    for i, activation in enumerate(HIDDEN_ACTIVATIONS)
    for j, hidden in enumerate(HIDDEN)
    for k, kind in enumerate(KINDS)
]


@pytest.mark.parametrize("activation, hidden_dims, latent_dim, kind, beta", GRADCHECK_CONFIGS)
def test_loss_gradients_of_every_parameter_match_central_differences(
    activation, hidden_dims, latent_dim, kind, beta, assert_gradients
):
    seed = len(hidden_dims) * 31 + latent_dim * 7 + KINDS.index(kind)
    model = _make(kind, hidden_dims=hidden_dims, latent_dim=latent_dim, activation=activation, beta=beta, seed=seed)
    rng = np.random.default_rng(seed)
    # Non-zero biases and a non-constant learned variance, so every path carries a generic gradient.
    for name, p in model.parameters().items():
        if name.endswith(".b") or name == "decoder.log_var":
            p[...] = rng.uniform(-0.5, 0.5, size=p.shape)
    x = _data(rng, 3, _likelihood_name(kind))
    eps = rng.standard_normal((3, latent_dim))

    # h = 1e-5 (check_model's default) and not smaller: the round-off of a central difference,
    # ~1e-16 |loss| / h, is measured against the largest gradient of a parameter,
    # which saturating activations can make ~1e-3 while the loss is ~10; the
    # truncation error O(h^2) stays ~1e-10.
    report = check_model(model, x, eps, h=1e-5)
    assert [c.name for c in report.checks] == list(model.parameters())
    assert_gradients(report)


@pytest.mark.parametrize("beta", [0.0, 0.3, 4.0])
def test_gradient_check_holds_after_beta_is_changed_between_steps(beta, assert_gradients):
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, activation="tanh", seed=3)
    model.beta = beta  # a KL warm-up changes beta on a live model
    rng = np.random.default_rng(4)
    assert_gradients(check_model(model, _data(rng, 4, "bernoulli"), rng.standard_normal((4, 2)), h=1e-5))


# --------------------------------------------------------------------------
# The loss, computed independently
# --------------------------------------------------------------------------

PLAIN_ACTIVATIONS = {
    "relu": lambda h: np.where(h > 0, h, 0.0),
    "leaky_relu": lambda h: np.where(h > 0, h, 0.01 * h),
    "tanh": np.tanh,
    "sigmoid": lambda h: 1 / (1 + np.exp(-h)),
    "softplus": lambda h: np.log(1 + np.exp(h)),
}


def _plain_mlp(params, prefix, h, activation):
    n_layers = sum(1 for name in params if name.startswith(prefix) and name.endswith(".W"))
    for i in range(n_layers):
        h = h @ params[f"{prefix}.{i}.W"] + params[f"{prefix}.{i}.b"]
        if i < n_layers - 1:
            h = PLAIN_ACTIVATIONS[activation](h)
    return h


def _plain_loss(model, x, eps):
    """The VAE loss written out from the parameters with plain NumPy (float64)."""
    params = {name: p.astype(np.float64) for name, p in model.parameters().items()}
    latent_dim = model.latent_dim
    h = _plain_mlp(params, "encoder", x, model.activation)
    mu, log_var = h[:, :latent_dim], h[:, latent_dim:]
    sigma_q = np.sqrt(np.exp(log_var))
    z = mu + sigma_q * eps
    out = _plain_mlp(params, "decoder", z, model.activation)
    if model.likelihood_name == "bernoulli":
        p = 1 / (1 + np.exp(-out))
        reconstruction = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    else:
        var = np.exp(params["decoder.log_var"]) if model.learn_sigma else model.sigma**2
        density = np.exp(-((x - out) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
        reconstruction = -np.sum(np.log(density), axis=1)
    # KL(N(m, s^2) || N(0, 1)) = log(1 / s) + (s^2 + m^2) / 2 - 1/2, per dimension.
    kl = np.sum(-np.log(sigma_q) + (sigma_q**2 + mu**2) / 2 - 0.5, axis=1)
    return reconstruction.mean() + model.beta * kl.mean(), reconstruction.mean(), kl.mean()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_loss_equals_a_direct_numpy_computation(activation, kind):
    model = _make(kind, hidden_dims=(5, 4), latent_dim=3, activation=activation, beta=0.7, seed=11)
    rng = np.random.default_rng(12)
    if kind == "gaussian_learned":
        model.parameters()["decoder.log_var"][...] = rng.uniform(-1, 1, size=INPUT_DIM)
    x = _data(rng, 5, _likelihood_name(kind))
    eps = rng.standard_normal((5, 3))

    terms = model.loss(x, eps)
    expected = _plain_loss(model, x, eps)
    np.testing.assert_allclose(terms, expected, rtol=1e-10)
    assert terms.loss == pytest.approx(terms.reconstruction + 0.7 * terms.kl, rel=1e-14)


def test_loss_is_input_dim_log_2_when_every_parameter_is_zero():
    # Zero weights: logits 0 (p = 1/2 per pixel), mu = 0 and log_var = 0 (KL 0).
    model = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2)
    for p in model.parameters().values():
        p[...] = 0
    terms = model.loss(_data(np.random.default_rng(0), 3, "bernoulli"))
    assert terms.kl == 0
    assert terms.loss == pytest.approx(INPUT_DIM * np.log(2), rel=1e-14)


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
def test_loss_is_reconstruction_plus_beta_kl_and_the_mean_of_the_per_example_terms(beta):
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, beta=beta, seed=2)
    rng = np.random.default_rng(3)
    x, eps = _data(rng, 4, "bernoulli"), rng.standard_normal((4, 2))
    terms = model.loss(x, eps)
    reconstruction, kl = model.per_example_terms(x, eps)
    assert reconstruction.shape == kl.shape == (4,)
    assert terms.reconstruction == pytest.approx(np.mean(reconstruction), rel=1e-14)
    assert terms.kl == pytest.approx(np.mean(kl), rel=1e-14)
    assert terms.loss == pytest.approx(terms.reconstruction + beta * terms.kl, rel=1e-14)


def test_log_px_given_z_is_minus_the_reconstruction_at_the_same_z():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, seed=5)
    rng = np.random.default_rng(6)
    x, eps = _data(rng, 4, "bernoulli"), rng.standard_normal((4, 2))
    mu, log_var = model.encode(x)
    z = mu + np.exp(0.5 * log_var) * eps
    reconstruction, _ = model.per_example_terms(x, eps)
    np.testing.assert_allclose(model.log_px_given_z(x, z), -reconstruction, rtol=1e-12)


# --------------------------------------------------------------------------
# Parameters and gradients: names, order, shapes, flat buffers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_are_named_and_shaped_encoder_then_decoder_W_then_b(kind):
    model = _make(kind, hidden_dims=(5, 3), latent_dim=2)
    expected = {
        "encoder.0.W": (INPUT_DIM, 5), "encoder.0.b": (5,),
        "encoder.1.W": (5, 3), "encoder.1.b": (3,),
        "encoder.2.W": (3, 4), "encoder.2.b": (4,),  # 4 = [mu | log_var]
        "decoder.0.W": (2, 3), "decoder.0.b": (3,),
        "decoder.1.W": (3, 5), "decoder.1.b": (5,),
        "decoder.2.W": (5, INPUT_DIM), "decoder.2.b": (INPUT_DIM,),
    }  # fmt: skip
    if kind == "gaussian_learned":
        expected["decoder.log_var"] = (INPUT_DIM,)
    params = model.parameters()
    assert list(params) == list(expected)
    assert {name: p.shape for name, p in params.items()} == expected


def test_learned_log_var_starts_at_two_log_sigma():
    model = VAE(INPUT_DIM, likelihood="gaussian", sigma=0.5, learn_sigma=True)
    np.testing.assert_allclose(model.parameters()["decoder.log_var"], np.full(INPUT_DIM, np.log(0.25)), rtol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_returns_the_keys_and_shapes_of_parameters(kind):
    model = _make(kind, hidden_dims=(4,), latent_dim=2, seed=1)
    rng = np.random.default_rng(2)
    model.loss(_data(rng, 3, _likelihood_name(kind)))
    grads = model.backward()
    params = model.parameters()
    assert list(grads) == list(params)
    for name in params:
        assert grads[name].shape == params[name].shape, name
        assert np.all(np.isfinite(grads[name])), name
    assert any(np.any(g != 0) for g in grads.values())


def test_parameters_are_the_arrays_the_layers_compute_with():
    model = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2)
    params = model.parameters()
    params["encoder.0.W"][...] = np.arange(INPUT_DIM * 4).reshape(INPUT_DIM, 4)
    assert params["encoder.0.W"] is model.encoder.dense[0].params["W"]
    assert model.parameters()["encoder.0.W"] is params["encoder.0.W"]  # the same arrays every time


def test_training_a_deepcopied_model_follows_the_original_bit_for_bit():
    from numvae.training import TrainConfig, Trainer

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(40, INPUT_DIM))
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, seed=4)
    for how, clone in {"deepcopy": copy.deepcopy(model), "pickle": pickle.loads(pickle.dumps(model))}.items():
        start = _flat(clone)
        trained = []
        for m in (copy.deepcopy(model), clone):
            trainer = Trainer(m, x, config=TrainConfig(batch_size=8, lr=1e-2, seed=0))
            trained.append(trainer.train_epoch())
        assert not np.array_equal(_flat(clone), start), f"{how}: training changed nothing"
        assert trained[0] == trained[1], how


def test_a_deepcopied_trainer_updates_its_copied_model_and_not_the_original():
    from numvae.training import TrainConfig, Trainer

    x = np.random.default_rng(2).uniform(0, 1, size=(16, INPUT_DIM))
    trainer = Trainer(VAE(INPUT_DIM, hidden_dims=(3,), latent_dim=2), x, config=TrainConfig(batch_size=8, seed=0))
    clone = copy.deepcopy(trainer)
    w_before = clone.model.encoder.dense[0].params["W"].copy()
    original = _flat(trainer.model)
    clone.train_epoch()
    assert not np.array_equal(clone.model.encoder.dense[0].params["W"], w_before)
    np.testing.assert_array_equal(_flat(trainer.model), original)  # the original is untouched


def test_config_rebuilds_the_same_model():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, likelihood="gaussian", sigma=0.2, beta=0.5, seed=9)
    clone = VAE(**model.config())
    np.testing.assert_array_equal(_flat(clone), _flat(model))
    assert clone.config() == model.config()


# --------------------------------------------------------------------------
# encode, decode, sample, and the random generator
# --------------------------------------------------------------------------


def test_encode_returns_mu_and_log_var_of_shape_batch_by_latent_dim():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=3)
    x = _data(np.random.default_rng(0), 4, "bernoulli")
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (4, 3)
    # They are the two halves of the encoder's output.
    h = model.encoder.forward(x, keep_cache=False)
    np.testing.assert_array_equal(np.concatenate([mu, log_var], axis=1), h)


def test_decode_gives_bernoulli_probabilities_in_0_1_and_reconstruct_decodes_mu():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2)
    z = np.random.default_rng(1).normal(0, 100, size=(50, 2))  # far out, saturating the sigmoid
    probabilities = model.decode(z)
    assert probabilities.shape == (50, INPUT_DIM)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    x = _data(np.random.default_rng(2), 3, "bernoulli")
    np.testing.assert_array_equal(model.reconstruct(x), model.decode(model.encode(x)[0]))


def test_sample_is_reproducible_for_one_rng_and_differs_for_another():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2)
    first = model.sample(16, rng=np.random.default_rng(1))
    again = model.sample(16, rng=np.random.default_rng(1))
    other = model.sample(16, rng=np.random.default_rng(2))
    assert first.shape == (16, INPUT_DIM)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    # They decode standard normal draws from that generator.
    z = np.random.default_rng(1).standard_normal((16, 2))
    np.testing.assert_allclose(first, model.decode(z), rtol=1e-15)


def test_eps_none_draws_standard_normal_noise_from_the_models_generator():
    x = _data(np.random.default_rng(0), 5, "bernoulli")
    model_a = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=3, seed=21)
    model_b = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=3, seed=21)
    model_c = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=3, seed=22)
    eps = copy.deepcopy(model_b.rng).standard_normal((5, 3))  # what model_b will draw next

    loss_a = model_a.loss(x)
    assert model_b.loss(x) == loss_a  # same seed, same noise
    assert model_b.loss(x) != loss_a  # the generator has moved on: fresh noise
    assert model_b.loss(x, eps=eps) == loss_a  # and the first noise was eps
    assert model_c.loss(x) != loss_a  # another seed, other weights and noise


# --------------------------------------------------------------------------
# dtype
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_float32_is_honoured_end_to_end_even_for_float64_input(kind):
    model = _make(kind, hidden_dims=(5,), latent_dim=2, dtype=np.float32)
    rng = np.random.default_rng(0)
    x = _data(rng, 4, _likelihood_name(kind))  # float64
    eps = rng.standard_normal((4, 2))  # float64
    assert x.dtype == eps.dtype == np.float64

    model.loss(x)  # eps drawn by the model
    assert model.decoder.layers[0].cache.dtype == np.float32, "z with the model's own eps"
    model.loss(x, eps)
    caches = {
        "encoder.layers[0].cache": model.encoder.layers[0].cache,
        "encoder.layers[1].cache (activation x, y)": model.encoder.layers[1].cache,
        "decoder.layers[0].cache (z)": model.decoder.layers[0].cache,
        "decoder.layers[2].cache": model.decoder.layers[2].cache,
    }
    for where, cache in caches.items():
        for array in cache if isinstance(cache, tuple) else (cache,):
            assert array.dtype == np.float32, f"{where} is {array.dtype}"
    grads = model.backward()
    arrays = {
        **{f"param {k}": v for k, v in model.parameters().items()},
        **{f"grad {k}": v for k, v in grads.items()},
        "encode mu": model.encode(x)[0],
        "encode log_var": model.encode(x)[1],
        "decode": model.decode(eps),
        "sample": model.sample(3, rng=np.random.default_rng(1)),
        "per_example reconstruction": model.per_example_terms(x, eps)[0],
        "per_example kl": model.per_example_terms(x, eps)[1],
    }
    for where, array in arrays.items():
        assert array.dtype == np.float32, f"{where} is {array.dtype}"


@pytest.mark.parametrize("kind", KINDS)
def test_float32_loss_and_gradients_agree_with_float64(kind):
    # The initial weights are drawn in float64 and cast, so the two models differ
    # only by rounding; their losses and gradients must agree to float32 precision.
    rng = np.random.default_rng(1)
    x, eps = _data(rng, 4, _likelihood_name(kind)), rng.standard_normal((4, 2))
    results = []
    for dtype in (np.float32, np.float64):
        model = _make(kind, hidden_dims=(5,), latent_dim=2, dtype=dtype, seed=4)
        terms = model.loss(x, eps)
        results.append((np.array(terms), model.backward()["encoder.0.W"].astype(np.float64).copy()))
    (loss32, grad32), (loss64, grad64) = results
    np.testing.assert_allclose(loss32, loss64, rtol=1e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=1e-3, atol=1e-4 * np.max(np.abs(grad64)))


# --------------------------------------------------------------------------
# The training protocol: loss() then backward()
# --------------------------------------------------------------------------


def test_inference_between_loss_and_backward_does_not_change_the_gradients():
    model = VAE(INPUT_DIM, hidden_dims=(5,), latent_dim=2, seed=7)
    rng = np.random.default_rng(8)
    x, eps = _data(rng, 4, "bernoulli"), rng.standard_normal((4, 2))
    other = _data(rng, 7, "bernoulli")

    model.loss(x, eps)
    expected = {name: g.copy() for name, g in model.backward().items()}

    model.loss(x, eps)
    model.encode(other)
    model.decode(rng.standard_normal((7, 2)))
    model.reconstruct(other)
    model.sample(5)
    model.per_example_terms(other)
    model.log_px_given_z(other, rng.standard_normal((7, 2)))
    grads = model.backward()
    for name in expected:
        np.testing.assert_array_equal(grads[name], expected[name], err_msg=name)


def test_backward_before_loss_raises_a_clear_runtime_error():
    model = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before loss\(\)"):
        model.backward()


# --------------------------------------------------------------------------
# q(z|x) samples have variance exp(log_var), through the model
# --------------------------------------------------------------------------


def test_the_models_sampler_draws_z_with_mean_mu_and_variance_exp_log_var():
    latent_dim = 2
    model = VAE(3, hidden_dims=(4,), latent_dim=latent_dim, seed=0)
    mu, log_var = np.array([0.5, -1.0]), np.log([4.0, 0.25])
    # Last encoder layer: W = 0 and b = [mu | log_var], so q(z|x) is the same for every x.
    model.parameters()["encoder.1.W"][...] = 0
    model.parameters()["encoder.1.b"][...] = np.concatenate([mu, log_var])
    n = 50_000
    x = np.random.default_rng(1).uniform(0, 1, size=(n, 3))

    encoded_mu, encoded_log_var = model.encode(x)
    np.testing.assert_allclose(encoded_mu, np.broadcast_to(mu, (n, 2)), rtol=1e-15)
    np.testing.assert_allclose(encoded_log_var, np.broadcast_to(log_var, (n, 2)), rtol=1e-15)

    model.loss(x)  # eps from the model's generator
    z_model = model.decoder.layers[0].cache  # the z the decoder received
    z_direct, _ = reparameterize(encoded_mu, encoded_log_var, np.random.default_rng(2).standard_normal((n, 2)))

    for z in (z_model, z_direct):
        assert z.shape == (n, latent_dim)
        mean_and_variance_match(z, mu, log_var)  # to 5 standard errors


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

BAD_CONSTRUCTOR_ARGUMENTS = [
    ({"input_dim": 0}, r"input_dim: expected a positive integer, got 0"),
    ({"input_dim": -1}, r"input_dim: expected a positive integer, got -1"),
    ({"input_dim": 1.5}, r"input_dim: expected a positive integer, got 1\.5"),
    ({"input_dim": True}, r"input_dim: expected a positive integer, got True"),
    ({"latent_dim": 0}, r"latent_dim: expected a positive integer, got 0"),
    ({"hidden_dims": (4, 0)}, r"hidden_dims: expected a sequence of positive integers, got \(4, 0\)"),
    ({"hidden_dims": 4}, r"hidden_dims: .*got 4"),
    ({"activation": "gelu"}, r"activation: expected one of .*'relu'.*, got 'gelu'"),
    ({"likelihood": "poisson"}, r"likelihood: expected one of 'bernoulli', 'gaussian', got 'poisson'"),
    ({"beta": -0.5}, r"beta: expected a finite number >= 0, got -0\.5"),
    ({"beta": float("nan")}, r"beta: expected a finite number >= 0, got nan"),
    ({"likelihood": "gaussian", "sigma": 0.0}, r"sigma: expected a finite number > 0, got 0\.0"),
    ({"likelihood": "gaussian", "sigma": -1.0}, r"sigma: expected a finite number > 0, got -1\.0"),
    ({"sigma": 0.1}, r"sigma: only used with likelihood='gaussian', got sigma=0\.1"),
    ({"learn_sigma": True}, r"sigma: only used with likelihood='gaussian', got .*learn_sigma=True"),
    ({"dtype": np.int32}, r"dtype: expected a floating dtype .*, got int32"),
    ({"seed": -3}, r"seed: expected a non-negative integer, got -3"),
]


@pytest.mark.parametrize(
    "kwargs, message",
    BAD_CONSTRUCTOR_ARGUMENTS,
    ids=[",".join(f"{k}={v!r}" for k, v in kwargs.items()) for kwargs, _ in BAD_CONSTRUCTOR_ARGUMENTS],
)
def test_bad_constructor_arguments_raise_value_errors_naming_the_argument_and_the_value(kwargs, message):
    arguments = {"input_dim": INPUT_DIM, "hidden_dims": (4,), "latent_dim": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        VAE(**arguments)


def _with_value_at(shape, index, value):
    x = np.full(shape, 0.5)
    x[index] = value
    return x


GOOD_X = np.full((3, INPUT_DIM), 0.5)
BAD_LOSS_INPUTS = [
    pytest.param(
        np.full((3, 5), 0.5), None,
        rf"x: expected an array of shape \(batch, {INPUT_DIM}\) .*got shape \(3, 5\)", id="x_wrong_width",
    ),
    pytest.param(np.full(INPUT_DIM, 0.5), None, r"x: expected an array of shape .*got shape \(6,\)", id="x_1d"),
    pytest.param(np.zeros((0, INPUT_DIM)), None, r"x: expected .*batch >= 1, got shape \(0, 6\)", id="x_empty"),
    pytest.param(
        _with_value_at((3, INPUT_DIM), (1, 2), np.nan), None,
        r"x: expected finite values, got nan at index \(1, 2\)", id="x_nan",
    ),
    pytest.param(
        _with_value_at((3, INPUT_DIM), (2, 0), np.inf), None,
        r"x: expected finite values, got inf at index \(2, 0\)", id="x_inf",
    ),
    pytest.param(
        _with_value_at((3, INPUT_DIM), (0, 1), -0.25), None,
        r"x: expected values in \[0, 1\] .*got values in \[-0\.25, 0\.5\]", id="x_below_0",
    ),
    pytest.param(
        _with_value_at((3, INPUT_DIM), (0, 1), 1.5), None,
        r"x: expected values in \[0, 1\] .*got values in \[0\.5, 1\.5\]", id="x_above_1",
    ),
    pytest.param(np.full((3, INPUT_DIM), "a"), None, r"x: expected real numbers, got dtype <U1", id="x_strings"),
    pytest.param(GOOD_X, np.zeros((3, 3)), r"eps: expected shape \(3, 2\), got \(3, 3\)", id="eps_wrong_shape"),
    pytest.param(GOOD_X, np.zeros((4, 2)), r"eps: expected shape \(3, 2\), got \(4, 2\)", id="eps_wrong_batch"),
    pytest.param(
        GOOD_X, _with_value_at((3, 2), (2, 1), np.nan),
        r"eps: expected finite values, got nan at index \(2, 1\)", id="eps_nan",
    ),
]  # fmt: skip


@pytest.mark.parametrize("x, eps, message", BAD_LOSS_INPUTS)
def test_bad_loss_input_raises_a_value_error_naming_the_argument_and_what_came(x, eps, message):
    model = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2)
    with pytest.raises(ValueError, match=message):
        model.loss(x, eps)


def test_gaussian_likelihood_accepts_data_outside_0_1():
    model = VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2, likelihood="gaussian")
    terms = model.loss(np.full((2, INPUT_DIM), -3.0))
    assert np.isfinite(terms.loss)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.sample(0), r"n: expected a positive integer, got 0"),
        (lambda m: m.decode(np.zeros((2, 3))), r"z: expected an array of shape \(batch, 2\) .*got shape \(2, 3\)"),
        (lambda m: m.encode(np.zeros((2, 4))), re.escape(f"x: expected an array of shape (batch, {INPUT_DIM})")),
    ],
    ids=["sample_n_0", "decode_wrong_z", "encode_wrong_x"],
)
def test_bad_input_to_inference_methods_raises_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(VAE(INPUT_DIM, hidden_dims=(4,), latent_dim=2))
