"""The masked dense layer, the MADE decoder, the MADE-VAE and free bits: each test named after its property.

The properties live in ``numvae.course.properties.made``; here they are
applied to numvae's own code, and then to broken versions of it, to show that
each property can fail. The last tests check what no gradient check sees:
that p(x|z) is a distribution, that sampling draws from it, and that
training on real digits lowers the loss.
"""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from numvae import collapse, made, made_vae
from numvae.course.properties import PropertyFailure, verify
from numvae.course.properties import made as PM
from numvae.data import load_dataset
from numvae.gaussian import kl_standard_normal
from numvae.layers import dense_backward
from numvae.made import MADE
from numvae.made_vae import MADEVAE
from numvae.training import TrainConfig, Trainer

# --------------------------------------------------------------------------
# The properties, on numvae's code
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", PM.MASKED_DENSE_GRADIENTS.cases, ids=PM.MASKED_DENSE_GRADIENTS.case_ids())
def test_masked_dense_backward_matches_masked_central_differences(case):
    verify(PM.MASKED_DENSE_GRADIENTS, made, case=case)


def test_a_masked_weight_changes_nothing():
    verify(PM.MASKED_WEIGHTS, made)


@pytest.mark.parametrize("case", PM.MADE_AUTOREGRESSIVE.cases, ids=PM.MADE_AUTOREGRESSIVE.case_ids())
def test_logit_d_depends_on_earlier_pixels_and_z_only(case):
    verify(PM.MADE_AUTOREGRESSIVE, made, case=case)


@pytest.mark.parametrize("case", PM.MADE_VAE_GRADIENTS.cases, ids=PM.MADE_VAE_GRADIENTS.case_ids())
def test_made_vae_gradients_match_central_differences_in_float64(case):
    verify(PM.MADE_VAE_GRADIENTS, made_vae, case=case)


@pytest.mark.parametrize("case", PM.FREE_BITS_GRADIENTS.cases, ids=PM.FREE_BITS_GRADIENTS.case_ids())
def test_free_bits_backward_matches_central_differences(case):
    verify(PM.FREE_BITS_GRADIENTS, collapse, case=case)


def test_free_bits_with_lambda_zero_is_the_mean_kl():
    verify(PM.FREE_BITS_AT_ZERO, collapse)


# --------------------------------------------------------------------------
# ... and on broken versions: each property can fail
# --------------------------------------------------------------------------


def _unmasked_gradient(d_y, x, W, M, need_d_x=True):
    return dense_backward(d_y, x, W * M, need_d_x)  # d_W not masked


def _d_x_through_w(d_y, x, W, M, need_d_x=True):
    d_W, d_b, d_x = dense_backward(d_y, x, W, need_d_x)  # W where W ⊙ M belongs
    return d_W * M, d_b, d_x


@pytest.mark.parametrize("backward", [_unmasked_gradient, _d_x_through_w], ids=["d_W unmasked", "d_x through W"])
def test_the_masked_gradient_property_catches_a_missing_mask(backward):
    broken = SimpleNamespace(masked_dense_forward=made.masked_dense_forward, masked_dense_backward=backward)
    with pytest.raises(PropertyFailure, match="masked_dense_backward matches"):
        verify(PM.MASKED_DENSE_GRADIENTS, broken, case={"batch": 3, "fan_in": 4, "fan_out": 2})


class _SeesItself(MADE):
    """Output mask d >= m(k) instead of d > m(k): logit d reads pixel d."""

    def __init__(self, input_dim, hidden_dims, latent_dim, activation, rng, dtype):
        super().__init__(input_dim, hidden_dims, latent_dim, activation, rng, dtype)
        output = self.dense[-1]
        degrees = made.made_degrees(input_dim, hidden_dims)
        output.mask[: len(degrees[-1])] = degrees[-1][:, None] <= degrees[0][None, :]
        output.params["W"][...] = rng.standard_normal(output.mask.shape)


class _NoZInHiddenLayers(MADE):
    """z kept out of the hidden layers, as if its mask rows were zeros: logit 0 then ignores z."""

    def __init__(self, input_dim, hidden_dims, latent_dim, activation, rng, dtype):
        super().__init__(input_dim, hidden_dims, latent_dim, activation, rng, dtype)
        for dense in self.dense:
            dense.mask[-latent_dim:] = False


@pytest.mark.parametrize("broken, message", [(_SeesItself, "expected 0 for j >= d"), (_NoZInHiddenLayers, "ignores z")],
                         ids=["output sees its own pixel", "z masked out"])
def test_the_autoregressive_property_catches_a_wrong_mask(broken, message):
    with pytest.raises(PropertyFailure, match=message):
        verify(PM.MADE_AUTOREGRESSIVE, SimpleNamespace(MADE=broken),
               case={"input_dim": 5, "hidden_dims": (4,), "latent_dim": 2})


def test_the_free_bits_property_catches_a_gradient_below_lambda():
    broken = SimpleNamespace(free_bits=collapse.free_bits,
                             free_bits_backward=lambda d_out, kl, lam: np.full(kl.shape, d_out / kl.shape[0]))
    with pytest.raises(PropertyFailure, match="free_bits_backward matches"):
        verify(PM.FREE_BITS_GRADIENTS, broken, case={"batch": 4, "latent_dim": 5, "free_nats": 0.25})


# --------------------------------------------------------------------------
# What a gradient check cannot see
# --------------------------------------------------------------------------


