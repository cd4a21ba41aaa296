"""Tests for numvae.plots.conditional: the class x style grid and the interpolation within each class."""

import os

import numpy as np
import pytest

from numvae import plots
from test_plots import assert_png, assert_refused_keeping_the_old_file

GRID = np.random.default_rng(0).uniform(0, 1, size=(3, 4, 784))  # (classes, styles, pixels)


@pytest.mark.parametrize("call", [
    lambda p: plots.plot_class_grid(GRID, p),
    lambda p: plots.plot_class_grid(GRID, p, class_names=["T-shirt", "Trouser", "Bag"], title="three"),
    lambda p: plots.plot_class_interpolation(GRID, p),
    lambda p: plots.plot_class_interpolation(GRID, p, class_names="abc", ends=GRID[:, :2]),
], ids=["grid", "grid-named", "interpolation", "interpolation-with-ends"])
def test_writes_a_png_and_leaves_nothing_else(call, tmp_path):
    path = tmp_path / "new" / "figure.png"
    assert call(path) == path
    assert_png(path)
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.parametrize("call, argument", [
    (lambda p: plots.plot_class_grid(GRID[0], p), "images"),
    (lambda p: plots.plot_class_grid(GRID[:, :, :700], p), "images"),
    (lambda p: plots.plot_class_grid(GRID + np.nan, p), "images"),
    (lambda p: plots.plot_class_grid(GRID, p, class_names=["a", "b"]), "row_names"),
    (lambda p: plots.plot_class_grid(GRID, p.with_suffix(".jpg")), "path"),
    (lambda p: plots.plot_class_interpolation(GRID, p, ends=GRID), "ends"),
], ids=["2-d", "pixels", "nan", "names", "suffix", "ends"])
def test_bad_input_names_the_argument_and_keeps_the_old_file(call, argument, tmp_path):
    assert_refused_keeping_the_old_file(call, argument, tmp_path)
