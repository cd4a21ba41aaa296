"""``numvae semi``: a tiny run of each model prints a test accuracy; every bad input is one line."""

import pytest
from cli_helpers import assert_one_line_error, tiny_mnist

from numvae.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tiny_mnist(tmp_path_factory.mktemp("data"))


def _argv(data_dir, *extra):
    return ["semi", "--dataset", "mnist", "--data-dir", str(data_dir), "--labels-per-class", "1", "--epochs", "2",
            "--hidden", "8", "--every", "1", *extra]


@pytest.mark.parametrize("model, extra", [("m2", ()), ("m1m2", ("--m1-epochs", "1"))])
def test_a_tiny_run_reports_the_test_accuracy(data_dir, capsys, model, extra):
    assert main(_argv(data_dir, "--model", model, *extra)) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2:" in out and "epoch 2/2:" in out, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy ") and f"({model}, 1 labels per class, seed 0, 20 test images" in last, out
    assert 0 <= float(last.split()[2]) <= 1


def test_the_same_seed_gives_the_same_accuracy(data_dir, capsys):
    results = []
    for _ in range(2):
        assert main(_argv(data_dir, "--model", "m2", "--seed", "3")) == 0
        results.append(capsys.readouterr().out.strip().splitlines()[-1].split("[")[0].rsplit(",", 1)[0])
    assert results[0] == results[1]


def test_more_labels_per_class_than_a_class_holds_is_one_line(data_dir, capsys):
    assert main(_argv(data_dir, "--labels-per-class", "1000")) == 1
    assert_one_line_error(capsys.readouterr().err, "numvae semi: error: --labels-per-class: expected at most",
                          "got 1000")


def test_m1_epochs_with_m2_is_refused(data_dir, capsys):
    assert main(_argv(data_dir, "--model", "m2", "--m1-epochs", "5")) == 1
    assert_one_line_error(capsys.readouterr().err, "--m1-epochs: only used with --model m1m2")


@pytest.mark.parametrize("flags, needle", [
    (["--labels-per-class", "0"], "--labels-per-class: expected a positive integer"),
    (["--model", "m3"], "--model: invalid choice: 'm3'"),
    (["--alpha", "-1"], "--alpha: expected a non-negative number"),
    (["--epochs", "x"], "--epochs: expected a positive integer"),
])
def test_malformed_flags_exit_2_with_one_line(capsys, flags, needle):
    with pytest.raises(SystemExit) as exc_info:
        main(["semi", *flags])
    assert exc_info.value.code == 2
    assert_one_line_error(capsys.readouterr().err, needle)
