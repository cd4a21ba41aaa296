"""Tests of numvae.training.trainer: determinism, resume, KL warm-up, divergence, real training."""

import numpy as np
import pytest

from numvae import VAE
from numvae.training.checkpoint import CheckpointError
from numvae.training.trainer import HISTORY_KEYS, TrainConfig, Trainer, TrainingDiverged



def _flat(model):
    """Every parameter of ``model``, back to back in ``parameters()`` order."""
    return np.concatenate([p.ravel() for p in model.parameters().values()])

def _data(seed=0, n=120, dim=16):
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(size=(4, dim))
    x = prototypes[rng.integers(0, 4, n)] * rng.uniform(0.7, 1.0, size=(n, 1))
    return x[:100], x[100:]


def _trainer(config=None, dtype=np.float32, seed=3):
    x_train, x_test = _data()
    model = VAE(input_dim=16, hidden_dims=(12,), latent_dim=2, dtype=dtype, seed=seed)
    return Trainer(model, x_train, x_test, config or TrainConfig(epochs=4, batch_size=16))


def test_same_seed_same_data_gives_bit_identical_parameters_and_history():
    config = TrainConfig(epochs=3, batch_size=16, binarize="dynamic", warmup_epochs=1.5)
    a, b = _trainer(config), _trainer(config)
    a.fit(), b.fit()
    assert np.array_equal(_flat(a.model), _flat(b.model))
    assert a.history == b.history
    c = _trainer(TrainConfig(epochs=3, batch_size=16, binarize="dynamic", warmup_epochs=1.5, seed=1))
    c.fit()
    assert not np.array_equal(_flat(a.model), _flat(c.model)), "the seed had no effect"


def test_a_checkpoint_with_the_old_flat_optimizer_buffers_resumes_as_the_new_one(tmp_path):
    """Before 0.2 the optimizer ran on one flat buffer: optim/m.all, optim/v.all in parameters() order."""
    config = TrainConfig(epochs=3, batch_size=16, lr=0.01)
    first = _trainer(config)
    first.fit(epochs=2, checkpoint_path=tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz") as f:
        arrays = dict(f)
    names = list(first.model.parameters())
    for slot in ("m", "v"):
        arrays[f"optim/{slot}.all"] = np.concatenate([arrays.pop(f"optim/{slot}.{name}").ravel() for name in names])
    np.savez(tmp_path / "old.npz", **arrays)
    x_train, x_test = _data()
    resumed = [Trainer.resume(tmp_path / name, x_train, x_test)[0] for name in ("model.npz", "old.npz")]
    for trainer in resumed:
        trainer.fit()
    np.testing.assert_array_equal(_flat(resumed[0].model), _flat(resumed[1].model))
    assert resumed[0].history == resumed[1].history


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_reaches_the_same_parameters_as_an_uninterrupted_run(tmp_path, optimizer):
    config = TrainConfig(epochs=4, batch_size=16, binarize="dynamic", warmup_epochs=2, optimizer=optimizer, lr=0.01)
    straight = _trainer(config)
    straight.fit()

    first = _trainer(config)
    first.fit(epochs=2, checkpoint_path=tmp_path / "model.npz")
    x_train, x_test = _data()
    resumed, ckpt = Trainer.resume(tmp_path / "model.npz", x_train, x_test)
    assert ckpt.epoch == 2 and resumed.epoch == 2
    resumed.fit()
    assert np.array_equal(_flat(resumed.model), _flat(straight.model))
    assert resumed.history == straight.history
    assert resumed.model.beta == straight.model.beta == 1.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"optimizer": "sgd"}, r"^optimizer: the checkpoint holds the state of 'adam', .*got 'sgd'$"),
        ({"epoch": 5}, r"^overrides: expected fields of TrainConfig \(epochs, .*\), got epoch$"),
        ({"batch_size": 0}, r"^batch_size: expected a positive integer, got 0$"),
    ],
)
def test_a_bad_override_on_resume_is_named_and_not_blamed_on_the_file(tmp_path, overrides, message):
    # The file is intact; before, each of these said "damaged training state".
    _trainer(TrainConfig(epochs=1, batch_size=16)).fit(checkpoint_path=tmp_path / "model.npz")
    with pytest.raises(ValueError, match=message) as info:
        Trainer.resume(tmp_path / "model.npz", *_data(), **overrides)
    assert not isinstance(info.value, CheckpointError), f"blamed on the file: {info.value}"


