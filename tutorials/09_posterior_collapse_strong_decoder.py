# %% [markdown]
# # 9. Posterior collapse at β = 1: a decoder strong enough to do without z
#
# Lecture 08 collapsed a VAE's code by charging more for it (β = 16). The
# collapse that practitioners meet happens at β = 1, and its cause is the
# decoder. An MLP decoder makes the pixels independent given $z$,
# $p_\theta(x|z) = \prod_d p_\theta(x_d|z)$, so everything the pixels share
# (the stroke, the digit) has to go through $z$. An *autoregressive* decoder,
#
# $$p_\theta(x \mid z) = \prod_{d=1}^{D} p_\theta(x_d \mid x_{<d}, z),$$
#
# can draw a digit from the pixels already drawn, without $z$. Then $z$ pays
# its KL for whatever it adds, and the optimum may be to add nothing.
#
# We build such a decoder from masked dense layers (MADE: Germain, Gregor,
# Murray & Larochelle 2015, arXiv:1502.03509), check its autoregressive
# property and its gradients, and measure on mnist5k what it does to the code
# (active units and the KL of each unit, lecture 08) against the VAE of
# lecture 03, then two remedies: a KL warm-up, and free bits (Kingma et al.
# 2016, arXiv:1606.04934). The encoder's parameters are $\phi$, the
# decoder's $\theta$, as Kingma & Welling write them.

# %% [markdown]
# ## Setup
#
# The models of lecture 08: an encoder 784 → 400 → 2 × 20 and, for the
# plain VAE, the decoder 20 → 400 → 784; the MADE decoder has one hidden
# layer of 400 units. Adam with step size 3 × 10⁻³ (the MADE learns slowly
# at 10⁻³), batches of 100, Bernoulli pixels with dynamic binarization (a
# fresh 0/1 draw of every training image at each epoch, lecture 05), and a
# test set binarized once. This lecture trains each model for a few epochs
# only, so that it runs in about a minute; the collapse takes longer, so §4
# reads the measurements of ``scripts/measure_collapse.py``, which trains the
# same models for 40 epochs with three seeds. In fast mode
# (``NUMVAE_FAST=1``) a few hundred images, one epoch, and the figures are
# placeholders.

# %%
import json
from importlib.resources import files

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

import numvae
from numvae import collapse, evaluate
from numvae.data import load_dataset
from numvae.gradcheck import check_model
from numvae.made import MADE, made_masks
from numvae.made_vae import MADEVAE
from numvae.training import TrainConfig, Trainer
from numvae.training.trainer import evaluation_targets

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1502)
latent_dim, hidden = 20, 400
epochs = 1 if FAST else 10
free_nats = 0.5  # λ of the free bits, nats per unit
warmup_epochs = 1 if FAST else 3  # the measurements of §4 warm up over 10 of 40 epochs

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784), grey levels in [0, 1]
if FAST:
    x_train, x_test = x_train[:300], x_test[:200]
x_test_bits = evaluation_targets(x_test, "dynamic", seed=0)  # the fixed 0/1 test images every model is scored on

# %% [markdown]
# ## 1. Masks that make a network autoregressive
#
# A masked dense layer is a dense layer whose weight matrix is multiplied,
# entry by entry, by a fixed 0/1 mask:
#
# $$y = x\,(W \odot M) + b, \qquad
#   \frac{\partial L}{\partial W} = (x^\top \bar y) \odot M, \quad
#   \frac{\partial L}{\partial x} = \bar y\,(W \odot M)^\top,$$
#
# the dense layer's backward (lecture 00) with $W \odot M$ in place of $W$,
# and the mask applied once more to $\partial L / \partial W$: a masked
# weight never reaches the loss, so its gradient is 0 and it never moves.
#
# Which masks? Give pixel $d$ the *degree* $d$, and each hidden unit $k$ a
# degree $m(k) \in \{1, \dots, D-1\}$. A hidden unit may read the units of
# the layer below whose degree is at most its own, and output $d$ may read
# the hidden units whose degree is *strictly* below $d$:
#
# $$M^{\text{hidden}}_{k'k} = [\,m(k) \ge m(k')\,], \qquad
#   M^{\text{out}}_{kd} = [\,d > m(k)\,].$$
#
# By induction a unit of degree $m$ depends on pixels $1..m$ only, so logit
# $d$ depends on $x_{<d}$ only. numvae spreads the hidden degrees evenly
# (Germain et al. draw them at random), lets the output also read $x$
# directly through a strictly lower-triangular mask (as the MADE authors'
# code does), and feeds $z$ to every layer unmasked: a block of ones in the
# mask. Here are the masks of a MADE with $D = 6$ pixels, 8 hidden units and
# $J = 2$ latent units, and the autoregressive property checked by
# perturbation: move $x_j$ by 0.5 and record which logits change.