def test_unit_kl_adds_up_to_the_kl():
    rng = np.random.default_rng(0)
    mu, log_var = rng.standard_normal((2, 6, 3))
    np.testing.assert_allclose(collapse.unit_kl(mu, log_var).sum(axis=1), kl_standard_normal(mu, log_var), rtol=1e-14)


def _all_images(input_dim):
    return np.array(list(itertools.product((0.0, 1.0), repeat=input_dim)))  # (2**D, D)


def test_p_x_given_z_sums_to_one_over_every_binary_image():
    model = MADEVAE(4, hidden_dims=(5,), decoder_hidden_dims=(6,), latent_dim=2, activation="tanh", seed=3)
    images = _all_images(4)
    for z in np.random.default_rng(1).standard_normal((3, 1, 2)):
        total = np.exp(model.log_px_given_z(images, np.repeat(z, len(images), axis=0))).sum()
        assert abs(total - 1) < 1e-12, f"Σ_x p(x|z) = {total!r} for z = {z}"


def test_sequential_samples_follow_p_x_given_z():
    model = MADEVAE(3, hidden_dims=(4,), decoder_hidden_dims=(5,), latent_dim=1, activation="tanh", seed=4)
    n, z = 20_000, np.full((20_000, 1), 0.7)
    samples = model.sample(n, np.random.default_rng(5), z=z)
    images = _all_images(3)
    p = np.exp(model.log_px_given_z(images, z[: len(images)]))  # (8,)
    counts = np.array([np.sum(np.all(samples == image, axis=1)) for image in images])
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) < 4.5 * sd), f"counts {counts}, expected {np.round(n * p)} ± {np.round(sd)}"


def test_with_free_bits_zero_the_loss_is_reconstruction_plus_beta_kl():
    model = MADEVAE(6, hidden_dims=(5,), latent_dim=3, beta=2.5, seed=1)
    x = (np.random.default_rng(2).random((5, 6)) < 0.5).astype(float)
    terms = model.loss(x)
    assert terms.loss == pytest.approx(terms.reconstruction + 2.5 * terms.kl, rel=1e-13)


def test_free_bits_above_every_unit_gives_the_kl_no_gradient():
    x = (np.random.default_rng(2).random((5, 6)) < 0.5).astype(float)
    eps = np.random.default_rng(3).standard_normal((5, 2))
    model = MADEVAE(6, hidden_dims=(5,), latent_dim=2, free_bits=1e3, seed=1)
    terms = model.loss(x, eps)
    assert terms.loss == pytest.approx(terms.reconstruction + 2 * 1e3)
    with_free_bits = {k: g.copy() for k, g in model.backward().items()}
    model.beta = 0.0  # no KL term at all: the same gradients
    model.loss(x, eps)
    for name, gradient in model.backward().items():
        np.testing.assert_array_equal(with_free_bits[name], gradient, err_msg=name)


@pytest.mark.parametrize("arguments, message", [
    (dict(input_dim=1), "input_dim: expected at least 2"),
    (dict(input_dim=6, latent_dim=0), "latent_dim"),
    (dict(input_dim=6, free_bits=-0.1), "free_bits"),
    (dict(input_dim=6, beta=float("nan")), "beta"),
    (dict(input_dim=6, decoder_hidden_dims=(3, 0)), "decoder_hidden_dims"),
    (dict(input_dim=6, activation="gelu"), "activation"),
    (dict(input_dim=6, dtype=np.float16), "dtype"),
])
def test_bad_arguments_are_refused_at_the_door(arguments, message):
    with pytest.raises(ValueError, match=message):
        MADEVAE(**arguments)


def test_bad_calls_are_refused_with_the_argument_named():
    model = MADEVAE(6, hidden_dims=(5,), latent_dim=2)
    x = np.zeros((3, 6))
    with pytest.raises(ValueError, match="eps: expected shape"):
        model.loss(x, eps=np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"x: expected values in \[0, 1\]"):
        model.loss(x + 2)
    with pytest.raises(ValueError, match="z: expected 2 rows"):
        model.sample(2, np.random.default_rng(0), z=np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="backward\\(\\) called before loss\\(\\)"):
        MADEVAE(6).backward()


def test_the_trainer_drives_the_made_vae_and_training_lowers_the_test_loss():
    data = load_dataset("mnist5k")
    model = MADEVAE(784, hidden_dims=(32,), decoder_hidden_dims=(64,), latent_dim=4, dtype=np.float32, seed=0)
    trainer = Trainer(model, data.x_train[:500], data.x_test[:200], TrainConfig(epochs=3, batch_size=50, seed=0))
    before = trainer.evaluate_test()["loss"]
    history = trainer.fit()
    assert history["test_loss"][-1] < before - 100, (before, history["test_loss"])


@pytest.mark.parametrize("hidden_dims", [(), (5,), (4, 6)])
def test_the_logit_of_one_pixel_is_that_column_of_the_forward_pass(hidden_dims):
    rng = np.random.default_rng(6)
    network = MADE(5, hidden_dims, 2, "relu", rng)
    x, z = rng.random((3, 5)), rng.standard_normal((3, 2))
    logits = network.forward(x, z, keep_cache=False)
    for d in range(5):
        np.testing.assert_allclose(network.logit(x, z, d), logits[:, d], rtol=1e-13, atol=1e-15)