def test_history_has_one_row_per_epoch_and_loss_is_rec_plus_beta_kl():
    trainer = _trainer(TrainConfig(epochs=3, batch_size=16))
    trainer.model.beta = 0.5
    trainer.beta = 0.5
    history = trainer.fit()
    assert list(history) == list(HISTORY_KEYS)
    assert history["epoch"] == [1, 2, 3]
    for split in ("train", "test"):
        loss = np.array(history[f"{split}_loss"])
        expected = np.array(history[f"{split}_reconstruction"]) + 0.5 * np.array(history[f"{split}_kl"])
        np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_kl_warmup_is_linear_in_steps():
    trainer = _trainer(TrainConfig(epochs=3, batch_size=25, warmup_epochs=2))
    seen = []
    original_loss = trainer.model.loss

    def spy(x, eps=None):
        seen.append(trainer.model.beta)
        return original_loss(x, eps)

    trainer.model.loss = spy
    trainer.fit()
    steps_per_epoch = 4  # 100 examples / 25
    expected = [min(1.0, step / (2 * steps_per_epoch)) for step in range(3 * steps_per_epoch)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    assert trainer.history["beta"] == [0.5, 1.0, 1.0]
    assert trainer.model.beta == 1.0


def test_non_finite_loss_stops_with_step_and_advice_and_keeps_last_checkpoint(tmp_path):
    trainer = _trainer(TrainConfig(epochs=3, batch_size=16))
    path = tmp_path / "model.npz"
    trainer.fit(epochs=1, checkpoint_path=path)
    saved = path.read_bytes()
    # Weights this large make the logits overflow to inf: the run has diverged.
    trainer.model.parameters()["decoder.1.W"][...] = 1e38
    trainer.model.parameters()["decoder.0.W"][...] = 1e38
    with pytest.raises(TrainingDiverged, match=r"at epoch 2, step 1 .*smaller learning rate"):
        trainer.fit(checkpoint_path=path)
    assert path.read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_training_keeps_float32_end_to_end():
    trainer = _trainer(TrainConfig(epochs=1, batch_size=16))
    trainer.fit()
    assert all(p.dtype == np.float32 for p in trainer.model.parameters().values())
    assert all(m.dtype == np.float32 for m in trainer.optimizer.m.values())
    assert all(v.dtype == np.float32 for v in trainer.optimizer.v.values())


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("epochs", 0, "epochs: expected a positive integer, got 0"),
        ("batch_size", -3, "batch_size: expected a positive integer, got -3"),
        ("lr", 0.0, "lr: expected a finite number > 0, got 0.0"),
        ("optimizer", "rmsprop", "optimizer: expected one of 'adam', 'sgd', got 'rmsprop'"),
        ("warmup_epochs", -1.0, "warmup_epochs: expected a finite number >= 0, got -1.0"),
        ("binarize", "yes", "binarize: expected one of 'none', 'threshold', 'dynamic', got 'yes'"),
        ("seed", -1, "seed: expected a non-negative integer, got -1"),
    ],
)
def test_bad_config_names_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


@pytest.mark.parametrize(
    "field, value",
    [("epochs", np.int64(1)), ("batch_size", np.int32(16)), ("lr", np.float32(1e-3)), ("warmup_epochs", np.float64(1))],
)
def test_numpy_numbers_in_the_config_are_stored_as_python_numbers_and_checkpoint(tmp_path, field, value):
    # They reach the checkpoint's JSON, which cannot hold NumPy scalars: before,
    # fit trained a whole epoch and then failed to save it.
    config = TrainConfig(**{"epochs": 1, field: value})
    assert type(getattr(config, field)) is type(value.item()), f"{field} kept as {type(getattr(config, field))}"
    assert getattr(config, field) == value
    trainer = _trainer(config)
    trainer.fit(checkpoint_path=tmp_path / "run.npz")
    resumed, _ = Trainer.resume(tmp_path / "run.npz", *_data())
    assert getattr(resumed.config, field) == getattr(config, field)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("optimizer", "rmsprop", "optimizer: expected one of 'adam', 'sgd', got 'rmsprop'"),
        ("batch_size", 0, "batch_size: expected a positive integer, got 0"),
        ("lr", float("nan"), "lr: expected a finite number > 0, got nan"),
    ],
)
def test_a_config_changed_after_construction_is_checked_by_the_trainer(field, value, message):
    # TrainConfig checks itself when built; a field set afterwards used to pass
    # unchecked (an unknown optimizer silently became SGD; batch_size 0 divided by zero).
    config = TrainConfig(epochs=1, batch_size=16)
    setattr(config, field, value)
    with pytest.raises(ValueError, match=f"^{message}$"):
        _trainer(config)


def test_a_trainer_refuses_a_config_that_is_not_a_train_config():
    with pytest.raises(ValueError, match=r"^config: expected a TrainConfig, got dict"):
        _trainer({"epochs": 1})


def test_trainer_refuses_data_of_the_wrong_width():
    model = VAE(input_dim=16, hidden_dims=(4,), latent_dim=2)
    with pytest.raises(ValueError, match=r"x_train: expected an array of shape \(batch, 16\).*\(10, 15\)"):
        Trainer(model, np.zeros((10, 15)))


