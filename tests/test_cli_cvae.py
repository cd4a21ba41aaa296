"""The conditional VAE on the command line: ``train --model cvae``, ``sample --class``, ``evaluate``; its errors."""

import json

import numpy as np
import pytest
from cli_helpers import tiny_mnist, train_argv

from numvae import VAE
from numvae.cli import main
from numvae.cvae import CVAE
from numvae.training.checkpoint import load_checkpoint, read_meta, save_checkpoint

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tiny_mnist(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cvae")
    assert main(train_argv(data_dir, out, "--model", "cvae")) == 0
    return out


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def test_train_model_cvae_writes_a_cvae_checkpoint_the_class_grid_and_the_interpolation(trained, capsys):
    names = {p.name for p in trained.iterdir()}
    expected = {"model.npz", "history.csv", "loss_curves.png", "reconstructions.png", "class_grid.png",
                "class_interpolation.png", "latent_scatter.png"}
    assert expected <= names and "prior_samples.png" not in names and "manifold.png" not in names, names
    for name in expected - {"model.npz", "history.csv"}:
        assert (trained / name).read_bytes()[:8] == PNG, name
    ckpt = load_checkpoint(trained / "model.npz")
    assert type(ckpt.model) is CVAE and ckpt.model.n_classes == 10
    assert read_meta(trained / "model.npz")["model_kind"] == "cvae"
    assert ckpt.model.parameters()["encoder.0.W"].shape == (784 + 10, 16)


def test_train_prints_the_model_in_its_settings_line(data_dir, tmp_path, capsys):
    assert main(train_argv(data_dir, tmp_path / "run", "--model", "cvae", epochs=1)) == 0
    out = capsys.readouterr().out
    assert out.startswith("settings: --model cvae --dataset mnist --epochs 1 "), out
    assert "estimates log p(x|y)" in out


def test_a_vae_run_is_unchanged_and_its_checkpoint_says_vae(data_dir, tmp_path, capsys):
    assert main(train_argv(data_dir, tmp_path / "run", epochs=1)) == 0
    assert capsys.readouterr().out.startswith("settings: --dataset mnist ")
    assert read_meta(tmp_path / "run" / "model.npz")["model_kind"] == "vae"
    assert type(load_checkpoint(tmp_path / "run" / "model.npz").model) is VAE


def test_resume_continues_a_cvae_exactly_as_an_uninterrupted_run(data_dir, tmp_path):
    assert main(train_argv(data_dir, tmp_path / "a", "--model", "cvae", epochs=2)) == 0
    assert main(train_argv(data_dir, tmp_path / "b", "--model", "cvae", epochs=1)) == 0
    assert main(["train", "--data-dir", str(data_dir), "--out", str(tmp_path / "b"), "--resume", "--epochs", "2",
                 "--no-progress"]) == 0
    a, b = (load_checkpoint(tmp_path / run / "model.npz") for run in "ab")
    assert type(b.model) is CVAE
    assert a.history == b.history
    for name, p in a.model.parameters().items():
        np.testing.assert_array_equal(p, b.model.parameters()[name], err_msg=name)


def test_resume_refuses_model_as_any_setting_a_checkpoint_fixes(trained, data_dir, capsys):
    assert main(["train", "--data-dir", str(data_dir), "--out", str(trained), "--resume", "--epochs", "3",
                 "--model", "vae", "--no-progress"]) == 1
    _one_line_error(capsys, "--model: cannot change a setting when resuming")


def test_train_refuses_an_unknown_model_with_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["train", "--model", "m2"])
    assert exc_info.value.code == 2
    _one_line_error(capsys, "--model: invalid choice: 'm2'")


def test_sample_class_draws_that_class(trained, capsys):
    assert main(["sample", str(trained / "model.npz"), "--class", "7", "--n", "9"]) == 0
    written = trained / "samples_class7_seed0.png"
    assert capsys.readouterr().out.strip() == str(written)
    assert written.read_bytes()[:8] == PNG


def test_sample_class_is_what_the_model_decodes_for_that_class(trained, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr("numvae.plots.plot_image_grid", lambda images, out, **kw: drawn.update(images=images) or out)
    assert main(["sample", str(trained / "model.npz"), "--class", "3", "--n", "4", "--seed", "5",
                 "--out", str(tmp_path / "s.png")]) == 0
    model = load_checkpoint(trained / "model.npz").model
    z = np.random.default_rng(5).standard_normal((4, model.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(drawn["images"], model.decode(z, np.full(4, 3)))


def test_sample_without_class_draws_every_class_in_turn(trained, tmp_path, capsys):
    assert main(["sample", str(trained / "model.npz"), "--n", "20", "--out", str(tmp_path / "all.png")]) == 0
    assert (tmp_path / "all.png").read_bytes()[:8] == PNG


def test_sample_class_out_of_range_is_refused_in_one_line(trained, capsys):
    assert main(["sample", str(trained / "model.npz"), "--class", "10"]) == 1
    _one_line_error(capsys, "numvae sample: error: --class: expected a class in 0..9, got 10")
    assert not (trained / "samples_class10_seed0.png").exists()


def test_sample_class_of_a_plain_vae_is_refused_in_one_line(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "vae.npz", VAE(784, [8], 2, dtype=np.float32), extra={"dataset": "mnist"})
    assert main(["sample", str(path), "--class", "7"]) == 1
    _one_line_error(capsys, "numvae sample: error: --class:", "holds a VAE", "numvae train --model cvae")
    assert not (tmp_path / "samples_class7_seed0.png").exists()


def test_sample_negative_class_is_a_usage_error(trained, capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["sample", str(trained / "model.npz"), "--class", "-1"])
    assert exc_info.value.code == 2
    _one_line_error(capsys, "--class: expected a non-negative integer, got '-1'")


def test_evaluate_a_cvae_gives_bounds_on_log_p_x_given_y_repeating_trains_test_loss(trained, data_dir, capsys):
    assert main(["evaluate", str(trained / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "5",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_kind"] == "cvae" and result["bound_on"] == "log p(x|y)"
    last_test_loss = load_checkpoint(trained / "model.npz").history["test_loss"][-1]
    assert result["elbo"] == pytest.approx(-last_test_loss, rel=1e-6)
    assert result["iw_log_likelihood"] > result["elbo"] - 3 * result["iw_standard_error"]
    assert main(["evaluate", str(trained / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2"]) == 0
    assert "log p(x|y), IW K=2" in capsys.readouterr().out
