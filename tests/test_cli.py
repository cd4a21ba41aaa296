"""Tests of the numvae command line: the three commands end to end, and its errors."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import write_idx

from numvae.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A tiny 'mnist' in IDX files: 60 train and 20 test images of blurry bars."""
    root = tmp_path_factory.mktemp("data")
    (root / "mnist").mkdir()
    rng = np.random.default_rng(0)

    def images(n):
        labels = rng.integers(0, 10, n)
        img = np.zeros((n, 28, 28))
        for i, label in enumerate(labels):
            img[i, :, 2 + 2 * label : 5 + 2 * label] = rng.uniform(0.5, 1.0)
        return (img * 255).astype(np.uint8), labels.astype(np.uint8)

    for prefix, n in [("train", 60), ("t10k", 20)]:
        x, y = images(n)
        write_idx(root / "mnist" / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx(root / "mnist" / f"{prefix}-labels-idx1-ubyte", y)
    return root


def _train(data_dir, out, *extra):
    argv = ["train", "--dataset", "mnist", "--data-dir", str(data_dir), "--out", str(out),
            "--epochs", "2", "--hidden", "16", "--batch-size", "20", "--no-progress", *extra]
    return main(argv)


def _resume(data_dir, out, *extra):
    return main(["train", "--data-dir", str(data_dir), "--out", str(out), "--resume", "--no-progress", *extra])


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert _train(data_dir, out) == 0
    return out


def test_train_writes_model_history_and_figures(trained):
    expected = {"model.npz", "history.csv", "loss_curves.png", "reconstructions.png",
                "prior_samples.png", "latent_scatter.png", "manifold.png"}
    assert expected <= {p.name for p in trained.iterdir()}
    for name in expected - {"model.npz", "history.csv"}:
        assert (trained / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    with open(trained / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(np.isfinite(float(r["test_loss"])) for r in rows)


def test_train_prints_a_line_per_epoch(data_dir, tmp_path, capsys):
    assert _train(data_dir, tmp_path / "run") == 0
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "test loss" in out


def test_resume_continues_to_the_new_epoch_count(data_dir, tmp_path):
    out = tmp_path / "run"
    assert _train(data_dir, out) == 0
    assert _resume(data_dir, out, "--epochs", "3") == 0
    with open(out / "history.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2, 3]


def test_resume_refuses_to_change_settings_or_dataset(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(data_dir, out) == 0
    before = (out / "model.npz").read_bytes()
    capsys.readouterr()
    assert _resume(data_dir, out, "--epochs", "3", "--lr", "0.5") == 1
    _one_line_error(capsys, "--lr: cannot change a setting when resuming")
    assert _resume(data_dir, out, "--epochs", "3", "--dataset", "fashion-mnist") == 1
    _one_line_error(capsys, "--dataset", "trained on mnist, got fashion-mnist")
    assert _resume(data_dir, out, "--epochs", "2") == 1
    _one_line_error(capsys, "--epochs", "already has 2 epochs")
    assert (out / "model.npz").read_bytes() == before


def test_evaluate_json(trained, data_dir, capsys):
    assert main(["evaluate", str(trained / "model.npz"), "--data-dir", str(data_dir),
                 "--iw-samples", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "mnist" and result["n_test"] == 20 and result["iw_samples"] == 5
    assert result["elbo"] == pytest.approx(-(result["reconstruction"] + result["kl"]))
    # IW with K = 5 is a tighter bound than the ELBO on average; the two use
    # different noise, so allow 3 standard errors of the mean for the draw.
    assert result["iw_log_likelihood"] > result["elbo"] - 3 * result["iw_standard_error"]


def test_evaluate_text(trained, data_dir, capsys):
    assert main(["evaluate", str(trained / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "3"]) == 0
    out = capsys.readouterr().out
    assert "ELBO" in out and "IW K=3" in out


def test_sample_writes_png(trained, tmp_path, capsys):
    target = tmp_path / "grid.png"
    assert main(["sample", str(trained / "model.npz"), "--n", "9", "--out", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(target) in capsys.readouterr().out


@pytest.mark.parametrize("n, title", [(1, "1 sample from the prior (seed 3)"), (2, "2 samples from the prior (seed 3)")])
def test_sample_title_counts_in_english(n, title, trained, tmp_path, monkeypatch):
    from numvae import plots

    titles = []
    grid = plots.plot_image_grid
    monkeypatch.setattr(plots, "plot_image_grid", lambda *a, **k: titles.append(k.get("title")) or grid(*a, **k))
    assert main(["sample", str(trained / "model.npz"), "--n", str(n), "--seed", "3", "--out", str(tmp_path / "g.png")]) == 0
    assert titles == [title]


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["train", "--epochs", "0"], ["--epochs", "expected a positive integer", "'0'"]),
        (["train", "--lr", "-1"], ["--lr", "expected a positive number", "'-1'"]),
        (["train", "--likelihood", "poisson"], ["--likelihood", "'poisson'"]),
        (["train", "--dataset", "cifar"], ["--dataset", "'cifar'"]),
        (["sample", ""], ["checkpoint", "expected a path"]),
        (["exercises", "train", "workbook", "--seed", "-1"], ["--seed", "expected a non-negative integer", "'-1'"]),
        # were accepted: --timeout inf then failed every exercise with "OverflowError: timestamp out of range"
        (["exercises", "check", "workbook", "--timeout", "inf"], ["numvae exercises check: error: argument --timeout: "
                                                                 "expected a positive number, got 'inf'"]),
        (["exercises", "train", "workbook", "--lr", "inf"], ["--lr", "expected a positive number", "'inf'"]),
        # an empty DIR (numvae exercises start "$WB", WB unset) wrote the workbook into the working directory
        (["exercises", "start", ""], ["numvae exercises start: error: argument DIR: expected a path, got ''"]),
        (["exercises", "check", ""], ["numvae exercises check: error: argument DIR: expected a path, got ''"]),
        (["exercises", "train", ""], ["numvae exercises train: error: argument DIR: expected a path, got ''"]),
        (["exercises", "train", "workbook", "--out", ""], ["argument --out: expected a path, got ''"]),
        ([], ["the following arguments are required"]),
    ],
)
def test_usage_errors_are_one_line_with_status_2(argv, needles, capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    _one_line_error(capsys, *needles)


def test_missing_checkpoint(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nope.npz")]) == 1
    _one_line_error(capsys, "nope.npz", "no such checkpoint")


def test_damaged_checkpoint(tmp_path, capsys):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["evaluate", str(bad)]) == 1
    _one_line_error(capsys, str(bad))


def test_sample_out_must_be_png(trained, capsys):
    assert main(["sample", str(trained / "model.npz"), "--out", "grid.jpg"]) == 1
    _one_line_error(capsys, "--out", ".png", "grid.jpg")


def test_train_refuses_to_overwrite_a_run(trained, data_dir, capsys):
    before = (trained / "model.npz").read_bytes()
    assert _train(data_dir, trained) == 1
    _one_line_error(capsys, "--resume", "model.npz")
    assert (trained / "model.npz").read_bytes() == before


def test_resume_without_checkpoint(data_dir, tmp_path, capsys):
    assert _resume(data_dir, tmp_path / "empty") == 1
    _one_line_error(capsys, "no such checkpoint")


def test_missing_dataset_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys, "--download", "were not found")


def test_out_must_be_a_directory(tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    assert main(["train", "--out", str(tmp_path / "afile")]) == 1
    _one_line_error(capsys, "--out: expected a directory", "afile")
    assert (tmp_path / "afile").read_text() == "mine"


def test_diverging_run_is_one_line_and_saves_only_finite_checkpoints(data_dir, tmp_path, capsys):
    # A learning rate of 1e6 blows the weights up within a few steps.
    assert main(["train", "--dataset", "mnist", "--data-dir", str(data_dir), "--out", str(tmp_path / "wild"),
                 "--epochs", "3", "--lr", "1e6", "--hidden", "16", "--no-progress"]) == 1
    _one_line_error(capsys, "became", "smaller learning rate")
    wild = tmp_path / "wild" / "model.npz"
    if wild.exists():  # whatever was saved before the divergence must be finite
        from numvae.training.checkpoint import load_checkpoint

        ckpt = load_checkpoint(wild)
        assert all(np.all(np.isfinite(p)) for p in ckpt.model.parameters().values())
        assert all(np.isfinite(ckpt.history["test_loss"]))


def test_inconsistent_files_are_reported(tmp_path, capsys):
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys, "numvae train: error:", "train-images-idx3-ubyte", "4 images", "5 labels")


def test_python_dash_m_runs_without_traceback(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    ok = subprocess.run([sys.executable, "-m", "numvae", "--help"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "train" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "numvae", "evaluate", str(tmp_path / "x.npz")],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr, bad.stderr


def test_gaussian_with_learned_sigma_round_trips_through_evaluate(data_dir, tmp_path, capsys):
    from numvae.training.checkpoint import load_checkpoint

    out = tmp_path / "gauss"
    assert _train(data_dir, out, "--likelihood", "gaussian", "--sigma", "0.3", "--learn-sigma") == 0
    model = load_checkpoint(out / "model.npz").model
    assert model.likelihood_name == "gaussian" and model.learn_sigma
    assert list(model.parameters())[-1] == "decoder.log_var"
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2", "--json"]) == 0
    assert np.isfinite(json.loads(capsys.readouterr().out)["iw_log_likelihood"])


def test_the_cli_package_docstring_names_every_subcommand():
    import numvae.cli
    from numvae.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    summary = numvae.cli.__doc__.split("\n\n")[0]
    assert [name for name in commands if f"``{name}``" not in summary] == [], summary


def test_data_dir_help_names_every_place_searched_by_default():
    from numvae.cli import build_parser
    from numvae.data.datasets import SYSTEM_DIRS

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in ("train", "evaluate"):
        text = next(a.help for a in commands[name]._actions if a.dest == "data_dir")
        for dataset, dirs in SYSTEM_DIRS.items():
            assert all(str(d) in text for d in dirs), (name, dataset, text)


def test_train_defaults_are_the_models_and_the_configs():
    """One set of defaults: ``numvae train`` reads them from VAE's signature and TrainConfig's fields."""
    import inspect
    from dataclasses import fields

    from numvae import VAE
    from numvae.cli.train import MODEL_FLAGS, TRAIN_DEFAULTS
    from numvae.training.config import TrainConfig

    model = inspect.signature(VAE).parameters
    for name, argument in MODEL_FLAGS.items():
        assert TRAIN_DEFAULTS[name] == model[argument].default, name
    for field in fields(TrainConfig):
        if field.name != "epochs":  # not fixed by a checkpoint: the parser's default
            assert TRAIN_DEFAULTS[field.name] == field.default, field.name
    from numvae.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert commands["train"].get_default("epochs") == TrainConfig.epochs
