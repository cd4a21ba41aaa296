"""Tests for numvae.plots: valid PNGs, atomic writes, clear errors, the manifold's grid.

The figures' look is checked by eye; here we check what a script relies on: a decodable
PNG at the path returned, no temporary file left behind, an old file kept when a call
fails, and a ValueError that names the bad argument.
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from numvae import plots
from numvae.plots import common

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OLD_BYTES = b"an older figure that must survive a failed call"
ROOT = Path(__file__).resolve().parents[1]


def images(rng, n=12, image_shape=(28, 28)):
    return rng.uniform(0, 1, size=(n, image_shape[0] * image_shape[1]))


def history(n_epochs=6):
    epoch = np.arange(1, n_epochs + 1)
    train_reconstruction, train_kl = 200.0 / epoch + 90, 10 + np.log(epoch)
    result = {"epoch": epoch, "train_reconstruction": train_reconstruction, "train_kl": train_kl,
              "train_loss": train_reconstruction + train_kl}
    for part in ("loss", "reconstruction", "kl"):
        test = result[f"train_{part}"] * 1.05
        test[epoch % 2 == 1] = np.nan  # the test set is evaluated every other epoch
        result[f"test_{part}"] = test
    return result


def decode_blank(z):
    return np.full((len(z), 784), 0.5)


rng0 = np.random.default_rng(0)
MU, LABELS = rng0.normal(size=(200, 2)), rng0.integers(0, 10, size=200)
IMAGES = images(rng0)

# name -> call(path); each one should write a PNG.
GOOD_CALLS = {
    "loss_curves": lambda path: plots.plot_loss_curves(history(), path),
    "reconstructions": lambda path: plots.plot_reconstructions(IMAGES, IMAGES[::-1], path, n=5),
    "image_grid": lambda path: plots.plot_image_grid(IMAGES, path, title="samples", ncols=5),
    "latent_scatter": lambda path: plots.plot_latent_scatter(MU, LABELS, path),
    "manifold": lambda path: plots.plot_manifold(decode_blank, path, n=4),
    "anomaly_histogram": lambda path: plots.plot_anomaly_histogram(MU[:, 0], MU[:, 1] + 3, path),
}

# (call(path), the argument name the error message must contain); each one is bad input.
BAD_CALLS = [
    (lambda p: plots.plot_loss_curves({k: v for k, v in history().items() if k != "test_kl"}, p),
     "test_kl"),
    (lambda p: plots.plot_loss_curves({**history(), "train_kl": [1.0, 2.0]}, p), "train_kl"),
    (lambda p: plots.plot_loss_curves({**history(), "epoch": [1, 2, np.nan, 4, 5, 6]}, p),
     "epoch"),
    (lambda p: plots.plot_loss_curves(history(), p.with_suffix(".pdf")), "path"),
    (lambda p: plots.plot_loss_curves(list(history().values()), p), "history"),
    (lambda p: plots.plot_reconstructions(IMAGES, IMAGES[:3], p), "reconstructions"),
    (lambda p: plots.plot_reconstructions(IMAGES + np.nan, IMAGES, p), "originals"),
    (lambda p: plots.plot_reconstructions(IMAGES, IMAGES, p, n=0), "n"),
    (lambda p: plots.plot_reconstructions(IMAGES, IMAGES, p, image_shape=(8, 8)), "originals"),
    (lambda p: plots.plot_image_grid(IMAGES[:, :700], p), "images"),
    (lambda p: plots.plot_image_grid(IMAGES, p, ncols=0), "ncols"),
    (lambda p: plots.plot_image_grid(IMAGES, p, image_shape=(28, 28, 1)), "image_shape"),
    (lambda p: plots.plot_latent_scatter(np.zeros((200, 3)), LABELS, p), "latent_dim = 2"),
    (lambda p: plots.plot_latent_scatter(MU, LABELS[:-1], p), "labels"),
    (lambda p: plots.plot_latent_scatter(MU, LABELS + 0.5, p), "labels"),
    (lambda p: plots.plot_latent_scatter(MU, np.where(LABELS == 3, np.inf, LABELS), p), "labels"),
    (lambda p: plots.plot_latent_scatter(MU, np.where(LABELS == 3, 1e30, LABELS), p), "labels"),
    (lambda p: plots.plot_manifold(decode_blank, p, n=1), "n"),
    (lambda p: plots.plot_manifold(lambda z: np.zeros((len(z), 10)), p, n=3), "decode"),
    (lambda p: plots.plot_manifold(lambda z: np.full((len(z), 784), np.nan), p, n=3), "decode"),
    (lambda p: plots.plot_manifold("not callable", p), "decode"),
    (lambda p: plots.plot_anomaly_histogram([], [1.0], p), "scores_normal"),
    (lambda p: plots.plot_anomaly_histogram([1.0], [[1.0]], p), "scores_anomalous"),
    (lambda p: plots.plot_anomaly_histogram([1.0], [np.inf], p), "scores_anomalous"),
]


def assert_png(path):
    """``path`` holds a PNG that decodes to an RGB(A) float image of a sensible size."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4), pixels.shape
    assert pixels.dtype == np.float32 and 0 <= pixels.min() and pixels.max() <= 1
    assert min(pixels.shape[:2]) >= 200, "too small to read on a projector"
    return pixels


