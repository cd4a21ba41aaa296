"""Tests of ``numvae.gradcheck`` itself: a checker that cannot fail proves nothing."""

import re

import numpy as np
import pytest

from numvae import VAE
from numvae.gradcheck import GradCheck, GradCheckReport, check_gradients, check_model, compare, numerical_gradient

FLOAT = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"
LINE = rf"(\S+): relative error \S+ at index (\([0-9, ]*\)) \(analytic {FLOAT}, numerical {FLOAT}\)"


def _parse(message):
    """(name, index, analytic, numerical) from a GradCheck line."""
    match = re.search(LINE, message)
    assert match, f"unexpected message format: {message}"
    name, index, analytic, numerical = match.groups()
    return name, index, float(analytic), float(numerical)


# --------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------


def test_numerical_gradient_of_a_known_function():
    x = np.random.default_rng(0).uniform(-2, 2, size=(3, 4))
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    # d/dx (x sin x) = sin x + x cos x; central differences are O(h^2) = 1e-12
    # accurate, plus round-off ~1e-16 |f| / h.
    np.testing.assert_allclose(grad, np.sin(x) + x * np.cos(x), rtol=0, atol=1e-8)
    assert grad.dtype == np.float64 and grad.shape == x.shape


def test_numerical_gradient_restores_the_array_bit_for_bit():
    # Values for which (x + h) - h != x in floating point.
    x = np.array([[0.1, 1e10, -3.3333333333333335], [1e-300, 5e-324, 0.7]])
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(x**2)), x)
    np.testing.assert_array_equal(x.view(np.uint64), before.view(np.uint64))


def test_numerical_gradient_perturbs_the_live_array_one_entry_at_a_time():
    x = np.zeros(3)
    seen = []
    numerical_gradient(lambda: seen.append(x.copy()) or 0.0, x, h=0.5)
    expected = [[0.5, 0, 0], [-0.5, 0, 0], [0, 0.5, 0], [0, -0.5, 0], [0, 0, 0.5], [0, 0, -0.5]]
    np.testing.assert_array_equal(seen, expected)


def test_numerical_gradient_restores_the_array_when_f_raises():
    # f may fail on a perturbed value (a model refusing a non-finite output, Ctrl-C):
    # the live parameter must not keep the perturbation.
    x = np.array([0.25, 2.0, -1.5])
    before = x.copy()
    calls = []

    def f():
        calls.append(x.copy())
        if len(calls) == 4:  # the step back of the second entry
            raise KeyboardInterrupt
        return float(np.sum(x**2))

    with pytest.raises(KeyboardInterrupt):
        numerical_gradient(f, x)
    assert not np.array_equal(calls[-1], before), "f should have seen a perturbed array"
    np.testing.assert_array_equal(x, before, err_msg="x kept the perturbation f failed on")


@pytest.mark.parametrize("h", [0, 0.0, -1e-5, float("nan"), float("inf"), "1e-5", True])
def test_a_step_that_is_not_a_finite_positive_number_is_refused_by_name(h):
    x = np.ones(2)
    with pytest.raises(ValueError, match=r"^h: expected a finite number > 0, got "):
        numerical_gradient(lambda: float(np.sum(x**2)), x, h=h)
    with pytest.raises(ValueError, match=r"^h: expected a finite number > 0, got "):
        check_gradients(lambda: float(np.sum(x**2)), {"x": x}, {"x": 2 * x}, h=h)