# %%
small_D, small_hidden, small_J = 6, (8,), 2
hidden_mask, output_mask = made_masks(small_D, small_hidden, small_J)  # (6 + 2, 8), (8 + 6 + 2, 6)
small = MADE(small_D, small_hidden, small_J, "tanh", np.random.default_rng(0))
for dense in small.dense:  # non-zero biases, so that no unit sits at exactly 0
    dense.params["b"][...] = rng.standard_normal(dense.params["b"].shape)
x_small, z_small = rng.random((3, small_D)), rng.standard_normal((3, small_J))
base = small.forward(x_small, z_small, keep_cache=False)  # (3, 6)
dependence = np.zeros((small_D, small_D))  # (d, j): how much logit d moved when x_j did
for j in range(small_D):
    moved = x_small.copy()
    moved[:, j] += 0.5
    dependence[:, j] = np.abs(small.forward(moved, z_small, keep_cache=False) - base).max(axis=0)
moved_z = np.abs(small.forward(x_small, z_small + 0.5, keep_cache=False) - base).max(axis=0)  # (6,)
print("largest change of logit d when x_j moves (rows d, columns j):")
print(np.array2string(dependence, precision=3, suppress_small=False))
print(f"largest change for j >= d: {dependence[np.triu_indices(small_D)].max()!r}; "
      f"smallest for j < d: {dependence[np.tril_indices(small_D, -1)].min():.3g}")
print("change of each logit when z moves:", np.array2string(moved_z, precision=3))

# %%
fig = Figure(figsize=(13, 3.9), layout="constrained")
axes = fig.subplots(1, 3, width_ratios=[8, 16, 6])
pixels = [f"x{i}" for i in range(1, small_D + 1)]
latents = [f"z{i}" for i in range(1, small_J + 1)]
units = [f"h{i}" for i in range(1, small_hidden[0] + 1)]
logits = [f"l{i}" for i in range(1, small_D + 1)]
panels = [(hidden_mask.T, "hidden mask: h reads [x | z]", pixels + latents, units),
          (output_mask.T, "output mask: logits read [h | x | z]", units + pixels + latents, logits),
          (dependence > 0, "measured: l_d moved with x_j", pixels, logits)]