@pytest.mark.parametrize("name", GOOD_CALLS)
def test_writes_a_png_into_a_new_directory_and_leaves_nothing_else(name, tmp_path):
    path = tmp_path / "new" / "dir" / f"{name}.png"
    returned = GOOD_CALLS[name](str(path))
    assert isinstance(returned, Path) and returned == path
    assert_png(path)
    assert os.listdir(path.parent) == [path.name], "a temporary file was left behind"


def test_replaces_an_existing_file(tmp_path):
    path = tmp_path / "grid.png"  # every function saves through the same code
    path.write_bytes(OLD_BYTES)
    GOOD_CALLS["image_grid"](path)
    assert_png(path)
    assert os.listdir(tmp_path) == [path.name]


def assert_refused_keeping_the_old_file(call, argument, tmp_path):
    """``call(path)`` raises a ValueError naming ``argument``, and the figure already at path is untouched."""
    path = tmp_path / "figure.png"
    path.write_bytes(OLD_BYTES)
    with pytest.raises(ValueError, match=argument):
        call(path)
    assert path.read_bytes() == OLD_BYTES
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("call, argument", BAD_CALLS)
def test_bad_input_names_the_argument_and_keeps_the_old_file(call, argument, tmp_path):
    assert_refused_keeping_the_old_file(call, argument, tmp_path)


def test_a_failure_while_writing_keeps_the_old_file_and_removes_the_temporary(
        tmp_path, monkeypatch):
    class FailingCanvas(common.FigureCanvasAgg):
        def print_png(self, file, *args, **kwargs):
            file.write(PNG_SIGNATURE)  # a half-written file, as a full disk would leave
            raise OSError("disk full")

    monkeypatch.setattr(common, "FigureCanvasAgg", FailingCanvas)
    path = tmp_path / "figure.png"
    path.write_bytes(OLD_BYTES)
    with pytest.raises(OSError, match="disk full"):
        plots.plot_image_grid(IMAGES, path)
    assert path.read_bytes() == OLD_BYTES
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")
def test_the_png_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)  # there is no way to read the umask without setting it
    os.umask(umask)
    path = plots.plot_image_grid(IMAGES, tmp_path / "grid.png")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_loss_curves_tolerate_nan_test_values(tmp_path):
    all_nan = {**history(), **{f"test_{part}": [np.nan] * 6
                               for part in ("loss", "reconstruction", "kl")}}
    assert_png(plots.plot_loss_curves(all_nan, tmp_path / "no_test.png"))
    as_lists = {key: list(values) for key, values in history().items()}  # NaN inside lists too
    assert_png(plots.plot_loss_curves(as_lists, tmp_path / "lists.png"))


def test_values_outside_the_unit_interval_are_shown_clipped(tmp_path):
    # A Gaussian decoder's mean is unbounded; its images must still plot.
    rng = np.random.default_rng(2)
    means = rng.normal(0.5, 1.0, size=(12, 784))
    assert_png(plots.plot_reconstructions(IMAGES, means, tmp_path / "rec.png", n=20))
    assert_png(plots.plot_manifold(lambda z: np.full((len(z), 784), 2.0), tmp_path / "m.png", n=3))


def test_images_of_another_size(tmp_path):
    rng = np.random.default_rng(1)
    small = images(rng, n=9, image_shape=(8, 8))
    assert_png(plots.plot_image_grid(small, tmp_path / "grid.png", image_shape=(8, 8)))
    assert_png(plots.plot_reconstructions(small, small, tmp_path / "rec.png", n=9,
                                          image_shape=(8, 8)))
    decode = lambda z: np.full((len(z), 64), 0.5)  # noqa: E731
    assert_png(plots.plot_manifold(decode, tmp_path / "manifold.png", n=3, image_shape=(8, 8)))


