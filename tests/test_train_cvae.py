"""The machinery around the conditional VAE: the Trainer with labels, checkpoints of either kind, evaluation given y."""

import numpy as np
import pytest

from numvae import VAE
from numvae.cvae import CVAE
from numvae.data import load_dataset
from numvae.evaluate import elbo_terms, importance_weighted_log_likelihood, log_importance_weights, log_mean_exp
from numvae.training.checkpoint import CheckpointError, load_checkpoint
from numvae.training.trainer import TrainConfig, Trainer

from checkpoint_helpers import damaged, refused


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 6)), rng.integers(0, 3, size=n)


def _cvae(**kwargs):
    return CVAE(6, 3, (5,), 2, dtype=np.float64, seed=1, **kwargs)


def test_training_a_cvae_lowers_the_test_loss_on_mnist5k():
    data = load_dataset("mnist5k")
    x, y, x_test, y_test = data.x_train[:1000], data.y_train[:1000], data.x_test[:300], data.y_test[:300]
    model = CVAE(784, 10, (64,), 2, dtype=np.float32, seed=0)
    trainer = Trainer(model, x, x_test, TrainConfig(epochs=3, batch_size=50), y_train=y, y_test=y_test)
    history = trainer.fit()
    assert history["test_loss"][-1] < history["test_loss"][0] - 10, history["test_loss"]


def test_each_batch_is_trained_with_its_own_labels():
    x, y = _data()
    seen = []
    model = _cvae()
    loss = model.loss
    model.loss = lambda xb, yb: seen.append((xb.copy(), yb.copy())) or loss(xb, yb)
    Trainer(model, x, config=TrainConfig(batch_size=16, binarize="none"), y_train=y).train_epoch()
    assert sum(len(yb) for _, yb in seen) == len(x)
    for xb, yb in seen:
        for row, label in zip(xb, yb):
            match = np.flatnonzero(np.all(x == row, axis=1))
            assert len(match) == 1 and y[match[0]] == label


def test_a_vae_trains_exactly_as_before_labels_existed():
    # The trainer draws the same numbers in the same order whatever the model: a VAE's run is unchanged.
    x, _ = _data()
    runs = []
    for _ in range(2):
        trainer = Trainer(VAE(6, (5,), 2, seed=1), x, x[:8], TrainConfig(epochs=2, batch_size=16))
        runs.append(trainer.fit())
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kwargs, message", [
    ({}, "y_train: a CVAE trains on labelled images: pass the labels of x_train"),
    ({"y_train": np.zeros(39, dtype=int)}, r"y_train: expected class labels of shape \(40,\)"),
    ({"y_train": np.full(40, 3)}, r"y_train: expected class labels in 0\.\.2, got 3 at index 0"),
    ({"y_train": np.zeros(40)}, "y_train: expected integer class labels, got dtype float64"),
])
def test_a_cvae_trainer_checks_its_training_labels(kwargs, message):
    x, _ = _data()
    with pytest.raises(ValueError, match=message):
        Trainer(_cvae(), x, **kwargs)


def test_a_cvae_trainer_needs_the_test_labels_too():
    x, y = _data()
    with pytest.raises(ValueError, match="y_test: a CVAE trains on labelled images: pass the labels of x_test"):
        Trainer(_cvae(), x, x[:5], y_train=y)


def test_a_vae_trainer_refuses_labels():
    x, y = _data()
    with pytest.raises(ValueError, match="y_train: a VAE trains on images alone"):
        Trainer(VAE(6, (5,), 2), x, y_train=y)


def test_a_cvae_checkpoint_resumes_exactly_as_an_uninterrupted_run(tmp_path):
    x, y = _data()
    config = TrainConfig(epochs=3, batch_size=16)
    whole = Trainer(_cvae(), x, x[:8], config, y_train=y, y_test=y[:8])
    whole.fit()
    part = Trainer(_cvae(), x, x[:8], config, y_train=y, y_test=y[:8])
    part.fit(epochs=1, checkpoint_path=tmp_path / "m.npz")
    resumed, ckpt = Trainer.resume(tmp_path / "m.npz", x, x[:8], y_train=y, y_test=y[:8])
    assert type(ckpt.model) is CVAE and ckpt.model.config() == whole.model.config()
    resumed.fit()
    assert resumed.history == whole.history
    for name, p in whole.model.parameters().items():
        np.testing.assert_array_equal(resumed.model.parameters()[name], p, err_msg=name)


def test_resuming_a_cvae_without_its_labels_names_them_not_the_file(tmp_path):
    x, y = _data()
    Trainer(_cvae(), x, config=TrainConfig(epochs=1, batch_size=16), y_train=y).fit(checkpoint_path=tmp_path / "m.npz")
    with pytest.raises(ValueError, match="y_train: a CVAE trains on labelled images") as exc_info:
        Trainer.resume(tmp_path / "m.npz", x)
    assert not isinstance(exc_info.value, CheckpointError)


# --------------------------------------------------------------------------
# Checkpoints: the kind of model, validated before use
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    x, y = _data()
    path = tmp_path_factory.mktemp("cvae") / "model.npz"
    Trainer(_cvae(), x, x[:5], TrainConfig(epochs=1, batch_size=20), y_train=y, y_test=y[:5]).fit(
        checkpoint_path=path)
    return path


def test_a_cvae_checkpoint_loads_as_a_cvae_with_its_weights(saved):
    ckpt = load_checkpoint(saved)
    assert type(ckpt.model) is CVAE and ckpt.model.n_classes == 3
    with np.load(saved) as data:
        np.testing.assert_array_equal(ckpt.model.parameters()["decoder.0.W"], data["param/decoder.0.W"])


