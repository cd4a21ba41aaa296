"""Argument types the benchmark scripts share: counts that refuse nonsense with one line."""

import argparse


def positive_int(text):
    """argparse type: an integer >= 1 (``--epochs 0`` would otherwise end in a traceback)."""
    return _int_at_least(text, 1)


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text, minimum):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
    return value
