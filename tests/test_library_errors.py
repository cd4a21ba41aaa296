"""What a hostile user of the library meets: every bad call refused by name, nothing half done.

Each test reproduces one fault found by trying to break numvae (issue 6, part B):
memory that grew with an argument (the importance-weighted bound over K,
``VAE.sample(n)``, IDX files that promise more than they hold, gzip bombs),
densities that overflowed float32 into NaN, and arguments accepted or
half-applied before failing (``rng``, ``dtype``, ``beta``, optimizer steps).
"""

import decimal
import gzip
import math
import re
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from numvae import SGD, VAE, Adam, evaluate
from numvae.data import idx
from numvae.gaussian import LOG_2PI, log_normal, log_standard_normal
from numvae.data.idx import IDXFormatError, read_idx

MB = 1 << 20


def peak_bytes(function, *args, **kwargs):
    """Run ``function`` and return (its result or exception, the peak bytes it allocated)."""
    tracemalloc.start()
    try:
        try:
            outcome = function(*args, **kwargs)
        except Exception as exc:  # the caller inspects what was raised
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def small_model(dtype=np.float64, **kwargs):
    return VAE(input_dim=784, hidden_dims=(16,), latent_dim=2, dtype=dtype, seed=0, **kwargs)


# ------------------------------------------------------------ B.13 arguments


@pytest.mark.parametrize("rng", [3, "seed", np.random.RandomState(0)], ids=["int", "str", "RandomState"])
def test_sample_refuses_an_rng_that_is_not_a_generator(rng):
    with pytest.raises(ValueError, match=r"^rng: expected a numpy\.random\.Generator .*, got "):
        small_model().sample(2, rng=rng)


@pytest.mark.parametrize("dtype, shown", [("nonsense", "'nonsense'"), (None, "None"), ("int32", "int32"),
                                          (np.complex64, "complex64"), (object, "object")])
def test_vae_refuses_a_dtype_that_is_not_floating_by_name(dtype, shown):
    with pytest.raises(ValueError, match=r"^dtype: expected a floating dtype") as info:
        VAE(10, dtype=dtype)
    assert str(info.value).endswith(f"got {shown}")


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble], ids=["float16", "longdouble"])
def test_vae_refuses_a_floating_dtype_it_cannot_train_or_checkpoint(dtype):
    # float16: Adam's squared gradients and its δ = 1e-8 underflow to 0, so the
    # first step divides 0 by 0; a checkpoint holds only float32 and float64.
    if np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64)):
        pytest.skip("long double is float64 on this platform")
    with pytest.raises(ValueError, match=rf"^dtype: expected float32 or float64, got {np.dtype(dtype).name}$"):
        VAE(10, dtype=dtype)


@pytest.mark.parametrize("learn_sigma", ["False", "no", 0.5, None])
def test_vae_refuses_a_learn_sigma_that_is_not_a_bool(learn_sigma):
    # bool("False") is True: a flag read from text used to learn σ silently.
    with pytest.raises(ValueError, match=rf"^learn_sigma: expected True or False, got {re.escape(repr(learn_sigma))}$"):
        VAE(10, likelihood="gaussian", learn_sigma=learn_sigma)


def test_vae_takes_a_numpy_bool_for_learn_sigma():
    assert VAE(10, likelihood="gaussian", learn_sigma=np.bool_(True)).learn_sigma is True


@pytest.mark.parametrize("beta", [float("nan"), -3, float("inf"), "1", None])
def test_setting_beta_to_a_bad_value_is_refused_and_changes_nothing(beta):
    model = small_model(beta=0.5)
    with pytest.raises(ValueError, match=r"^beta: expected a finite number >= 0, got "):
        model.beta = beta
    assert model.beta == 0.5
    model.beta = 2  # a good value is still accepted, as a float
    assert model.beta == 2.0 and isinstance(model.beta, float)


def _optimizers():
    def params():
        return {"a": np.arange(3.0), "b": np.ones((2, 2))}
    return [("adam", lambda: Adam(params(), lr=0.1)), ("sgd", lambda: SGD(params(), lr=0.1))]