def test_a_checkpoint_without_a_model_kind_holds_a_vae(tmp_path):
    x, _ = _data()
    path = tmp_path / "old.npz"
    Trainer(VAE(6, (5,), 2), x, config=TrainConfig(epochs=1, batch_size=20)).fit(checkpoint_path=path)
    old = damaged(path, tmp_path, lambda meta: meta.pop("model_kind"))  # as written before the CVAE
    assert type(load_checkpoint(old).model) is VAE


@pytest.mark.parametrize("change, needles", [
    (lambda meta: meta.update(model_kind="m2"), ("model_kind: expected one of vae, cvae, got 'm2'",)),
    (lambda meta: meta.update(model_kind=None), ("model_kind: expected one of vae, cvae, got None",)),
    (lambda meta: meta["model"].pop("n_classes"), ("model.n_classes: missing",)),
    (lambda meta: meta["model"].update(n_classes=0), ("model.n_classes: expected an integer >= 1, got 0",)),
    (lambda meta: meta["model"].update(n_classes="3"), ("model.n_classes: expected an integer >= 1",)),
    (lambda meta: meta.pop("model_kind"), ("model: expected only the fields", "'n_classes'")),
    (lambda meta: meta["model"].update(n_classes=4), ("param/encoder.0.W: expected shape (10, 5), got shape (9, 5)",)),
    (lambda meta: meta["model"].update(n_classes=10**9),
     ("model: declares", "more than the file")),
], ids=["unknown-kind", "null-kind", "no-n_classes", "zero-classes", "string-classes", "cvae-read-as-vae",
        "n_classes-against-weights", "huge-n_classes"])
def test_a_damaged_cvae_checkpoint_is_refused_naming_the_field(saved, tmp_path, change, needles):
    refused(damaged(saved, tmp_path, change), *needles)


def test_a_vae_checkpoint_claiming_to_be_a_cvae_is_refused(tmp_path):
    x, _ = _data()
    path = tmp_path / "vae.npz"
    Trainer(VAE(6, (5,), 2), x, config=TrainConfig(epochs=1, batch_size=20)).fit(checkpoint_path=path)
    refused(damaged(path, tmp_path, lambda meta: meta.update(model_kind="cvae")), "model.n_classes: missing")


def test_a_cvae_checkpoint_is_written_atomically(saved, tmp_path, monkeypatch):
    from numvae.training import checkpoint

    x, y = _data()
    path = tmp_path / "m.npz"
    trainer = Trainer(_cvae(), x, config=TrainConfig(epochs=1, batch_size=20), y_train=y)
    trainer.save(path)
    before = path.read_bytes()

    def fail(f, **arrays):
        f.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", fail)
    with pytest.raises(OSError):
        trainer.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# --------------------------------------------------------------------------
# Evaluation given the labels
# --------------------------------------------------------------------------


def test_the_elbo_given_y_is_the_mean_of_the_per_example_terms():
    x, y = _data(n=7)
    model = _cvae()
    terms = elbo_terms(model, x, np.random.default_rng(3), batch_size=3, labels=y)
    rng = np.random.default_rng(3)  # elbo_terms draws each batch's eps from it in turn
    eps = np.concatenate([rng.standard_normal((k, 2)) for k in (3, 3, 1)])
    reconstruction, kl = model.per_example_terms(x, y, eps)
    assert terms["loss"] == pytest.approx(np.mean(reconstruction + kl), rel=1e-12)


def test_the_importance_weights_given_y_are_log_p_x_z_y_plus_log_p_z_minus_log_q():
    from numvae.gaussian import log_normal, log_standard_normal

    x, y = _data(n=3)
    model = _cvae()
    log_w = log_importance_weights(model, x, 4, np.random.default_rng(0), labels=y)  # (4, 3)
    eps = np.random.default_rng(0).standard_normal((4, 3, 2))
    mu, log_var = model.encode(x, y)
    for k in range(4):
        z = mu + np.exp(0.5 * log_var) * eps[k]
        expected = model.log_px_given_z(x, y, z) + log_standard_normal(z) - log_normal(z, mu, log_var)
        np.testing.assert_allclose(log_w[k], expected, rtol=1e-12)
    # In chunks of max_rows = 2 decoded rows: one example at a time, its 4 samples two by two, each with its label.
    chunked = importance_weighted_log_likelihood(model, x, 4, np.random.default_rng(0), max_rows=2, labels=y)
    rng = np.random.default_rng(0)
    expected = [log_mean_exp(np.concatenate([log_importance_weights(model, x[i:i + 1], 2, rng, labels=y[i:i + 1])
                                             for _ in range(2)]))[0] for i in range(3)]
    np.testing.assert_allclose(chunked, expected, rtol=1e-12)


def test_evaluation_asks_for_labels_exactly_when_the_model_takes_them():
    x, y = _data(n=5)
    with pytest.raises(ValueError, match="labels: a CVAE's bound is on log p\\(x\\|y\\): pass the labels y of x"):
        elbo_terms(_cvae(), x, np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels: a VAE models x alone"):
        elbo_terms(VAE(6, (5,), 2), x, np.random.default_rng(0), labels=y)
    with pytest.raises(ValueError, match=r"labels: expected class labels of shape \(5,\)"):
        importance_weighted_log_likelihood(_cvae(), x, 2, np.random.default_rng(0), labels=y[:4])
