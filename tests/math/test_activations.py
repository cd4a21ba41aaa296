"""Tests of ``numvae.activations``: the properties of ``numvae.course.properties.activations`` applied to them.

Every forward is compared with a formula written differently from the
library's, every backward with central differences in float64, and sigmoid and
softplus must be exact and silent at ±1e4 (the properties say how).
"""

import numpy as np
import pytest

from numvae import activations
from numvae.course.properties import activations as P
from numvae.course.properties import verify

NAMES = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus"]


def test_the_registry_holds_exactly_the_five_activations_with_a_gain_each():
    assert sorted(activations.ACTIVATIONS) == sorted(NAMES)
    assert sorted(activations.GAINS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences(name):
    verify(P.gradient(name), activations)


def test_relu_uses_the_subgradient_zero_at_the_kink():
    verify(P.RELU_SUBGRADIENT, activations)


@pytest.mark.parametrize(
    "prop",
    [P.RELU_DEFINITION, P.LEAKY_RELU_DEFINITION, P.TANH_DEFINITION, P.SIGMOID_DEFINITION,
     P.SOFTPLUS_LOGADDEXP, P.SIGMOID_SOFTPLUS, P.IDENTITIES],
    ids=lambda p: p.check.__name__,
)
def test_values_match_independent_formulas(prop):
    verify(prop, activations)


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_sigmoid_and_softplus_are_exact_and_silent_at_plus_minus_1e4(name):
    verify(P.extremes(name), activations)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_every_activation_is_finite_and_keeps_the_dtype_for_large_inputs(name, dtype):
    verify(P.large_inputs(name, dtype), activations)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_equals_its_two_branch_definition_bit_for_bit(dtype):
    # The two branches of the definition, written apart: they must agree on every bit,
    # signs of zero, underflow of e, inf and NaN included.
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(scale=8, size=2000), [0.0, -0.0, 1e-30, -1e-30, 50, -50, 120, -120,
                                                         800, -800, np.inf, -np.inf, np.nan]]).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.abs(x))
        expected = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        got = activations.sigmoid(x)
    assert got.dtype == dtype
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    differ = got.view(bits) != expected.view(bits)  # compares -0.0 with 0.0 and NaN payloads too
    assert not differ.any(), f"sigmoid differs from the two-branch form at x = {x[differ][:5]}"
    assert activations.sigmoid(dtype(-3)) == np.exp(dtype(-3)) / (1 + np.exp(dtype(-3)))  # a scalar too