BAD_GRADS = [
    ({"a": np.ones(3), "b": np.ones(3)}, r"grads\['b'\]: expected shape \(2, 2\), got shape \(3,\)"),
    ({"a": np.ones(3), "b": 1.0}, r"grads\['b'\]: expected shape \(2, 2\), got shape \(\)"),
    ({"a": np.ones(3), "b": np.ones((2, 2), complex)}, r"grads\['b'\]: expected real numbers .*complex128"),
    ({"a": np.ones(3), "b": np.ones((2, 2), bool)}, r"grads\['b'\]: expected real numbers .*bool"),
    ({"a": np.ones(3), "b": np.full((2, 2), None)}, r"grads\['b'\]: expected real numbers .*object"),
    ({"a": np.ones(3)}, r"grads: expected the keys \['a', 'b'\], got \['a'\]"),
    ([np.ones(3), np.ones((2, 2))], r"grads: expected a dict"),
]


@pytest.mark.parametrize("name, make", _optimizers(), ids=[n for n, _ in _optimizers()])
@pytest.mark.parametrize("grads, message", BAD_GRADS, ids=[str(i) for i in range(len(BAD_GRADS))])
def test_an_optimizer_step_with_one_bad_gradient_changes_nothing(name, make, grads, message):
    optimizer = make()
    optimizer.step({"a": np.full(3, 0.5), "b": np.full((2, 2), -0.5)})  # state that is not all zeros
    before = optimizer.state_dict()
    params_before = {k: v.copy() for k, v in optimizer.params.items()}
    with pytest.raises(ValueError, match=message):
        optimizer.step(grads)
    assert optimizer.t == 1
    for key, value in optimizer.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=f"{name}: {key} changed by a failed step")
    for key, value in optimizer.params.items():
        np.testing.assert_array_equal(value, params_before[key], err_msg=f"{name}: {key} changed")


def test_an_optimizer_still_takes_float64_gradients_for_float32_parameters():
    theta = np.ones(3, dtype=np.float32)
    Adam({"w": theta}, lr=0.1).step({"w": np.ones(3)})
    assert theta.dtype == np.float32 and np.all(theta < 1)


# ------------------------------------------------------------ B.8 stable densities

_LOG_2PI_EXACT = decimal.Decimal("1.8378770664093454835606594728112352797227949472755668")
_CONTEXT = decimal.Context(prec=60, Emax=10**7, Emin=-(10**7))


def _log_normal_by_definition(z, mu, log_var):
    """-½ Σ (log 2π + log σ² + (z − μ)²/σ²) in 60-digit decimals, then rounded to float64.

    Decimal(float) is exact, and decimal exponents reach 10**7, so nothing
    overflows here; float() gives ±inf only where float64 cannot hold the answer.
    """
    total = decimal.Decimal(0)
    for zj, mj, lj in zip(map(float, z), map(float, mu), map(float, log_var)):
        d = _CONTEXT.subtract(decimal.Decimal(zj), decimal.Decimal(mj))
        quadratic = _CONTEXT.divide(_CONTEXT.multiply(d, d), _CONTEXT.exp(decimal.Decimal(lj)))
        total = _CONTEXT.add(total, _LOG_2PI_EXACT + decimal.Decimal(lj) + quadratic)
    return float(_CONTEXT.multiply(decimal.Decimal(-0.5), total)), total


_values = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
_log_vars = st.floats(-3000, 3000, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(_values, _values, _log_vars), min_size=1, max_size=3),
       st.sampled_from([np.float64, np.float32]))