@pytest.mark.parametrize(
    "likelihood, binarize, why",
    [("bernoulli", "none", "for a Bernoulli likelihood"), ("bernoulli", "dynamic", "for a Bernoulli likelihood"),
     ("gaussian", "threshold", "to binarize them"), ("gaussian", "dynamic", "to binarize them")],
)
@pytest.mark.parametrize("which", ["x_train", "x_test"])
def test_pixel_values_outside_0_1_are_refused_where_they_are_read_as_probabilities(likelihood, binarize, why, which):
    # 0..255 grey levels: a dynamic binarization turned every non-zero pixel into 1
    # and trained on that silently; without binarization the Bernoulli loss
    # refused them only at the first step, naming ``x``.
    x_train, x_test = _data()
    data = {"x_train": x_train, "x_test": x_test}
    data[which] = data[which] * 255
    model = VAE(input_dim=16, hidden_dims=(4,), latent_dim=2, likelihood=likelihood)
    with pytest.raises(ValueError, match=rf"^{which}: expected values in \[0, 1\] {why}, got values in \[[-0-9.e]+, [-0-9.e]+\]$"):
        Trainer(model, data["x_train"], data["x_test"], TrainConfig(epochs=1, binarize=binarize))


def test_a_gaussian_model_without_binarization_trains_on_any_values():
    x_train, x_test = _data()
    model = VAE(input_dim=16, hidden_dims=(4,), latent_dim=2, likelihood="gaussian", sigma=50.0)
    Trainer(model, 255 * x_train, 255 * x_test, TrainConfig(epochs=1, batch_size=16)).fit()


def test_a_short_real_training_run_lowers_the_test_loss():
    from numvae.data.datasets import load_dataset

    data = load_dataset("mnist5k")
    model = VAE(input_dim=784, hidden_dims=(128,), latent_dim=8, dtype=np.float32, seed=0)
    trainer = Trainer(model, data.x_train, data.x_test, TrainConfig(epochs=3, batch_size=100))
    before = trainer.evaluate_test()["loss"]
    history = trainer.fit()
    test_loss = history["test_loss"]
    # An untrained decoder gives about 784·log 2 ≈ 543 nats; a VAE that learnt
    # anything is far below, and each epoch improves on the last.
    assert before > 400
    assert test_loss[-1] < 0.6 * before, (before, test_loss)
    assert test_loss[0] > test_loss[1] > test_loss[2], test_loss


def test_a_non_finite_test_loss_stops_before_the_checkpoint_is_overwritten(tmp_path):
    trainer = _trainer(TrainConfig(epochs=3, batch_size=16))
    path = tmp_path / "model.npz"
    trainer.fit(epochs=1, checkpoint_path=path)
    saved = path.read_bytes()
    trainer.evaluate_test = lambda: {"loss": float("nan"), "reconstruction": float("nan"), "kl": 1.0}
    with pytest.raises(TrainingDiverged, match="the test loss became nan at epoch 2"):
        trainer.fit(checkpoint_path=path)
    assert path.read_bytes() == saved
    assert trainer.epoch == 1 and trainer.history["epoch"] == [1]


def test_non_finite_parameters_after_an_epoch_stop_before_the_checkpoint(tmp_path):
    trainer = _trainer(TrainConfig(epochs=2, batch_size=16))
    path = tmp_path / "model.npz"
    trainer.fit(epochs=1, checkpoint_path=path)
    saved = path.read_bytes()
    train_epoch = trainer.train_epoch

    def poisoned(progress=False):
        terms = train_epoch(progress)
        list(trainer.model.parameters().values())[-1][-1] = np.inf
        return terms

    trainer.train_epoch = poisoned
    with pytest.raises(TrainingDiverged, match="the parameters became non-finite at epoch 2"):
        trainer.fit(checkpoint_path=path)
    assert path.read_bytes() == saved


@pytest.mark.parametrize("likelihood, binarize", [("bernoulli", "dynamic"), ("gaussian", "none")])
def test_the_default_binarization_is_decided_by_the_likelihood(likelihood, binarize, tmp_path):
    """``TrainConfig().binarize`` is None: 0/1 draws for Bernoulli pixels, grey levels for a Gaussian."""
    assert TrainConfig().binarize is None
    model = VAE(input_dim=16, hidden_dims=(4,), latent_dim=2, likelihood=likelihood)
    trainer = Trainer(model, *_data(), TrainConfig(epochs=1, batch_size=50))
    assert trainer.config.binarize == binarize
    trainer.fit(checkpoint_path=tmp_path / "run.npz")  # the checkpoint keeps the choice, not None
    assert Trainer.resume(tmp_path / "run.npz", *_data())[0].config.binarize == binarize