def test_an_integer_array_is_refused_even_when_float64_is_not_required():
    # x[i] = 1 + h would be truncated back to 1: every derivative would come out 0.
    x = np.array([1, 2])
    with pytest.raises(ValueError, match=r"^x: expected a floating array, got int64"):
        numerical_gradient(lambda: float(np.sum(x**2)), x, require_float64=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_non_float64_arrays_are_refused(dtype):
    x = np.ones(3, dtype=dtype)
    message = rf"x: expected a float64 array for a gradient check, got {np.dtype(dtype).name}"
    with pytest.raises(ValueError, match=message):
        numerical_gradient(lambda: 0.0, x)
    with pytest.raises(ValueError, match="float64"):
        check_gradients(lambda: 0.0, {"x": x}, {"x": np.zeros(3)})


def test_check_model_refuses_a_float32_model():
    model = VAE(4, hidden_dims=(3,), latent_dim=2, dtype=np.float32)
    with pytest.raises(ValueError, match="got float32"):
        check_model(model, np.full((2, 4), 0.5))


# --------------------------------------------------------------------------
# The relative error
# --------------------------------------------------------------------------


def test_relative_error_is_exactly_zero_when_both_gradients_are_zero():
    check = compare("w", np.zeros((2, 3)), np.zeros((2, 3)))
    assert check.relative_error == 0.0
    assert compare("empty", np.zeros(0), np.zeros(0)).relative_error == 0.0


def test_relative_error_is_the_worst_difference_over_the_largest_gradient():
    analytic = np.array([[1.0, -4.0], [0.5, 2.0]])
    numerical = np.array([[1.0, -4.0], [0.0, 2.1]])
    check = compare("w", analytic, numerical)
    # max |a - n| = 0.5 at (1, 0); max(max |a|, max |n|) = 4.
    assert check.relative_error == pytest.approx(0.5 / 4.0, rel=1e-15)
    assert check.index == (1, 0)
    assert (check.analytic, check.numerical) == (0.5, 0.0)
    # The scale is the larger of the two gradients, whichever holds it.
    assert compare("v", np.array([1.0]), np.array([3.0])).relative_error == pytest.approx(2.0 / 3.0, rel=1e-15)
    assert compare("v", np.array([3.0]), np.array([1.0])).relative_error == pytest.approx(2.0 / 3.0, rel=1e-15)


def test_relative_error_does_not_flag_round_off_in_tiny_entries():
    # An entry whose true gradient is ~1e-12 may differ in relative terms by 100%;
    # measured against the largest entry that is 1e-12, far below any tolerance.
    check = compare("w", np.array([1.0, 1e-12]), np.array([1.0, 2e-12]))
    assert check.relative_error == pytest.approx(1e-12, rel=1e-6, abs=0)


def test_compare_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"w: analytic gradient has shape \(2,\), numerical \(3,\)"):
        compare("w", np.zeros(2), np.zeros(3))


# --------------------------------------------------------------------------
# Reports: a wrong gradient is caught and described
# --------------------------------------------------------------------------


def test_a_wrong_gradient_is_detected_and_named_with_its_index_and_both_values():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(4), rng.standard_normal((2, 3))

    def f():
        return float(np.sum(a**2) + np.sum(np.exp(b)))

    analytic = {"a": 2 * a, "b": np.exp(b)}
    wrong_value = float(np.exp(b[1, 2]) + 0.75)
    analytic["b"][1, 2] = wrong_value

    report = check_gradients(f, {"a": a, "b": b}, analytic)
    assert report.worst.name == "b"
    with pytest.raises(AssertionError) as excinfo:
        report.assert_close(1e-6)
    message = str(excinfo.value)
    assert "tolerance 1e-06" in message
    name, index, reported_analytic, reported_numerical = _parse(message)
    assert (name, index) == ("b", "(1, 2)")
    assert reported_analytic == pytest.approx(wrong_value, rel=1e-9)  # printed to 10 significant digits
    assert reported_numerical == pytest.approx(np.exp(b[1, 2]), rel=1e-8)
    # Every parameter appears in the full report, the correct one with a tiny error.
    lines = str(report).splitlines()
    assert [_parse(line)[0] for line in lines] == ["a", "b"]
    assert report.checks[0].relative_error < 1e-8


def test_a_correct_gradient_passes_and_assert_close_returns_the_report():
    x = np.random.default_rng(2).standard_normal(5)
    report = check_gradients(lambda: float(np.sum(np.tanh(x))), {"x": x}, {"x": 1 - np.tanh(x) ** 2})
    assert report.assert_close(1e-6) is report
    assert report.worst.relative_error < 1e-8


