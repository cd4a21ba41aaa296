"""The schema of a checkpoint's metadata, checked field by field before any value is used.

:func:`check_meta` takes the parsed JSON ``meta`` of a checkpoint (see
:mod:`numvae.training.checkpoint`) and raises :class:`SchemaError` naming the first
field that does not fit, e.g. ``epoch: expected an integer >= 0, got None``.
:func:`parameter_shapes` gives the arrays a model config implies, so that the
loader can bound every array before reading it.
"""

import math

import numpy as np

META_FIELDS = ("model", "epoch", "history", "train_config", "optimizer_t", "rng_states", "extra")
OPTIONAL_META_FIELDS = ("model_kind",)
"""Fields a checkpoint may lack: ``model_kind`` came with the CVAE, and a file without it holds a VAE."""
MODEL_KINDS = ("vae", "cvae")
"""``numvae.VAE`` and ``numvae.cvae.CVAE``; ``meta.model`` holds the constructor arguments of the one named."""
MODEL_FIELDS = ("input_dim", "hidden_dims", "latent_dim", "likelihood", "activation",
                "beta", "sigma", "learn_sigma", "dtype", "seed")
KIND_FIELDS = {"vae": MODEL_FIELDS, "cvae": (*MODEL_FIELDS, "n_classes")}
DTYPES = ("float32", "float64")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
OPTIMIZER_SLOTS = ("m", "v", "velocity")
"""Adam's first and second moments, SGD's velocity: ``optim/<slot>.<name>``."""


class SchemaError(ValueError):
    """A field of a checkpoint does not fit the schema; the message starts with the field."""


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(field, expected, value):
    raise SchemaError(f"{field}: expected {expected}, got {_show(value)}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _int(field, value, minimum):
    if not _is_int(value) or value < minimum:
        _fail(field, f"an integer >= {minimum}", value)
    return value


def _dict(field, value):
    if not isinstance(value, dict):
        _fail(field, "a JSON object", value)
    return value


def _exact_fields(field, value, fields, prefix="", optional=()):
    """``value`` is a JSON object with exactly ``fields`` (and perhaps some ``optional`` ones): none unknown, none missing."""
    _dict(field, value)
    for name in value:
        if name not in fields and name not in optional:
            _fail(field, f"only the fields {', '.join((*fields, *optional))}", f"field {name!r}")
    for name in fields:
        if name not in value:
            raise SchemaError(f"{prefix}{name}: missing")


def model_kind(meta):
    """The kind of model a (checked) ``meta`` holds: its ``model_kind``, "vae" in a file written before there was one."""
    return meta.get("model_kind", "vae")


def check_model_config(model, kind="vae"):
    """Types and sizes of the model config of a model of ``kind`` (the model checks the rest when built)."""
    _exact_fields("model", model, KIND_FIELDS[kind], prefix="model.")
    _int("model.input_dim", model["input_dim"], 1)
    _int("model.latent_dim", model["latent_dim"], 1)
    if kind == "cvae":
        _int("model.n_classes", model["n_classes"], 1)
    hidden = model["hidden_dims"]
    if not isinstance(hidden, list) or not all(_is_int(h) and h >= 1 for h in hidden):
        _fail("model.hidden_dims", "a list of positive integers", hidden)
    if model["dtype"] not in DTYPES:
        _fail("model.dtype", f"one of {', '.join(DTYPES)}", model["dtype"])
    if not isinstance(model["learn_sigma"], bool):
        _fail("model.learn_sigma", "true or false", model["learn_sigma"])


def parameter_shapes(model):
    """Name -> shape of every parameter the (checked) model config implies, in ``VAE`` order.

    A CVAE's config has ``n_classes``: each network's first layer reads that many label columns more.
    """
    hidden = list(model["hidden_dims"])
    label = model.get("n_classes", 0)
    encoder = [model["input_dim"] + label, *hidden, 2 * model["latent_dim"]]
    decoder = [model["latent_dim"] + label, *hidden[::-1], model["input_dim"]]
    shapes = {}
    for net, sizes in (("encoder", encoder), ("decoder", decoder)):
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes[f"{net}.{i}.W"] = (n_in, n_out)
            shapes[f"{net}.{i}.b"] = (n_out,)
    if model["learn_sigma"]:
        shapes["decoder.log_var"] = (model["input_dim"],)
    return shapes


def check_meta(meta):
    """Check every field of a checkpoint's ``meta`` (a parsed JSON object); raises :class:`SchemaError`."""
    _exact_fields("meta", meta, META_FIELDS, optional=OPTIONAL_META_FIELDS)
    if model_kind(meta) not in MODEL_KINDS:
        _fail("model_kind", f"one of {', '.join(MODEL_KINDS)}", meta["model_kind"])
    check_model_config(meta["model"], model_kind(meta))
    epoch = _int("epoch", meta["epoch"], 0)
    _int("optimizer_t", meta["optimizer_t"], 0)
    _check_train_config(meta["train_config"], epoch)
    _check_history(meta["history"], epoch)
    _check_rng_states(meta["rng_states"])
    extra = _dict("extra", meta["extra"])  # free-form, but a dataset is named by a string
    if "dataset" in extra and not isinstance(extra["dataset"], str):
        _fail("extra.dataset", "a dataset name", extra["dataset"])


def _check_train_config(config, epoch):
    from .config import TrainConfig  # imports numvae.data, which reading a model alone does not need

    _dict("train_config", config)
    if not config:
        return  # a model saved on its own, with no training state
    try:
        checked = TrainConfig(**config)
    except TypeError as exc:
        raise SchemaError(f"train_config: {exc}".replace("TrainConfig.__init__() ", "")) from None
    except ValueError as exc:
        raise SchemaError(f"train_config.{exc}") from None
    if epoch > checked.epochs:
        _fail("epoch", f"at most train_config.epochs = {checked.epochs}", epoch)


def _check_history(history, epoch):
    _dict("history", history)
    for name, column in history.items():
        if not isinstance(column, list):
            _fail(f"history.{name}", "a list of numbers", column)
        if len(column) != epoch:
            _fail(f"history.{name}", f"one value per epoch ({epoch})", f"{len(column)} values")
        for value in column:
            if not (_is_int(value) or isinstance(value, float)) or math.isinf(value):
                _fail(f"history.{name}", "finite numbers (or NaN)", value)


def _check_rng_states(states):
    _dict("rng_states", states)
    for name, state in states.items():
        field = f"rng_states.{name}"
        _dict(field, state)
        kind = state.get("bit_generator")
        if kind not in BIT_GENERATORS:
            _fail(f"{field}.bit_generator", f"one of {', '.join(BIT_GENERATORS)}", kind)
        try:
            getattr(np.random, kind)().state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise SchemaError(f"{field}: expected a {kind} state, got {_show(state)} ({exc})") from None
