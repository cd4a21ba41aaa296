r"""The mathematical properties numvae's code must have, as plain functions.

One set of properties serves three users: ``tests/`` applies them to numvae's
own implementation, ``numvae exercises check`` to a student's, and the bug zoo
(``numvae.course.zoo``) to known-wrong implementations. A property written
twice is a property that will drift, so each lives here once.

A property is a function ``check(impl, **inputs)``: ``impl`` is anything with
the functions under test as attributes (a module such as ``numvae.gaussian``,
a student's workbook file, a mutant), ``inputs`` are concrete values. It
returns nothing and raises :class:`PropertyFailure`, whose message names the
property, the input and both values. A :class:`Property` bundles the check
with where its inputs come from: fixed ``cases`` (gradient checks, extreme
values) or Hypothesis ``strategies`` (random inputs, shrunk on failure).

Hypothesis is imported only when a randomized property runs, so importing
numvae (and ``numvae train``) never pays for it.

Modules: :mod:`.core` (failures, calls, gradient checks), :mod:`.runner`
(cases and Hypothesis), :mod:`.activations`,
:mod:`.gaussian`, :mod:`.likelihoods`, :mod:`.layers`, :mod:`.optim`,
:mod:`.evaluate`, :mod:`.conditional`, :mod:`.categorical`, :mod:`.m2`; :mod:`.strategies` holds the Hypothesis strategies.
"""

from .core import (
    Property,
    PropertyFailure,
    call,
    gradients_match,
    report_within_tolerance,
)
from .runner import HYPOTHESIS_MISSING, hypothesis_settings, require_hypothesis, verify

__all__ = [
    "HYPOTHESIS_MISSING",
    "Property",
    "PropertyFailure",
    "call",
    "gradients_match",
    "report_within_tolerance",
    "hypothesis_settings",
    "require_hypothesis",
    "verify",
]