def test_worst_is_the_check_with_the_largest_error():
    checks = [
        GradCheck("p", 1e-9, (0,), 1.0, 1.0),
        GradCheck("q", 3e-4, (1,), 1.0, 1.0),
        GradCheck("r", 2e-7, (), 0.0, 0.0),
    ]
    assert GradCheckReport(checks).worst.name == "q"


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize("position", ["first", "last"])
def test_a_nan_or_inf_gradient_never_passes(bad, position):
    # A backward that produces NaN or inf for one parameter must fail the check,
    # wherever that parameter sits in the report.
    good = compare("good", np.ones(3), np.ones(3))
    with np.errstate(invalid="ignore"):  # inf / inf inside compare
        broken = compare("broken", np.array([bad, 1.0]), np.array([1.0, 1.0]))
    report = GradCheckReport([broken, good] if position == "first" else [good, broken])
    with pytest.raises(AssertionError, match="broken"):
        report.assert_close(1e-6)


# --------------------------------------------------------------------------
# check_model
# --------------------------------------------------------------------------


def test_check_model_replays_its_noise_and_passes_on_a_correct_model():
    model = VAE(5, hidden_dims=(4,), latent_dim=2, seed=3)
    report = check_model(model, np.random.default_rng(4).uniform(0, 1, size=(3, 5)))
    assert [c.name for c in report.checks] == list(model.parameters())
    report.assert_close(1e-6)


def test_check_model_catches_a_sabotaged_backward():
    model = VAE(5, hidden_dims=(4,), latent_dim=2, seed=3)
    honest_backward = model.backward

    def sabotaged_backward():
        grads = honest_backward()
        grads["decoder.0.b"] *= 1.01  # a 1% error in one parameter
        return grads

    model.backward = sabotaged_backward
    report = check_model(model, np.random.default_rng(4).uniform(0, 1, size=(3, 5)))
    assert report.worst.name == "decoder.0.b"
    assert report.worst.relative_error == pytest.approx(0.01 / 1.01, rel=1e-4)
    with pytest.raises(AssertionError, match=r"decoder\.0\.b: relative error .* at index \(\d+,\)"):
        report.assert_close(1e-6)


def test_check_model_catches_a_nan_gradient_in_the_last_parameter():
    model = VAE(5, hidden_dims=(4,), latent_dim=2, seed=3)
    honest_backward = model.backward

    def nan_backward():
        grads = honest_backward()
        grads["decoder.1.b"][0] = np.nan
        return grads

    model.backward = nan_backward
    report = check_model(model, np.random.default_rng(4).uniform(0, 1, size=(3, 5)))
    with pytest.raises(AssertionError, match=r"decoder\.1\.b"):
        report.assert_close(1e-6)


def test_float32_can_be_checked_on_request_and_is_far_less_accurate():
    from numvae.gradcheck import numerical_gradient

    x32 = np.linspace(-1.0, 1.0, 5, dtype=np.float32)
    x64 = x32.astype(np.float64)
    exact = 3 * x64**2  # d/dx sum(x^3)
    g32 = numerical_gradient(lambda: float(np.sum(x32**3)), x32, 1e-5, require_float64=False)
    g64 = numerical_gradient(lambda: float(np.sum(x64**3)), x64, 1e-5)
    assert np.max(np.abs(g64 - exact)) < 1e-8
    # float32 round-off is ~1e-7 * |f| / h ~ 1e-2 here: orders of magnitude worse.
    assert np.max(np.abs(g32 - exact)) > 1e-4
    assert np.array_equal(x32, np.linspace(-1.0, 1.0, 5, dtype=np.float32)), "x was not restored"


@pytest.mark.parametrize(
    "params, analytic, message",
    [
        ({}, {}, r"^params: expected at least one array to check, got none$"),
        # A gradient with no parameter used to go unchecked without a word, a missing one was a bare KeyError.
        ({"w": np.ones(2)}, {"w": np.zeros(2), "b": np.zeros(1)}, r"^analytic: expected gradients for exactly .*\['w'\], got \['b', 'w'\]"),
        ({"w": np.ones(2), "b": np.ones(1)}, {"w": np.zeros(2)}, r"^analytic: expected .*\['b', 'w'\], got \['w'\]"),
    ],
    ids=["nothing to check", "extra gradient", "missing gradient"],
)
def test_check_gradients_refuses_an_empty_check_or_mismatched_keys(params, analytic, message):
    with pytest.raises(ValueError, match=message):
        check_gradients(lambda: 0.0, params, analytic)