for ax, (image, title, columns, rows) in zip(axes, panels):
    ax.imshow(image, cmap="Greys", vmin=0, vmax=1)
    ax.set_title(title, fontsize=11)
    ax.set_xticks(range(len(columns)), columns, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
for boundary in (small_D,):
    axes[0].axvline(boundary - 0.5, color="C3", lw=2)
for boundary in (small_hidden[0], small_hidden[0] + small_D):
    axes[1].axvline(boundary - 0.5, color="C3", lw=2)
fig.suptitle(f"A MADE with D = {small_D} pixels, {small_hidden[0]} hidden units and J = {small_J}: "
             "black = connected; red lines separate what a layer reads", fontsize=12)
save(fig, "09_masks.png")

# %% [markdown]
# Left: each hidden unit (row) reads the pixels up to its degree and both
# latent units. Middle: each logit (row) reads the hidden units of lower
# degree, the earlier pixels directly, and $z$. Right: the measured
# dependence, black where logit $d$ moved. It is strictly lower-triangular:
# the largest change above or on the diagonal is exactly 0 (printed), and
# every earlier pixel reaches every logit (the smallest change below the
# diagonal is printed). Every logit also moves with $z$. Logit 1 depends on
# no pixel: $p(x_1 \mid z)$.
#
# ## 2. The MADE-VAE, and its gradients
#
# ``MADEVAE`` is the VAE of lecture 03 with this decoder. Training needs
# $\log p_\theta(x \mid z)$ of the observed image, and all $D$ conditionals of
# an observed image come out of *one* pass, with the image itself as the
# input ("teacher forcing"): the loss and its gradient are exact, as for the
# MLP decoder. Only sampling is sequential: pixel $d$ can be drawn once
# pixels $1..d-1$ are, $D$ passes per image. $z$ reaches the loss through
# every layer of the MADE, so its gradient is the sum over those layers.
# The whole backward pass, checked against central differences in float64
# (lecture 00):

# %%
for case in (dict(activation="tanh"), dict(activation="relu", beta=2.5), dict(activation="tanh", free_bits=0.3)):
    gradcheck_model = MADEVAE(6, hidden_dims=(5,), decoder_hidden_dims=(7,), latent_dim=3, seed=1, **case)
    # Grey levels: a row of binary zeros would put every first-layer ReLU of the encoder exactly at its kink
    # (the biases start at 0), where a central difference averages the two slopes.
    x_check = rng.random((4, 6))
    report = check_model(gradcheck_model, x_check)
    print(f"{case}: worst relative error {report.worst.relative_error:.1e} ({report.worst.name})")

# %% [markdown]
# Every relative error is below 10⁻⁶, the threshold of lecture 00. (The last
# case uses free bits, §3.) ``tests/math/test_made.py`` checks the same
# properties on more shapes, and on broken versions of the code that each
# property catches: an output mask with $\ge$, an unmasked $\partial L/\partial W$.
#
# ## 3. Plain VAE against MADE-VAE at β = 1, and two remedies
#
# We train four models with the same encoder: the plain VAE and the
# MADE-VAE at β = 1, and two MADE-VAEs with a remedy.
#
# * **KL warm-up** (Bowman et al. 2016; Sønderby et al. 2016): β grows
#   linearly from 0 to 1 over the first epochs, so that the code carries
#   information before the KL term charges for it. ``Trainer`` does it
#   (``TrainConfig.warmup_epochs``); it drives a ``MADEVAE`` as it drives a
#   ``VAE``, through ``loss``, ``backward`` and ``beta``.
# * **Free bits** (Kingma et al. 2016, appendix C): the KL term becomes
#
#   $$\sum_{j=1}^{J} \max\big(\lambda,\ \overline{\mathrm{KL}}_j\big), \qquad
#     \overline{\mathrm{KL}}_j = \frac1B \sum_{n=1}^{B} \mathrm{KL}_j(x_n),$$
#
#   the KL of unit $j$ averaged over the batch, floored at λ nats. Its
#   gradient with respect to each $\mathrm{KL}_j(x_n)$ is
#   $[\overline{\mathrm{KL}}_j > \lambda]/B$: a unit under λ gets no pull
#   towards the prior at all, only the reconstruction term moves it. We take
#   λ = 0.5 nats per unit. It is a training objective, not a bound: every
#   model is scored with the true ELBO.
#
# For each we record, on the 0/1 test images: the −ELBO (one sample of $z$
# per image), the KL of each unit, and the active units (activity
# $A_j = \mathrm{Var}_x\,\mu_j(x) > 0.01$). Two baselines: a code that says
# nothing (0 active units, KL 0), and, for the −ELBO, the MADE trained alone
# without $z$, whose $-\log p(x)$ is what a fully collapsed MADE-VAE can at
# best reach.

# %%
def train(setting, seed=0):
    """One model of ``setting`` trained for ``epochs`` epochs; returns it, and its KL and busy units after each epoch."""
    if setting == "plain VAE":
        model = numvae.VAE(784, (hidden,), latent_dim=latent_dim, dtype=np.float32, seed=seed)
    else:
        model = MADEVAE(784, (hidden,), latent_dim=latent_dim, dtype=np.float32, seed=seed,
                        free_bits=free_nats if setting == "MADE, free bits" else 0.0)
    config = TrainConfig(epochs=epochs, lr=3e-3, binarize="dynamic", seed=seed,
                         warmup_epochs=warmup_epochs if setting == "MADE, warm-up" else 0.0)
    per_epoch = []  # (test KL, units with KL_j > 0.05 nats) after each epoch

    def record(trainer, row):
        kl_j = collapse.kl_per_unit(*model.encode(x_test_bits))  # (J,)
        per_epoch.append((kl_j.sum(), int(np.sum(kl_j > 0.05))))

    Trainer(model, x_train, x_test_bits, config).fit(on_epoch=record)
    return model, per_epoch


def train_made_alone(seed=0):
    """The MADE decoder with no z, trained on −log p(x) by the three lines of every step; its test −log p(x)."""
    from numvae.data.binarization import binarize
    from numvae.likelihoods import bernoulli_nll, bernoulli_nll_backward

    seed_rng = np.random.default_rng(seed)
    alone = MADE(784, (hidden,), 0, "relu", seed_rng, np.float32)
    optimizer = numvae.Adam(alone.parameters("made"), lr=3e-3)
    no_z = np.zeros((len(x_train), 0), dtype=np.float32)  # latent_dim 0: the MADE reads x only
    for _ in range(epochs):
        x_epoch = binarize(x_train, "dynamic", rng=seed_rng)
        for batch in np.array_split(seed_rng.permutation(len(x_epoch)), len(x_epoch) // 100):
            logits = alone.forward(x_epoch[batch], no_z[batch])
            alone.backward(bernoulli_nll_backward(np.float32(1 / len(batch)), x_epoch[batch], logits))
            optimizer.step(alone.gradients("made"))
    return bernoulli_nll(x_test_bits, alone.forward(x_test_bits, no_z[: len(x_test_bits)], keep_cache=False)).mean()


settings = ("plain VAE", "MADE", "MADE, warm-up", "MADE, free bits")
models, curves, results = {}, {}, {}
for name in settings:
    models[name], curves[name] = train(name)
    mu, log_var = models[name].encode(x_test_bits)
    terms = evaluate.elbo_terms(models[name], x_test_bits, np.random.default_rng(12))
    results[name] = dict(neg_elbo=terms["loss"], kl=collapse.kl_per_unit(mu, log_var),
                         active=collapse.active_units(mu))
alone_nll = train_made_alone()
print(f"after {epochs} epochs, seed 0, on {len(x_test_bits)} binarized test images (nats per image)")
print(f"{'':16s}  -ELBO     KL   active units   units with KL_j > 0.05")
for name, r in results.items():
    print(f"{name:16s} {r['neg_elbo']:6.1f}  {r['kl'].sum():5.1f}   {r['active']:12d}   {np.sum(r['kl'] > 0.05):22d}")
print(f"{'MADE alone, no z':16s} {alone_nll:6.1f}      0   {0:12d}   {0:22d}   (its exact −log p(x))")
print("KL (nats) / units with KL_j > 0.05, after each epoch:")
for name, path in curves.items():
    print(f"  {name:16s} " + "  ".join(f"{kl:4.1f}/{busy}" for kl, busy in path))

# %% [markdown]
# After ten epochs (seed 0) the MADE-VAE's −ELBO is about 10 nats better
# than the plain VAE's, with a code that carries less than half the KL (10.1
# nats against 24.7, printed). The two KL columns move in opposite
# directions: the plain VAE's grows epoch by epoch as its decoder learns to
# read $z$, while the MADE-VAE's stays near 10 nats. Every unit of every model
# is still active, and carries more than 0.05 nats: at this budget nothing
# has collapsed yet, by either count.
#
# The baseline matters here. Trained alone, without $z$, the MADE scores
# 119.6 nats, no better than the plain VAE: after ten epochs $z$ is still
# worth about 10 nats to the MADE-VAE. The remedies change little so far:
# warm-up and free bits leave the code 2 nats larger (12.1 and 12.5 against
# 10.1) and the −ELBO within about a nat of the MADE-VAE's, one seed each, so
# no difference between them can be read from this run. The collapse needs
# longer training; that is what §4 measures.

# %% [markdown]
# ## 4. Forty epochs, three seeds
#
# ``scripts/measure_collapse.py`` trains the same five models (the four
# above and the MADE alone) for 40 epochs, with seeds 0, 1 and 2 (the seed
# sets the initial weights, the shuffling and the binarization), and saves
# what it measures on the test set to ``collapse_runs.jsonl``, a file that
# ships inside numvae (in ``numvae/course/data/``); this cell reads it. Each number is the mean over the three seeds with a 95%
# Student-t interval (t = 4.30 for two degrees of freedom: three seeds give
# wide intervals). Differences between two settings are taken seed by seed
# (the same seed gives the same encoder initialisation and the same data
# order), which removes the variation that the two settings share.

# %%
runs_file = files("numvae.course") / "data" / "collapse_runs.jsonl"  # inside the installed package
runs = [json.loads(line) for line in runs_file.read_text(encoding="utf-8").splitlines()]
by_setting = {}
for run in runs:
    by_setting.setdefault(run["setting"], {})[run["seed"]] = run
seeds = sorted(by_setting["plain"])
labels = {"plain": "plain VAE", "made": "MADE", "warmup": f"MADE, warm-up {runs[0]['warmup']:g} ep.",
          "freebits": f"MADE, free bits λ = {runs[0]['free_bits']:g}"}


T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}  # Student-t 97.5% quantiles, by degrees of freedom


def interval(values):
    """Mean and half-width of the 95% Student-t interval over seeds (up to five of them)."""
    values = np.asarray(values, dtype=float)
    return values.mean(), T_975[len(values) - 1] * values.std(ddof=1) / np.sqrt(len(values))


def show(values):
    """``mean ± half-width (seeds: ...)``."""
    mean, half = interval(values)
    return f"{mean:7.2f} ± {half:4.2f}   (seeds: {' '.join(f'{v:6.2f}' for v in values)})"


def busy_units(run):
    return int(np.sum(np.array(run["kl_per_unit"]) > 0.05))


print(f"{runs[0]['epochs']} epochs, seeds {seeds}: mean ± 95% t-interval over the seeds, on the {len(data.x_test)} "
      "test images (nats per image)")
for key, what in (("neg_elbo", "-ELBO"), ("kl", "KL")):
    print(what)
    for setting, label in labels.items():
        print(f"  {label:26s} {show([by_setting[setting][s][key] for s in seeds])}")
print("-log p(x)")
print(f"  {'MADE alone, no z':26s} {show([by_setting['alone'][s]['test_nll'] for s in seeds])}")
print("units, seed by seed (of 20):      active (A_j > 0.01)   KL_j > 0.05 nats")
for setting, label in labels.items():
    active = " ".join(f"{by_setting[setting][s]['active_units']:2d}" for s in seeds)
    busy = " ".join(f"{busy_units(by_setting[setting][s]):2d}" for s in seeds)
    print(f"  {label:26s}       {active}              {busy}")
print("paired differences, seed by seed")
for a, b, key in (("made", "plain", "neg_elbo"), ("made", "plain", "kl"), ("warmup", "made", "neg_elbo"),
                  ("warmup", "made", "kl"), ("freebits", "made", "neg_elbo"), ("freebits", "made", "kl")):
    diff = [by_setting[a][s][key] - by_setting[b][s][key] for s in seeds]
    print(f"  {'-ELBO' if key == 'neg_elbo' else 'KL':5s} {labels[a]:24s} − {labels[b]:9s} {show(diff)}")
diff = [by_setting["alone"][s]["test_nll"] - by_setting["plain"][s]["neg_elbo"] for s in seeds]
print(f"  -log p(x) of the MADE alone − (-ELBO) of the plain VAE     {show(diff)}")
diff = [by_setting["made"][s]["neg_elbo"] - by_setting["alone"][s]["test_nll"] for s in seeds]
print(f"  -ELBO of the MADE-VAE − (−log p(x)) of the MADE alone      {show(diff)}")
reconstruction = [by_setting["made"][s]["reconstruction"] - by_setting["alone"][s]["test_nll"] for s in seeds]
print(f"  reconstruction of the MADE-VAE − (−log p(x)) of the alone  {show(reconstruction)}")
print("KL of the MADE-VAE at epochs 10, 20, 30, 40, seed by seed: "
      + ";  ".join(" ".join(f"{by_setting['made'][s]['curve'][e - 1]['kl']:.1f}" for e in (10, 20, 30, 40))
                   for s in seeds))

# %% [markdown]
# **The strong decoder.** Over 40 epochs the MADE-VAE ends 13.6 ± 0.8
# nats better than the plain VAE (paired), and most of that gain is the
# decoder's alone: the MADE without any $z$ reaches 99.8 ± 1.0 nats,
# 11.3 ± 2.2 below the plain VAE. The MADE-VAE beats its own decoder by only 2.2 ± 1.6
# nats.
#
# **The code shrinks.** The MADE-VAE's KL is 7.8 ± 1.2 nats against the
# plain VAE's 26.2 ± 1.0, 18.4 ± 1.8 nats less on the same seeds. Its code
# still pays for itself: it lowers the reconstruction term 10.0 ± 0.4 nats
# below what the decoder manages alone, for 7.8 nats of KL, and the
# difference is the 2.2 nats of the ELBO. But it carries much less, and in
# fewer units: 12 to 14 of the 20 units carry more than 0.05 nats, against
# all 20 for the plain VAE (printed). And it is still shrinking: the KL of
# each seed falls between epoch 10 and epoch 40 (printed).
#
# **The count misses it.** Burda's count still calls 16, 19 and 20 units
# active. The collapsed units sit just on its threshold of 0.01 (see the
# figure below), as lecture 08 found at β = 16.
#
# **Remedies.** KL warm-up leaves 4.0 ± 1.5 nats more in the code and 17 to
# 18 busy units; free bits 4.1 ± 1.6 nats more and all 20. Both cost ELBO:
# +0.7 ± 0.6 and +1.2 ± 0.7 nats of −ELBO, worse on every seed (printed).

# %%
fig = Figure(figsize=(14, 9.5), layout="constrained")
(ax_kl, ax_scatter), (ax_curve, ax_count) = fig.subplots(2, 2)
units = np.arange(1, latent_dim + 1)
for color, (setting, label) in enumerate(labels.items()):
    for i, seed in enumerate(seeds):
        run = by_setting[setting][seed]
        style = dict(color=f"C{color}", alpha=1.0 if i == 0 else 0.45, label=label if i == 0 else None)
        ax_kl.plot(units, np.sort(run["kl_per_unit"])[::-1], "o-", ms=3, lw=1.3, **style)
        ax_scatter.scatter(run["kl_per_unit"], run["activity"], s=22, color=f"C{color}", alpha=0.7, linewidths=0,
                           label=label if i == 0 else None)
        ax_curve.plot([row["epoch"] for row in run["curve"]], [row["kl"] for row in run["curve"]], lw=1.3, **style)
lam = runs[0]["free_bits"]
ax_kl.axhline(lam, color="C3", ls=":", lw=1)
ax_kl.annotate(f" λ = {lam:g}", (0.0, lam), xycoords=("axes fraction", "data"), va="top", fontsize=10, color="C3")
ax_kl.set_xticks(units[::2])
ax_kl.set_xlabel("latent unit, sorted by its KL", fontsize=12)
ax_kl.set_ylabel(r"KL$_j$, nats per image", fontsize=12)
ax_kl.set_title(f"(a) KL of each unit after {runs[0]['epochs']} epochs (faint: seeds 1 and 2)", fontsize=12)
ax_kl.legend(fontsize=10)
ax_scatter.axhline(0.01, color="k", ls="--", lw=1)
ax_scatter.annotate("active: A_j > 0.01 ", (1.0, 0.01), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                    fontsize=10)
ax_scatter.axvline(0.05, color="k", ls=":", lw=1)
ax_scatter.annotate(" KL_j = 0.05", (0.05, 0.0), xycoords=("data", "axes fraction"), va="bottom", fontsize=10)
ax_scatter.set_xscale("log")
ax_scatter.set_yscale("log")
ax_scatter.set_xlabel(r"KL$_j$, nats per image", fontsize=12)
ax_scatter.set_ylabel(r"activity $A_j = \mathrm{Var}_x\,\mu_j(x)$", fontsize=12)
ax_scatter.set_title("(b) Every unit of every run: activity against KL", fontsize=12)
ax_scatter.legend(fontsize=10, loc="upper left")
ax_curve.set_xlabel("epoch", fontsize=12)
ax_curve.set_ylabel("KL, nats per image (test)", fontsize=12)
ax_curve.set_title("(c) Total KL during training (colours as in (a))", fontsize=12)
width = 0.38
for position, (setting, label) in enumerate(labels.items()):
    for offset, (count, hatch) in enumerate(((lambda run: run["active_units"], None), (busy_units, "//"))):
        values = [count(by_setting[setting][s]) for s in seeds]
        x_bar = position + (offset - 0.5) * width
        ax_count.bar(x_bar, np.mean(values), width * 0.9, color=f"C{position}", alpha=0.5, hatch=hatch,
                     edgecolor="k", lw=0.5)
        ax_count.plot([x_bar] * len(values), values, "ko", ms=4)
handles = [Patch(facecolor="0.85", edgecolor="k", label="active units, A_j > 0.01"),
           Patch(facecolor="0.85", edgecolor="k", hatch="//", label="units with KL_j > 0.05 nats"),
           Line2D([], [], color="k", marker="o", ms=4, ls="", label="one seed")]
ax_count.set_xticks(range(len(labels)), [label.replace(", ", ",\n") for label in labels.values()], fontsize=10)
ax_count.yaxis.set_major_locator(MaxNLocator(integer=True))
ax_count.set_ylim(0, latent_dim + 4.5)
ax_count.axhline(latent_dim, color="k", lw=0.8)
ax_count.set_ylabel(f"units (of {latent_dim})", fontsize=12)
ax_count.set_title("(d) Units in use: bars the mean over seeds", fontsize=12)
ax_count.legend(handles=handles, fontsize=10, loc="upper right", ncols=3)
for ax in (ax_kl, ax_scatter, ax_curve, ax_count):
    ax.grid(alpha=0.3)
save(fig, "09_kl_per_unit.png")

# %% [markdown]
# (a) The KL of each unit after 40 epochs, sorted. Every unit of the plain VAE
# carries about a nat or more. The MADE-VAE's fall to zero after the
# twelfth or so: those units have collapsed to the prior. Warm-up keeps a
# few more units above zero. Free bits holds every unit at λ = 0.5 (dotted)
# or a little above it. (b) Every unit of every run, activity against KL: one
# curve, as in lecture 08. The units that carry no information (KL below
# about 0.01 nats, left) straddle the activity threshold (dashed), so the
# count depends on where a seed's near-dead units happen to fall. The KL
# tells them apart (dotted, 0.05 nats). (c) The total KL during training. The plain
# VAE's rises and levels off near 26 nats. The MADE-VAE's starts low and
# drifts down. Warm-up starts with a large code (β ≈ 0 in the first epoch)
# and gives it back as β reaches 1, still falling at epoch 40. Free bits
# stays flat. (d) The two counts, seed by seed.
#
# Why free bits holds each unit at λ exactly: below λ a unit's KL costs
# nothing, so nothing pulls it towards the prior. Above λ it is charged as
# usual. A unit the decoder has little use for is pushed by the
# reconstruction term up to λ, and stops there. So the 20 units and the ≈ 10
# nats (20 × λ) are set by the choice of λ, not learned. The ELBO counts those
# nats in full, which is the −ELBO that free bits costs.
#
# **What the remedies buy.** Neither remedy improves the bound: here the
# ELBO prefers the smaller code. The nats that a remedy adds to the code
# lower the reconstruction term by less than they cost in KL. The
# remedies are the right tools when the *code* is the point (a
# representation for a downstream task, lecture 14), and they buy it by
# giving up some of the ELBO. This is not a bug in the optimiser, and to
# measure it, report the KL per unit beside the ELBO.
#
# ## 5. What z decides
#
# The test of a code is whether it matters to the decoder. Fix one $z$ per
# row, drawn from the prior, and draw six images from $p_\theta(x \mid z)$:
# for the plain VAE, six independent coin flips per pixel from the same
# probabilities; for the MADE-VAEs, six sequential draws, pixel by pixel. If
# $z$ decides the digit, a row shows one digit six times; if the decoder
# ignores $z$, a row is as varied as the whole figure. (These are the
# lecture's own models of §3, after its few epochs.)

# %%
n_rows, n_columns = 4, 6
z_rows = np.repeat(rng.standard_normal((n_rows, latent_dim)), n_columns, axis=0).astype(np.float32)  # (24, J)
samples = {}
for name, model in models.items():
    if name == "plain VAE":
        samples[name] = (rng.random((len(z_rows), 784)) < model.decode(z_rows)).astype(np.float32)
    else:
        samples[name] = model.sample(len(z_rows), rng, z=z_rows)  # (24, 784), pixel by pixel
top = slice(0, 2 * 28)  # the first two rows of pixels, the first the MADE draws
print(f"ink in the top two rows: {x_test_bits[:, top].mean():.4f} of the test pixels; in the samples: "
      + ", ".join(f"{name} {images[:, top].mean():.3f}" for name, images in samples.items()))
made_model, blank = models["MADE"], np.zeros(x_test_bits.shape, dtype=np.float32)  # blank: every pixel before is 0
z_codes = made_model.encode(x_test_bits)[0]  # (n_test, J): the posterior means of the test images
for where, z in (("the codes of the test images", z_codes),
                 ("draws from the prior", rng.standard_normal(z_codes.shape).astype(np.float32))):
    ink = made_model.likelihood.mean(made_model.decoder.forward(blank, z, keep_cache=False)[:, top]).mean()
    print(f"MADE-VAE, probability of ink in the top two rows after blank pixels, z = {where}: {ink:.3f}")
fig = Figure(figsize=(16, 3.6), layout="constrained")
for ax, (name, images) in zip(fig.subplots(1, len(samples)), samples.items()):
    framed = np.pad(images.reshape(n_rows, n_columns, 28, 28), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=0.3)
    grid = framed.transpose(0, 2, 1, 3).reshape(n_rows * 30, n_columns * 30)  # (rows of 30 px, columns of 30 px)
    ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([30 * r + 15 for r in range(n_rows)], [f"z{r + 1}" for r in range(n_rows)])
    ax.set_title(f"{name}: KL {results[name]['kl'].sum():.1f} nats", fontsize=12)
fig.suptitle("Each row: one z from the prior, six draws of x ~ p(x | z)", fontsize=12)
save(fig, "09_samples.png")

# %% [markdown]
# The plain VAE's rows: one blurred digit per row, its pixels drawn
# independently, hence the speckle around the strokes. The MADE-VAEs' rows: after ten
# epochs one digit still recurs along each row, drawn each time with
# different strokes, connected where the plain VAE's are speckled. $z$ decides the
# digit; the decoder decides the strokes. This is the split that Chen et al.
# ("Variational Lossy Autoencoder", 2017) describe. A decoder that can model local
# structure leaves $z$ only the global information it cannot guess, and
# after 40 epochs even part of that goes (§4).
#
# The dots in the top two rows of the MADE samples, where no test image has
# ink, come from $z$ and not from the order of sampling. With every earlier
# pixel blank, the MADE-VAE gives those pixels a probability of ink of 0.004
# when $z$ is the code of a test image, and of 0.2 when $z$ is drawn from
# the prior (printed). The prior puts mass where the encoder puts no image.
# There the decoder was never trained, and it draws ink where no digit has
# any. Samples from the prior test the decoder away from the data; the
# ELBO, measured on codes of real images, does not.
#
# **Summary.** At β = 1, with a decoder that can model the pixels from one
# another, the ELBO gives the code less to do. Over 40 epochs the KL falls
# from 26 nats (plain VAE) to about 8. A third of the units collapse to the
# prior, and the collapse is still going on at epoch 40. Burda's activity
# count does not see it, and the KL of each unit does. The decoder alone
# explains most of the MADE-VAE's gain over the plain VAE. KL warm-up and free
# bits keep more units and more nats in the code, and both cost ELBO (0.7
# and 1.2 nats). Whether that trade is worth it depends on what the code is
# for.


# %% [markdown]
# ## Exercises for this lecture
#
# A masked dense layer is the dense layer with its weights multiplied by a
# fixed mask, and the collapse is read off the KL of each unit: write those
# two pieces yourself, then check them (`numvae exercises hint lecture09 NAME`
# gives a hint at a time):
#
# ```bash
# numvae exercises start lecture09 --only dense,kl
# numvae exercises check lecture09
# ```
#
# **Questions.**
#
# 1. Why must the output layer's direct connection from x be *strictly*
#    lower-triangular? What would the model learn if pixel d could see x_d?
# 2. Free bits keep every unit at about λ nats. Is "20 units in use" then a
#    measurement of the model, or of the choice of λ?
#
# **Numerical questions**, graded by `numvae exercises check lecture09 questions`:
# write each answer as a number in the workbook's `questions.py`.
#
# - `freebits_q1`: free bits with λ = 0.5 nats per unit, and a unit's KL is
#   0.2: what does it add to the loss, in nats?
# - `freebits_q2`: the same unit: the gradient of its free-bits term with
#   respect to its KL?
# - `made_q1`: a MADE over 784 pixels in the natural order: how many pixels
#   may the logit of pixel d = 10 (counting from 1) depend on?
