"""Argument checks shared by the model, the trainer and the command line.

Each check returns the cleaned value or raises ``ValueError`` with a message
that names the argument, says what was expected and shows what came, e.g.
``latent_dim: expected a positive integer, got 0``.
"""

import numbers
import os

import numpy as np


def positive_int(name, value):
    """An int > 0 (bools are refused: ``True`` is not a size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name, value):
    """An int >= 0, such as a seed (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def positive_ints(name, values):
    """A sequence of ints > 0 (possibly empty)."""
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name}: expected a sequence of positive integers, got {values!r}") from None
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise ValueError(f"{name}: expected a sequence of positive integers, got {values!r}")
    return tuple(int(v) for v in values)


def real(name, value, *, minimum=None, strict=False):
    """A finite real number, optionally ``>= minimum`` (``> minimum`` if ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{name}: expected a finite number{bound}, got {value!r}")
    return float(value)


def boolean(name, value):
    """True or False (a NumPy bool too); not a string, where bool("False") would be True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def choice(name, value, allowed):
    """One of ``allowed`` (strings)."""
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def batch(name, x, width, dtype, *, unit_interval=False):
    """A finite 2-D array of shape (batch, width), converted to ``dtype``.

    With ``unit_interval`` the values must also lie in [0, 1] (Bernoulli data);
    a string there says why, in the message (default "for a Bernoulli likelihood").
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != width or x.shape[0] == 0:
        raise ValueError(f"{name}: expected an array of shape (batch, {width}) with batch >= 1, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name}: expected real numbers, got dtype {x.dtype}")
    x = x.astype(dtype, copy=False)
    # Every training step checks its batch, so this reads x twice, not four
    # times: min and max are NaN if any value is NaN and infinite if any is,
    # so finite extremes prove every value finite.
    low, high = x.min(), x.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name}: expected finite values, got {x[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    if unit_interval and (low < 0 or high > 1):
        raise ValueError(
            f"{name}: expected values in [0, 1] "
            f"{unit_interval if isinstance(unit_interval, str) else 'for a Bernoulli likelihood'}, "
            f"got values in [{low:g}, {high:g}]"
        )
    return x


def labels(name, y, n_classes, length=None):
    """Class labels: a 1-D array of integers in 0 .. n_classes − 1, of ``length`` entries if given (else >= 1).

    Floats are refused, even whole ones: a label is a category, and 6.9 would
    silently become class 6.
    """
    y = np.asarray(y)
    expected = f"({length},)" if length is not None else "(n,) with n >= 1"
    if y.ndim != 1 or (length is not None and len(y) != length) or len(y) == 0:
        raise ValueError(f"{name}: expected class labels of shape {expected}, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integer class labels, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= n_classes:
        bad = int(np.flatnonzero((y < 0) | (y >= n_classes))[0])
        raise ValueError(f"{name}: expected class labels in 0..{n_classes - 1}, got {y[bad]} at index {bad}")
    return y


def generator(name, value):
    """A ``numpy.random.Generator`` (an int seed is refused: pass ``np.random.default_rng(seed)``)."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(
            f"{name}: expected a numpy.random.Generator such as np.random.default_rng(0), got {value!r}"
        )
    return value


def floating_dtype(name, value, allowed=None):
    """A NumPy floating dtype (float32, float64, ...), given as a dtype, type or name.

    ``allowed``, if given, is the tuple of dtype names accepted.
    """
    try:
        dtype = None if value is None else np.dtype(value)  # np.dtype(None) would be float64
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or not np.issubdtype(dtype, np.floating):
        shown = repr(value) if dtype is None else str(dtype)  # int32, not <class 'numpy.int32'>
        raise ValueError(f"{name}: expected a floating dtype such as float32 or float64, got {shown}")
    if allowed is not None and dtype.name not in allowed:
        raise ValueError(f"{name}: expected {' or '.join(allowed)}, got {dtype.name}")
    return dtype


def physical_memory():
    """Bytes of RAM on this machine, or None where the OS does not say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def fits_in_memory(name, value, nbytes, what):
    """Refuse ``value`` of argument ``name`` if ``what`` needs more than half of this machine's RAM.

    Half, because the array is rarely the only thing in memory, and an
    allocation the OS grants lazily may only fail, much later, as the OOM killer.
    """
    ram = physical_memory()
    if ram is not None and nbytes > ram // 2:
        raise ValueError(
            f"{name}: {value!r} is too large: {what} would take {_bytes(nbytes)}, "
            f"more than half of this machine's {_bytes(ram)} of memory"
        )
    return value


def _bytes(n):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
