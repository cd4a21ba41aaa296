"""Figures name the classes of Fashion-MNIST (T-shirt/top … Ankle boot), not 0-9."""

import numpy as np
import pytest

from numvae import VAE, plots
from numvae.cli.figures import write_figures
from numvae.data.datasets import CLASS_NAMES, Dataset
from numvae.plots import common

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@pytest.fixture
def figures(monkeypatch):
    """Keep each figure's texts (legend entries, x tick labels) by file name before it is closed."""
    seen = {}
    real_save = common.save

    def keep(fig, path):
        ax = fig.axes[0]
        legend = ax.get_legend()
        seen[path.name] = {
            "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
            "xticks": [t.get_text() for t in ax.get_xticklabels()],
        }
        return real_save(fig, path)

    monkeypatch.setattr(common, "save", keep)
    return seen


def test_the_class_names_of_fashion_mnist():
    assert CLASS_NAMES["fashion-mnist"] == FASHION
    assert CLASS_NAMES["mnist"] == CLASS_NAMES["mnist5k"] == tuple("0123456789")


def test_training_figures_of_fashion_mnist_name_the_classes(tmp_path, figures):
    rng = np.random.default_rng(0)
    labels = np.arange(30) % 10
    x = rng.uniform(size=(30, 784)).astype(np.float32)
    dataset = Dataset("fashion-mnist", x, labels, x, labels)
    model = VAE(784, [4], 2, dtype=np.float32, seed=0)
    history = {"epoch": [1], "train_loss": [1.0], "test_loss": [1.0], "beta": [1.0],
               "train_reconstruction": [1.0], "train_kl": [0.0], "test_reconstruction": [1.0], "test_kl": [0.0]}
    write_figures(model, history, dataset, tmp_path)
    assert figures["latent_scatter.png"]["legend"] == list(FASHION)
    assert figures["reconstructions.png"]["xticks"] == list(FASHION)


def test_without_names_the_legend_shows_the_labels(tmp_path, figures):
    mu = np.random.default_rng(0).normal(size=(20, 2))
    plots.plot_latent_scatter(mu, np.arange(20) % 3, tmp_path / "s.png")
    assert figures["s.png"]["legend"] == ["0", "1", "2"]


def test_too_few_class_names_are_refused(tmp_path):
    mu = np.zeros((4, 2))
    with pytest.raises(ValueError, match="class_names: expected a name for every label 0..3"):
        plots.plot_latent_scatter(mu, np.arange(4), tmp_path / "s.png", class_names=("a", "b"))
    with pytest.raises(ValueError, match="captions: expected 4 names"):
        plots.plot_reconstructions(np.zeros((4, 784)), np.zeros((4, 784)), tmp_path / "r.png", captions=["a"])
