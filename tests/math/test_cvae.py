"""Tests of the conditional VAE: ``numvae.conditional`` (one-hot, join, split) and ``numvae.cvae.CVAE``.

The file opens with a whole gradient check of the CVAE's loss, written out:
every parameter, perturbed entry by entry, against the hand-written backward.
The properties of ``numvae.course.properties.conditional`` follow: the join's
backward, the CVAE that ignores y being the VAE, the label being a bias.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from numvae import conditional, cvae, gaussian
from numvae.course.properties import PropertyFailure, verify
from numvae.course.properties import conditional as P
from numvae.cvae import CVAE
from numvae.gradcheck import check_gradients

INPUT_DIM = 6


def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


def _data(rng, batch, likelihood):
    if likelihood == "bernoulli":
        return rng.uniform(0, 1, size=(batch, INPUT_DIM))
    return rng.normal(0.5, 1.0, size=(batch, INPUT_DIM))


# --------------------------------------------------------------------------
# The whole gradient check, read top to bottom
# --------------------------------------------------------------------------

MODELS = [  # activation, hidden_dims, latent_dim, n_classes, likelihood, beta
    ("relu", (5,), 2, 3, "bernoulli", 1.0),
    ("tanh", (6, 4), 3, 10, "bernoulli", 0.5),
    ("softplus", (), 1, 2, "gaussian", 2.5),
    ("leaky_relu", (4,), 2, 4, "gaussian_learned", 1.0),
    ("sigmoid", (5, 3), 2, 1, "bernoulli", 1.0),
]


@pytest.mark.parametrize("activation, hidden_dims, latent_dim, n_classes, likelihood, beta", MODELS,
                         ids=["-".join(map(str, m)) for m in MODELS])
def test_loss_gradients_of_every_parameter_match_central_differences(
    activation, hidden_dims, latent_dim, n_classes, likelihood, beta, assert_gradients
):
    options = {"bernoulli": {}, "gaussian": {"sigma": 0.3}, "gaussian_learned": {"sigma": 0.5, "learn_sigma": True}}
    model = CVAE(INPUT_DIM, n_classes, hidden_dims, latent_dim, "bernoulli" if likelihood == "bernoulli" else "gaussian",
                 activation, beta, **options[likelihood], seed=n_classes)
    rng = np.random.default_rng(len(hidden_dims) + 10 * n_classes)
    # Non-zero biases and a non-constant learned variance, so every path carries a generic gradient.
    for name, p in model.parameters().items():
        if name.endswith(".b") or name == "decoder.log_var":
            p[...] = rng.uniform(-0.5, 0.5, size=p.shape)
    x = _data(rng, 4, "bernoulli" if likelihood == "bernoulli" else "gaussian")
    y = rng.integers(0, n_classes, size=4)  # every label row of W_c that is used gets a gradient
    eps = rng.standard_normal((4, latent_dim))  # replayed: the loss is a function of the parameters alone

    model.loss(x, y, eps)
    analytic = {name: g.copy() for name, g in model.backward().items()}  # the next loss() overwrites them
    report = check_gradients(lambda: model.loss(x, y, eps).loss, model.parameters(), analytic, h=1e-5)

    assert [c.name for c in report.checks] == list(model.parameters())
    assert_gradients(report)


def test_the_label_rows_of_classes_absent_from_the_batch_get_zero_gradient():
    model = CVAE(INPUT_DIM, 5, (4,), 2, seed=3)
    rng = np.random.default_rng(4)
    model.loss(_data(rng, 6, "bernoulli"), np.array([0, 3, 3, 0, 0, 3]))
    grads = model.backward()
    for name, first in (("encoder.0.W", INPUT_DIM), ("decoder.0.W", 2)):
        label_rows = grads[name][first:]  # (n_classes, hidden)
        assert np.all(label_rows[[1, 2, 4]] == 0), name
        assert np.all(np.any(label_rows[[0, 3]] != 0, axis=1)), name


# --------------------------------------------------------------------------
# The pieces: one-hot code, join, and the join's backward
# --------------------------------------------------------------------------


def test_one_hot_is_the_identity_row_of_each_label():
    verify(P.ONE_HOT, conditional)


@_cases(P.JOIN_DEFINITION)
def test_join_puts_the_columns_side_by_side(case):
    verify(P.JOIN_DEFINITION, conditional, case=case)


@_cases(P.JOIN_GRADIENTS)
def test_join_backward_matches_central_differences(case):
    verify(P.JOIN_GRADIENTS, conditional, case=case)


def test_a_join_backward_that_swaps_the_slices_fails_the_gradient_property():
    swapped = SimpleNamespace(join=conditional.join,
                              join_backward=lambda d, width: (d[:, -width:], d[:, :-width]))
    with pytest.raises(PropertyFailure, match="gradient check failed|expected shape"):
        verify(P.JOIN_GRADIENTS, swapped, case={"batch": 3, "width_a": 4, "width_b": 2})


# --------------------------------------------------------------------------
# The CVAE against the VAE
# --------------------------------------------------------------------------


@_cases(P.CVAE_IGNORING_Y_IS_THE_VAE)
def test_cvae_with_zero_label_weights_is_the_vae_for_any_labels(case):
    verify(P.CVAE_IGNORING_Y_IS_THE_VAE, cvae, case=case)


@_cases(P.CVAE_LABEL_IS_A_BIAS)
def test_cvae_of_one_label_is_the_vae_with_that_labels_bias(case):
    verify(P.CVAE_LABEL_IS_A_BIAS, cvae, case=case)


class _DecoderBlindToY(CVAE):
    """A classic mistake: the label joined to the encoder's input but zeros to the decoder's."""

    def _forward(self, x, c, eps, keep_cache):
        h = self.encoder.forward(conditional.join(x, c), keep_cache)
        mu, log_var = h[:, : self.latent_dim], h[:, self.latent_dim :]
        z, std = gaussian.reparameterize(mu, log_var, eps)
        out = self.decoder.forward(conditional.join(z, np.zeros_like(c)), keep_cache)
        if keep_cache:
            self._cache = (mu, log_var, eps, std)
        return self.likelihood.nll(x, out, keep_cache), gaussian.kl_standard_normal(mu, log_var)


def test_a_cvae_whose_decoder_never_sees_y_fails_the_label_is_a_bias_property():
    # Its gradients are right (it is a consistent model), and with W_c = 0 it is
    # the VAE too: only the label-is-a-bias property sees the missing label.
    blind = SimpleNamespace(CVAE=_DecoderBlindToY)
    verify(P.CVAE_IGNORING_Y_IS_THE_VAE, blind, case=P.CVAE_IGNORING_Y_IS_THE_VAE.cases[0])
    with pytest.raises(PropertyFailure, match="label must reach both networks"):
        verify(P.CVAE_LABEL_IS_A_BIAS, blind, case=P.CVAE_LABEL_IS_A_BIAS.cases[0])


def test_decoded_images_change_with_y_for_a_fixed_z():
    model = CVAE(INPUT_DIM, 3, (5,), 2, seed=1)
    z = np.random.default_rng(2).standard_normal((4, 2))
    grid = model.decode_every_class(z)  # (n_classes, n_z, input_dim)
    assert grid.shape == (3, 4, INPUT_DIM)
    for k in range(3):
        np.testing.assert_array_equal(grid[k], model.decode(z, np.full(4, k)))
    assert not np.allclose(grid[0], grid[1])


# --------------------------------------------------------------------------
# The public contract
# --------------------------------------------------------------------------


def test_parameters_are_a_vaes_with_n_classes_label_rows_in_each_first_weight_matrix():
    model = CVAE(INPUT_DIM, 4, (5, 3), 2)
    shapes = {name: p.shape for name, p in model.parameters().items()}
    assert shapes["encoder.0.W"] == (INPUT_DIM + 4, 5)
    assert shapes["decoder.0.W"] == (2 + 4, 3)
    assert shapes["decoder.2.W"] == (5, INPUT_DIM)


def test_config_rebuilds_the_same_model():
    model = CVAE(INPUT_DIM, 7, (5,), 3, likelihood="gaussian", sigma=0.2, beta=0.5, seed=9)
    clone = CVAE(**model.config())
    assert clone.config() == model.config() and model.config()["n_classes"] == 7
    for (name, p), q in zip(model.parameters().items(), clone.parameters().values()):
        np.testing.assert_array_equal(p, q, err_msg=name)


def test_sample_draws_the_labels_asked_for_and_an_int_cycles_through_the_classes():
    model = CVAE(INPUT_DIM, 3, (5,), 2)
    images = model.sample([2, 2, 0], rng=np.random.default_rng(1))
    z = np.random.default_rng(1).standard_normal((3, 2))
    np.testing.assert_allclose(images, model.decode(z, [2, 2, 0]), rtol=1e-15)
    cycled = model.sample(5, rng=np.random.default_rng(1))
    z = np.random.default_rng(1).standard_normal((5, 2))
    np.testing.assert_allclose(cycled, model.decode(z, [0, 1, 2, 0, 1]), rtol=1e-15)


def test_per_example_terms_log_px_given_z_and_loss_agree():
    model = CVAE(INPUT_DIM, 3, (5,), 2, seed=5)
    rng = np.random.default_rng(6)
    x, y, eps = _data(rng, 4, "bernoulli"), np.array([0, 1, 2, 1]), rng.standard_normal((4, 2))
    reconstruction, kl = model.per_example_terms(x, y, eps)
    terms = model.loss(x, y, eps)
    assert terms.reconstruction == pytest.approx(reconstruction.mean(), rel=1e-14)
    assert terms.kl == pytest.approx(kl.mean(), rel=1e-14)
    mu, log_var = model.encode(x, y)
    np.testing.assert_allclose(model.log_px_given_z(x, y, mu + np.exp(0.5 * log_var) * eps), -reconstruction,
                               rtol=1e-12)
    np.testing.assert_array_equal(model.reconstruct(x, y), model.decode(mu, y))


def test_backward_before_loss_raises():
    with pytest.raises(RuntimeError, match="backward\\(\\) called before loss\\(\\)"):
        CVAE(INPUT_DIM, 3, (4,), 2).backward()


@pytest.mark.parametrize("y, message", [
    (np.array([0, 1, 3]), r"y: expected class labels in 0\.\.2, got 3 at index 2"),
    (np.array([0, -1, 1]), r"y: expected class labels in 0\.\.2, got -1 at index 1"),
    (np.array([0.0, 1.0, 2.0]), "y: expected integer class labels, got dtype float64"),
    (np.array([True, False, True]), "y: expected integer class labels, got dtype bool"),
    (np.array([0, 1]), r"y: expected class labels of shape \(3,\), got shape \(2,\)"),
    (np.array([[0, 1, 2]]), r"y: expected class labels of shape \(3,\), got shape \(1, 3\)"),
], ids=["too-large", "negative", "float", "bool", "too-short", "2-d"])
def test_bad_labels_are_refused_naming_y(y, message):
    model = CVAE(INPUT_DIM, 3, (4,), 2)
    x = _data(np.random.default_rng(0), 3, "bernoulli")
    for method in (lambda: model.loss(x, y), lambda: model.encode(x, y), lambda: model.per_example_terms(x, y),
                   lambda: model.decode(np.zeros((3, 2)), y)):
        with pytest.raises(ValueError, match=message):
            method()


@pytest.mark.parametrize("labels, message", [
    (0, "labels: expected a positive integer, got 0"),
    ([], r"labels: expected class labels of shape \(n,\) with n >= 1, got shape \(0,\)"),
    ([5], r"labels: expected class labels in 0\.\.2, got 5"),
])
def test_bad_sample_labels_are_refused(labels, message):
    with pytest.raises(ValueError, match=message):
        CVAE(INPUT_DIM, 3, (4,), 2).sample(labels)


@pytest.mark.parametrize("n_classes", [0, -1, 2.5, True, None])
def test_n_classes_must_be_a_positive_integer(n_classes):
    with pytest.raises(ValueError, match="n_classes: expected a positive integer"):
        CVAE(INPUT_DIM, n_classes)


def test_every_vae_argument_is_still_checked():
    with pytest.raises(ValueError, match="activation: expected one of"):
        CVAE(INPUT_DIM, 3, activation="gelu")
    with pytest.raises(ValueError, match="latent_dim: expected a positive integer"):
        CVAE(INPUT_DIM, 3, latent_dim=0)
