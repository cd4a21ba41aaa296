"""Tests of ``numvae.categorical``: the properties of ``numvae.course.properties.categorical`` applied to it.

Softmax rows sum to 1 and stay finite at logits of ±1e4; the cross-entropy's
gradient is p − onehot; the entropy is 0 for a sure q and log K for a uniform
one; every backward matches central differences in float64.
"""

import numpy as np
import pytest

from numvae import categorical
from numvae.course.properties import categorical as P
from numvae.course.properties import PropertyFailure, verify


def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


def test_softmax_rows_sum_to_one():
    verify(P.SOFTMAX_ROWS, categorical)


def test_softmax_and_log_softmax_do_not_overflow_at_plus_minus_1e4():
    verify(P.SOFTMAX_EXTREMES, categorical)


@_cases(P.CROSS_ENTROPY_GRADIENT)
def test_cross_entropy_gradient_is_p_minus_onehot(case):
    verify(P.CROSS_ENTROPY_GRADIENT, categorical, case=case)


@_cases(P.BACKWARD_GRADIENTS)
def test_softmax_log_softmax_and_entropy_backward_match_central_differences(case):
    verify(P.BACKWARD_GRADIENTS, categorical, case=case)


@_cases(P.ENTROPY_EXTREMES)
def test_entropy_is_zero_for_one_hot_and_log_k_for_uniform(case):
    verify(P.ENTROPY_EXTREMES, categorical, case=case)


def test_one_hot_puts_a_single_one_in_each_row():
    np.testing.assert_array_equal(categorical.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


class _NaiveSoftmax:
    """The textbook softmax without the max subtracted: exp overflows at 710."""

    log_softmax = staticmethod(lambda logits: np.log(_NaiveSoftmax.softmax(logits)))

    @staticmethod
    def softmax(logits):
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)


def test_a_softmax_without_the_max_subtracted_fails_at_1e4():
    with pytest.raises(PropertyFailure, match="overflow|softmax") as failure:
        verify(P.SOFTMAX_EXTREMES, _NaiveSoftmax)
    assert "subtract" in str(failure.value) or "raised" in str(failure.value)
