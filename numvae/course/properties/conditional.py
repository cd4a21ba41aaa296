r"""Properties of a label joined to a network's input, and of the conditional VAE built on it.

``one_hot(labels, n_classes, dtype)``, ``join(a, b)`` and
``join_backward(d_joined, width_a) -> (d_a, d_b)`` are the pure functions of
:mod:`numvae.conditional`; ``CVAE`` is :class:`numvae.cvae.CVAE`.

Joined to the input of a dense layer, the one-hot code :math:`c = e_y` adds
row y of the label's weights :math:`W_c` to the layer's bias:
:math:`[x \mid c] \left[\begin{smallmatrix} W_x \\ W_c \end{smallmatrix}\right] + b = x W_x + (b + W_c[y])`.
Two exact statements about the CVAE follow, each checked against a
:class:`numvae.VAE` (the engine below it) built with the same weights:

* **y ignored is the VAE.** With :math:`W_c = 0` in both networks, the CVAE's
  loss for *any* labels equals the VAE's, and so does the gradient of every
  parameter the two share (the label rows' gradients are extra).
* **The label is a bias.** For a batch whose examples all have label y, the
  CVAE is the VAE whose first biases are :math:`b + W_c[y]`, in loss and in
  gradients; the gradient of row y of :math:`W_c` is that bias's gradient, and
  every other label row's gradient is zero. A CVAE that forgot to feed y to
  one of its networks fails this (its loss ignores that network's shift).
"""

import numpy as np

from ...vae import VAE
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   gradients_match)


def one_hot_is_the_identity_row_of_each_label(impl, n_classes, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    labels = data.draw(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(0, n_classes - 1)),
                       label="labels")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    c = np.asarray(expect_shape("one_hot", call(impl, "one_hot", labels, n_classes, dtype),
                                (len(labels), n_classes)))
    if c.dtype != dtype:
        raise PropertyFailure(f"one_hot(..., dtype={np.dtype(dtype).name}) returned dtype {c.dtype}",
                              {"labels": labels, "n_classes": n_classes})
    expect_close("one_hot(labels)", c, np.eye(n_classes)[labels], 0, 0,
                 hint="row n is 1 in column labels[n], 0 elsewhere")


def join_is_the_columns_side_by_side(impl, batch, width_a, width_b):
    rng = np.random.default_rng(100 * batch + 10 * width_a + width_b)
    a, b = rng.standard_normal((batch, width_a)), rng.standard_normal((batch, width_b))
    joined = expect_shape("join(a, b)", call_twice(impl, "join", a, b), (batch, width_a + width_b))
    expected = np.array([[*a[n], *b[n]] for n in range(batch)])
    expect_close("join(a, b)", joined, expected, 0, 0, hint="a's columns first, then b's: axis=1")


def join_gradients(impl, batch, width_a, width_b):
    rng = np.random.default_rng(1000 + 100 * batch + 10 * width_a + width_b)
    a, b = rng.standard_normal((batch, width_a)), rng.standard_normal((batch, width_b))
    d_joined = rng.standard_normal((batch, width_a + width_b))  # a random upstream gradient
    grads = call_twice(impl, "join_backward", d_joined, width_a)
    d_a, d_b = expect_tuple("join_backward", grads, ("d_a", "d_b"))
    f = lambda: float(np.sum(d_joined * call(impl, "join", a, b)))  # noqa: E731
    gradients_match(f, {"a": a, "b": b}, {"a": d_a, "b": d_b})


# --------------------------------------------------------------------------
# The CVAE against the VAE with the same weights
# --------------------------------------------------------------------------


def _twins(impl, likelihood, hidden_dims, latent_dim, n_classes, seed):
    """A VAE with generic weights, and ``impl.CVAE`` of the same config with those weights and random label rows.

    Returns (vae, cvae, label_rows), ``label_rows`` = {"encoder": W_c (K, h), "decoder": W_c (K, h')}.
    """
    rng = np.random.default_rng(seed)
    options = {"sigma": 0.5, "learn_sigma": True} if likelihood == "gaussian" else {}
    config = dict(input_dim=5, hidden_dims=hidden_dims, latent_dim=latent_dim, likelihood=likelihood,
                  activation="tanh", seed=seed, **options)
    vae = VAE(**config)
    for name, p in vae.parameters().items():  # not zero: a zero bias or a constant σ hides a wrong gradient
        if name.endswith(".b") or name == "decoder.log_var":
            p[...] = rng.uniform(-0.5, 0.5, size=p.shape)
    try:
        cvae = impl.CVAE(n_classes=n_classes, **config)
    except Exception as exc:  # noqa: BLE001 - an implementation's failure is the property's
        raise PropertyFailure(f"CVAE(n_classes={n_classes}, ...) raised {type(exc).__name__}: {exc}") from None
    label_rows = {}
    for name, p in cvae.parameters().items():
        v = vae.parameters().get(name)
        if v is None or p.shape[1:] != v.shape[1:]:
            raise PropertyFailure(f"CVAE parameter {name} {p.shape} has no VAE twin of its kind", hint="")
        if p.shape == v.shape:
            p[...] = v
        elif name in ("encoder.0.W", "decoder.0.W") and p.shape[0] == v.shape[0] + n_classes:
            net = name.split(".")[0]
            label_rows[net] = rng.uniform(-1, 1, size=(n_classes, p.shape[1]))
            p[...] = np.concatenate([v, label_rows[net]])
        else:
            raise PropertyFailure(f"{name}: expected the VAE's shape {v.shape}, or {n_classes} label rows more "
                                  f"in a first weight matrix, got {p.shape}")
    if set(label_rows) != {"encoder", "decoder"}:
        missing = {"encoder", "decoder"} - set(label_rows)
        raise PropertyFailure(f"the {' and '.join(sorted(missing))}'s first weight matrix has no label rows",
                              hint="the one-hot label is joined to both networks' inputs: [x | c] and [z | c]")
    x = rng.uniform(0, 1, size=(4, 5)) if likelihood == "bernoulli" else rng.normal(0.5, 1, size=(4, 5))
    return vae, cvae, label_rows, x, rng.standard_normal((4, latent_dim))