@example([(0.5, 0.5, -100.0)], np.float32)   # z = μ with exp(−log_var) = inf in float32: was NaN
@example([(0.5, 0.5, -800.0)], np.float64)   # the same beyond float64's exp
@example([(1e-20, 0.0, -95.0)], np.float32)  # (z − μ)² underflows, exp(−log_var) overflows
@example([(3.0, 1.0, 0.0)], np.float64)
def test_log_normal_is_the_density_formula_and_finite_wherever_the_answer_is(rows, dtype):
    z, mu, log_var = (np.array(column, dtype=dtype) for column in zip(*rows))
    got = log_normal(z, mu, log_var)
    expected, exact_sum = _log_normal_by_definition(z, mu, log_var)
    assert got.dtype == np.float64
    if math.isfinite(expected):
        assert np.isfinite(got), (got, expected)
        # Error relative to the size of the terms summed (they may cancel).
        scale = float(sum(abs(decimal.Decimal(float(v))) for v in log_var)) + float(abs(exact_sum)) + LOG_2PI
        assert abs(float(got) - expected) <= 1e-12 * scale, (float(got), expected)
    else:
        assert got == expected, (got, expected)  # -inf only where float64 cannot hold the answer


def test_log_standard_normal_does_not_overflow_float32():
    z = np.array([[3e19, 0.0]], dtype=np.float32)  # z² overflows float32, not float64
    got = log_standard_normal(z)
    assert got.dtype == np.float64 and np.isfinite(got).all()
    np.testing.assert_allclose(got, -0.5 * (2 * LOG_2PI + float(z[0, 0]) ** 2), rtol=1e-15)


def _model_with_log_var(value, dtype=np.float32):
    """A model whose encoder outputs log_var = value for every input."""
    model = small_model(dtype=dtype)
    params = model.parameters()
    params["encoder.1.W"][:, 2:] = 0
    params["encoder.1.b"][2:] = value
    return model


def test_importance_weighted_bound_is_finite_with_a_tiny_posterior_variance_in_float32():
    # log_var = -100: exp(-log_var) overflows float32; the bound itself is an ordinary number.
    x = np.random.default_rng(0).random((20, 784))
    iw = evaluate.importance_weighted_log_likelihood(_model_with_log_var(-100.0), x, 10,
                                                     np.random.default_rng(1))
    assert np.isfinite(iw).all(), iw


def _scaled_model(scale):
    model = VAE(input_dim=784, hidden_dims=(400,), latent_dim=2, dtype=np.float32, seed=0)
    for p in model.parameters().values():
        p *= scale
    return model


@pytest.mark.parametrize("scale", [10, 100])
def test_weights_scaled_up_give_a_number_or_an_error_naming_the_term_never_nan(scale):
    # The reproduction of issue 6 B.8: every weight of a float32 model times 10 or 100.
    x = np.random.default_rng(0).random((50, 784))
    model = _scaled_model(scale)
    with np.errstate(all="ignore"):
        try:
            iw = evaluate.importance_weighted_log_likelihood(model, x, 10, np.random.default_rng(1))
        except ValueError as exc:
            assert any(term in str(exc) for term in ("log p(x|z)", "log p(z)", "log q(z|x)",
                                                     "importance sample z")), exc
            assert "overflow float32" in str(exc)
        else:
            assert not np.isnan(iw).any(), iw
            assert np.isfinite(iw).all(), iw


def test_a_nan_parameter_is_named_by_the_importance_weighted_bound():
    model = small_model()
    model.parameters()["encoder.0.b"][0] = np.nan
    with pytest.raises(ValueError, match=r"^an importance sample z = .* is nan"):
        evaluate.importance_weighted_log_likelihood(model, np.full((3, 784), 0.5), 5,
                                                    np.random.default_rng(0))


# ------------------------------------------------------------ B.4 bounded memory


def test_importance_weighted_bound_asks_for_at_most_max_rows_samples_at_once(monkeypatch):
    # K = 10**12 used to allocate K x latent_dim noise at once (7 TiB): MemoryError.
    real = evaluate.log_importance_terms
    requested = []

    class Enough(Exception):
        pass

    def spy(model, x, k, rng):
        requested.append(k * len(x))
        if len(requested) == 3:
            raise Enough
        return real(model, x, k, rng)

    monkeypatch.setattr(evaluate, "log_importance_terms", spy)
    with pytest.raises(Enough):
        evaluate.importance_weighted_log_likelihood(small_model(), np.full((2, 784), 0.5), 10**12,
                                                    np.random.default_rng(0), max_rows=64)
    assert requested == [64, 64, 64]