@pytest.mark.parametrize("n", [2, 5])
def test_manifold_decodes_the_quantile_grid_once(n, tmp_path):
    calls = []

    def decode(z):
        calls.append(np.array(z, copy=True))
        return np.full((len(z), 784), 0.5)

    plots.plot_manifold(decode, tmp_path / "manifold.png", n=n)
    assert len(calls) == 1
    z = calls[0]
    assert z.shape == (n * n, 2)
    # The documented order: tile (row, col) is decoded at index row * n + col; z_1 grows
    # to the right, z_2 grows upwards (so it falls as the row index grows).
    q = [statistics.NormalDist().inv_cdf(0.05 + 0.9 * i / (n - 1)) for i in range(n)]
    expected = [(q[col], q[n - 1 - row]) for row in range(n) for col in range(n)]
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(z, plots.manifold_grid(n), rtol=0, atol=0)


def test_manifold_puts_large_z1_right_and_large_z2_on_top(tmp_path):
    def decode(z):
        # White everywhere except a mid-grey tile at the largest z_1 and z_2.
        out = np.ones((len(z), 784))
        out[np.all(z == z.max(axis=0), axis=1)] = 0.5
        return out

    pixels = plots.plot_manifold(decode, tmp_path / "manifold.png", n=4)
    pixels = matplotlib.image.imread(pixels)[..., :3]
    grey = np.all(np.abs(pixels - 0.5) < 0.02, axis=2)
    rows, cols = np.nonzero(grey)
    assert grey.sum() > 1000, "the grey tile should cover many pixels"
    height, width = grey.shape
    assert np.median(cols) > 0.6 * width and np.median(rows) < 0.4 * height


def test_importing_and_plotting_never_loads_pyplot(tmp_path):
    script = (
        "import sys\n"
        "import numpy as np\n"
        "import numvae.plots as plots\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'import loaded pyplot'\n"
        f"plots.plot_image_grid(np.zeros((4, 784)), {str(tmp_path / 'grid.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plotting loaded pyplot'\n"
    )
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _saved_figure(monkeypatch):
    """Make plots keep the Figure it saves; returns the list it is appended to."""
    figures = []
    save = common.save
    monkeypatch.setattr(common, "save", lambda fig, path: figures.append(fig) or save(fig, path))
    return figures


@pytest.mark.parametrize("n_epochs", [1, 2])
def test_loss_curves_show_the_train_values_of_a_single_epoch(n_epochs, tmp_path, monkeypatch):
    # A line through one point draws nothing: after one epoch the train loss must still show.
    figures = _saved_figure(monkeypatch)
    plots.plot_loss_curves(history(n_epochs), tmp_path / "loss.png")
    (fig,) = figures
    for ax in fig.axes:
        (train,) = [line for line in ax.get_lines() if line.get_label() == "train"]
        visible = len(train.get_xdata()) >= 2 or train.get_marker() not in (None, "", " ", "None", "none")
        assert visible, f"{ax.get_title()}: the train value of epoch 1 is drawn as a line of one point"


@pytest.mark.parametrize("n_epochs", [1, 2, 6])
def test_loss_curves_tick_only_whole_epochs(n_epochs, tmp_path, monkeypatch):
    # After one epoch matplotlib used to tick 0.96, 0.98, ..., 1.04: fractions of an epoch that never ran.
    figures = _saved_figure(monkeypatch)
    plots.plot_loss_curves(history(n_epochs), tmp_path / "loss.png")
    (fig,) = figures
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        shown = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert shown and all(float(t).is_integer() for t in shown), f"{ax.get_title()}: epoch ticks {shown}"


@pytest.mark.parametrize("latent_dim", [1, 3])
def test_manifold_of_a_model_whose_latent_space_is_not_2d_says_so(latent_dim, tmp_path):
    from numvae import VAE

    model = VAE(784, hidden_dims=(4,), latent_dim=latent_dim)
    path = tmp_path / "manifold.png"
    with pytest.raises(ValueError, match=r"^decode: .*latent_dim = 2") as excinfo:
        plots.plot_manifold(model.decode, path, n=3)
    assert "(9, 2)" in str(excinfo.value), "the message should show the grid's shape"
    assert not path.exists()