def _first_rows(net, latent_dim):
    return 5 if net == "encoder" else latent_dim


def _run(model, *args):
    terms = model.loss(*args)
    return terms, {name: g.copy() for name, g in model.backward().items()}


def _compare(what, got_terms, got_grads, vae_terms, vae_grads, latent_dim, hint=None):
    expect_close(f"{what}: loss", got_terms.loss, vae_terms.loss, 1e-12, 1e-12, hint=hint)
    expect_close(f"{what}: reconstruction", got_terms.reconstruction, vae_terms.reconstruction, 1e-12, 1e-12,
                 hint=hint)
    for name, g in vae_grads.items():
        net = name.split(".")[0]
        shared = got_grads[name][: _first_rows(net, latent_dim)] if name in ("encoder.0.W", "decoder.0.W") \
            else got_grads[name]
        expect_close(f"{what}: d_{name}", shared, g, 1e-10, 1e-12, hint=hint)


def cvae_with_zero_label_weights_is_the_vae(impl, likelihood, hidden_dims, latent_dim, n_classes, seed):
    vae, cvae, label_rows, x, eps = _twins(impl, likelihood, hidden_dims, latent_dim, n_classes, seed)
    for net in ("encoder", "decoder"):
        cvae.parameters()[f"{net}.0.W"][_first_rows(net, latent_dim):] = 0
    vae_terms, vae_grads = _run(vae, x, eps)
    for y in (np.arange(4) % n_classes, np.full(4, n_classes - 1)):
        terms, grads = _run(cvae, x, y, eps)
        _compare(f"CVAE with zero label weights, y = {y}", terms, grads, vae_terms, vae_grads, latent_dim,
                 hint="with W_c = 0 the label changes nothing: check that [x | c] and [z | c] put x and z first")


def cvae_label_is_a_bias(impl, likelihood, hidden_dims, latent_dim, n_classes, seed):
    vae, cvae, label_rows, x, eps = _twins(impl, likelihood, hidden_dims, latent_dim, n_classes, seed)
    y = seed % n_classes
    params = vae.parameters()
    for net in ("encoder", "decoder"):
        params[f"{net}.0.b"] += label_rows[net][y]  # the VAE's bias b + W_c[y]
    vae_terms, vae_grads = _run(vae, x, eps)
    terms, grads = _run(cvae, x, np.full(4, y), eps)
    what = f"CVAE with every label {y}, against the VAE with first biases b + W_c[{y}]"
    _compare(what, terms, grads, vae_terms, vae_grads, latent_dim,
             hint="the label must reach both networks: [x | c] into the encoder, [z | c] into the decoder")
    for net in ("encoder", "decoder"):
        d_rows = grads[f"{net}.0.W"][_first_rows(net, latent_dim):]  # (n_classes, h)
        expected = np.zeros_like(d_rows)
        expected[y] = vae_grads[f"{net}.0.b"]
        expect_close(f"{what}: d_{net}.0.W's label rows", d_rows, expected, 1e-10, 1e-12,
                     hint="row y of W_c is used like the bias by every example of label y, and no other row is used")


JOIN_DEFINITION = Property("join puts a's columns, then b's, side by side", join_is_the_columns_side_by_side,
                           cases=tuple({"batch": n, "width_a": i, "width_b": j} for n, i, j in ((1, 1, 1), (3, 4, 2))))
JOIN_GRADIENTS = Property(
    "join_backward matches central differences", join_gradients,
    cases=tuple({"batch": n, "width_a": i, "width_b": j} for n, i, j in ((1, 1, 1), (3, 4, 2), (2, 2, 10))),
    hint="the backward of a join is a slice: the first width_a columns are a's, the rest b's")
ONE_HOT = Property("one_hot(labels) is the identity's row of each label", one_hot_is_the_identity_row_of_each_label,
                   strategies=lambda st, hnp: {"n_classes": st.integers(1, 12), "data": st.data()})
_MODELS = tuple({"likelihood": lik, "hidden_dims": h, "latent_dim": j, "n_classes": k, "seed": s}
                for lik, h, j, k, s in (("bernoulli", (4,), 2, 3, 0), ("bernoulli", (), 1, 1, 1),
                                        ("gaussian", (4, 3), 3, 10, 2), ("bernoulli", (6, 4), 2, 10, 7)))
CVAE_IGNORING_Y_IS_THE_VAE = Property("a CVAE with zero label weights is the VAE, for any labels",
                                      cvae_with_zero_label_weights_is_the_vae, cases=_MODELS)
CVAE_LABEL_IS_A_BIAS = Property("a CVAE of one label y is the VAE with first biases b + W_c[y]", cvae_label_is_a_bias,
                                cases=_MODELS)