def test_streaming_over_k_gives_the_bound_computed_at_once():
    model = small_model()
    x = np.random.default_rng(0).random((3, 784))
    streamed = evaluate.importance_weighted_log_likelihood(model, x, 50, np.random.default_rng(1),
                                                           max_rows=7)  # chunks 7, 7, ..., 1
    rng = np.random.default_rng(1)  # the same stream: one example, its 50 samples, the next
    at_once = [evaluate.log_mean_exp(evaluate.log_importance_weights(model, x[i : i + 1], 50, rng))[0]
               for i in range(3)]
    np.testing.assert_allclose(streamed, at_once, rtol=1e-13)


def test_importance_weighted_bound_memory_does_not_grow_with_k():
    model = small_model(dtype=np.float32)
    x = np.full((1, 784), 0.5, dtype=np.float32)
    k = 50_000  # all at once: 50,000 x 784 float32 inputs alone are 157 MB
    iw, peak = peak_bytes(evaluate.importance_weighted_log_likelihood, model, x, k,
                          np.random.default_rng(0), max_rows=500)
    assert np.isfinite(iw).all(), iw
    assert peak < 20 * MB, f"peak {peak / MB:.0f} MB for K = {k}"


def _gzip_bomb(path, header, zeros):
    """An IDX header then ``zeros`` zero bytes, gzip-compressed, written in 1 MB pieces (small on disk)."""
    with gzip.GzipFile(path, "wb", mtime=0) as stream:
        stream.write(header)
        piece = bytes(MB)
        for _ in range(zeros // MB):
            stream.write(piece)
    return path


def _ubyte_header(*dims):
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bombs")
    return {
        # Promises 64 GiB: refused from the header, before any data.
        "promise": _gzip_bomb(directory / "promise.gz", _ubyte_header(2**16, 2**16, 16), 64 * MB),
        # Promises one 28x28 image, then inflates to 64 MB more.
        "trailing": _gzip_bomb(directory / "trailing.gz", _ubyte_header(1, 28, 28), 64 * MB),
        # Promises 500 MB (under the limit), holds 32 MB.
        "short": _gzip_bomb(directory / "short.gz", _ubyte_header(500, 1000, 1000), 32 * MB),
    }


@pytest.mark.parametrize("bomb, problem", [
    ("promise", r"the header promises an array of shape \(65536, 65536, 16\) .* 68,719,476,736 bytes"),
    ("trailing", r"trailing bytes: expected 784 bytes of data after the header, found more"),
    ("short", r"truncated: expected 500000000 bytes of data after the header, found 33554432"),
])
def test_a_gzip_bomb_is_refused_without_inflating_it(bombs, bomb, problem):
    path = bombs[bomb]
    assert path.stat().st_size < MB  # a real bomb: small on disk
    error, peak = peak_bytes(read_idx, path)
    assert isinstance(error, IDXFormatError), error
    assert str(error).startswith(f"{path}: ")
    assert re.search(problem, str(error)), str(error)
    # Reading what the file holds (32 MB for "short") is fair; inflating 64 MB of
    # promise or trailing data is not.
    assert peak < (40 if bomb == "short" else 4) * MB, f"peak {peak / MB:.0f} MB"


def test_a_raw_file_promising_more_than_the_limit_is_refused_from_its_header(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_ubyte_header(2**20, 2**20, 1) + bytes(100))
    with pytest.raises(IDXFormatError, match=r"promises .* more than numvae reads .*MAX_DATA_BYTES") as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: ")
    assert idx.MAX_DATA_BYTES >= 700 * 10**6  # EMNIST's largest file (0.55 GB) must still read


def test_a_raw_file_is_measured_before_it_is_read(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_ubyte_header(1, 28, 28) + bytes(784) + bytes(20 * MB))
    error, peak = peak_bytes(read_idx, path)
    assert isinstance(error, IDXFormatError)
    assert str(error) == (f"{path}: trailing bytes: expected 784 bytes of data after the header, "
                          f"found {784 + 20 * MB}")
    assert peak < MB, f"peak {peak / MB:.0f} MB"
