"""Hypothesis strategies shared by the properties: bounded, small, float arrays.

Each helper takes the ``st`` (``hypothesis.strategies``) and ``hnp``
(``hypothesis.extra.numpy``) modules, so that nothing here imports Hypothesis:
the runner passes them in when a randomized property actually runs. Elements
are always bounded (unbounded floats would produce NaN and inf) and shapes small.
"""

import numpy as np

SEED_MAX = 2**32 - 1


def arrays(st, hnp, shape, low, high, dtype=np.float64):
    """Arrays of ``shape`` (a tuple, an int or a strategy) with elements in [low, high]."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return hnp.arrays(dtype, shape, elements=st.floats(low, high, width=width))


def small_shapes(hnp):
    """1-D or 2-D shapes with sides 1..6."""
    return hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6)


def batch_shapes(st):
    """(batch, input_dim) with batch 1..4 and input_dim 1..5."""
    return st.tuples(st.integers(1, 4), st.integers(1, 5))


def seeds(st):
    """Integer seeds; the property builds ``np.random.default_rng(seed)`` itself."""
    return st.integers(0, SEED_MAX)
