"""The bug zoo: named classic mistakes, and the three kinds of check that may catch them.

Each :class:`Mutant` replaces one or two functions of one exercise with the
variants in :mod:`.mutants`. :func:`static_checks` runs the exercise's
properties on it, split into the gradient checks (a backward against central
differences of *its own* forward) and the properties of the mathematics;
:func:`training_runs` trains numvae's own VAE for a short while on mnist5k
with the mutant swapped in (:mod:`.swap`) and judges the result with numvae's
own loss; a mutant of M2's unlabelled bound, which a VAE never calls, trains
M1+M2 instead and is judged by its test error. A mistake made consistently in
a forward and its backward passes the gradient check: only a property catches it.
"""

import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .properties import PropertyFailure, verify
from . import mutants
from .catalog import BY_NAME, EXERCISES
from .swap import swapped


@dataclass(frozen=True)
class Mutant:
    name: str
    exercise: str
    replaces: tuple  # names of the functions replaced, each by mutants.<name>__<mutant name>
    seen: str  # where the mistake is seen in the wild

    def functions(self):
        return {f: getattr(mutants, f"{f}__{self.name}") for f in self.replaces}


ZOO = (
    Mutant("std_exp_log_var", "reparameterize", ("reparameterize", "reparameterize_backward"),
           "numpy-ml's VAE samples with std = exp(log_var) while its KL reads log_var as log σ²"),
    Mutant("missing_half", "reparameterize", ("reparameterize_backward",),
           "hand-derived backward passes: d exp(½ t)/dt = ½ exp(½ t) loses its ½"),
    Mutant("fresh_noise", "reparameterize", ("reparameterize_backward",),
           "backward passes that call np.random again instead of keeping the forward's eps"),
    Mutant("sign_flipped", "kl", ("kl_standard_normal", "kl_standard_normal_backward"),
           "KL written as ½Σ(1 + log σ² − μ² − σ²), the ELBO's term, then added to a loss to minimise"),
    Mutant("bias_mean", "dense", ("dense_backward",),
           "a batch-mean loss whose 1/B is applied twice, once more in d_b"),
    Mutant("naive_softplus", "softplus", ("softplus",), "log(1 + exp(x)) from the textbook, overflowing at x > 709"),
    Mutant("naive_sigmoid", "sigmoid", ("sigmoid",), "1/(1 + exp(−x)) from the textbook, overflowing at x < −709"),
    Mutant("tanh_of_input", "tanh", ("tanh_backward",), "1 − tanh² applied to the cached input instead of the output"),
    Mutant("kl_path_forgotten", "vae_backward", ("encoder_gradient",),
           "a backward pass that sends the decoder's gradient to mu and forgets the KL's"),
    Mutant("no_bias_correction", "adam", ("adam_step",),
           "Adam from memory: m and v without the 1/(1 − ρᵗ) corrections (RMSprop with momentum)"),
    Mutant("no_log_2pi", "gaussian_nll", ("gaussian_nll",),
           "MSE-style Gaussian losses: fine for training, wrong as a log-likelihood in nats"),
    Mutant("pixel_mean", "bernoulli", ("bernoulli_nll", "bernoulli_nll_backward"),
           "F.binary_cross_entropy's default reduction='mean': an implicit β of 784"),
    Mutant("sigmoid_output", "bernoulli", ("bernoulli_nll", "bernoulli_nll_backward"),
           "a Sigmoid after the decoder's last layer, followed by BCEWithLogitsLoss"),
    Mutant("log_sum_exp", "iw_bound", ("log_mean_exp",),
           "the IW bound computed with logsumexp: log p(x) overstated by log K"),
    Mutant("entropy_forgotten", "unlabelled_bound", ("unlabelled_loss", "unlabelled_loss_backward"),
           "M2's unlabelled term written as the expected labelled loss Σ_y q(y|x) L(x, y), its + H(q(y|x)) dropped"),
    Mutant("argmax", "unlabelled_bound", ("unlabelled_loss", "unlabelled_loss_backward"),
           "pseudo-labelling: the classifier's most probable class used as the label, instead of the sum over y"),
    Mutant("alpha_on_unlabelled", "unlabelled_bound", ("unlabelled_loss", "unlabelled_loss_backward"),
           "J = L + α(−log q(y|x) + U): α's parentheses around the unlabelled bound too (α = 10, the zoo's M1+M2 and lecture 14's M2 on pixels)"),
)
BY_MUTANT = {m.name: m for m in ZOO}


def workbook(mutant):
    """A workbook file as the checker loads it, with the mutant inside: numvae's solutions, the mutant's functions."""
    solutions = {f.__name__: f for exercise in EXERCISES for f in exercise.functions}
    return SimpleNamespace(**{**solutions, **mutant.functions()})


def mutant_source(mutant):
    """The mutant's functions as a student would have written them (renamed to their targets)."""
    return "\n\n".join(inspect.getsource(f).replace(f"def {f.__name__}(", f"def {target}(", 1)
                        for target, f in mutant.functions().items())


def place_in_workbook(mutant, directory):
    """Write the solution of the mutant's exercise into ``directory``, with the mutant redefining its functions."""
    from .workbook import write_workbook

    write_workbook(directory, [BY_NAME[mutant.exercise]], solutions=True)
    path = Path(directory) / f"{mutant.exercise}.py"
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{text}\n\n# The bug zoo's '{mutant.name}': {mutant.seen}\n\n{mutant_source(mutant)}",
                    encoding="utf-8")
    return path


def is_gradient_check(prop):
    return "central differences" in prop.name


def static_checks(mutant, settings=None):
    """{"gradient check": failure or None, "properties": failure or None} for one mutant.

    Each value is the first :class:`PropertyFailure` of that kind (None: not caught).
    """
    exercise = BY_NAME[mutant.exercise]
    found = {"gradient check": None, "properties": None}
    with exercise.implementation(workbook(mutant)) as impl:
        for prop in exercise.properties:
            kind = "gradient check" if is_gradient_check(prop) else "properties"
            if found[kind] is not None:
                continue
            try:
                with np.errstate(all="ignore"):
                    verify(prop, impl, settings=settings)
            except PropertyFailure as failure:
                found[kind] = failure
    return found


M2_EXERCISES = ("unlabelled_bound",)
"""Exercises only M2 calls: their mutants' training run is one of M1+M2, not of a VAE."""

LABELS_PER_CLASS = 10
"""Labelled training images of each class in the M1+M2 runs, as ``numvae semi``'s default."""


def _settings_for(mutant):
    """The training run that exercises the mutated function: its model, activation and likelihood."""
    if mutant.exercise in M2_EXERCISES:
        return "m1m2", "relu", None
    activation = mutant.exercise if mutant.exercise in ("tanh", "sigmoid", "softplus") else "relu"
    likelihood = "gaussian" if mutant.exercise == "gaussian_nll" else "bernoulli"
    return "vae", activation, likelihood


def train_once(x_train, x_test, functions, activation, likelihood, epochs, hidden, seed):
    """Test loss (numvae's own −ELBO, nats) after training numvae's VAE computing with ``functions`` (name -> function)."""
    from ..evaluate import elbo_terms
    from ..training.trainer import TrainConfig, Trainer, TrainingDiverged
    from ..vae import VAE

    kwargs = dict(input_dim=x_train.shape[1], hidden_dims=hidden, latent_dim=2, likelihood=likelihood,
                  activation=activation, sigma=0.1 if likelihood == "gaussian" else None, dtype=np.float32, seed=seed)
    with swapped(functions):
        model = VAE(**kwargs)
        trainer = Trainer(model, x_train, None, TrainConfig(epochs=epochs, seed=seed))
        try:
            with np.errstate(all="ignore"):
                trainer.fit()
        except TrainingDiverged:
            return math.inf
    judge = VAE(**kwargs)  # numvae's own functions judge the trained parameters (model keeps its activation)
    for name, p in judge.parameters().items():
        p[...] = model.parameters()[name]
    with np.errstate(all="ignore"):
        loss = elbo_terms(judge, x_test, np.random.default_rng(seed))["loss"]
    return loss if math.isfinite(loss) else math.inf


def m1m2_error_once(m1m2, x_labelled, y_labelled, x_unlabelled, x_test, y_test, functions):
    """Test error in percent of ``m1m2`` (its VAE trained) after training its M2 computing with ``functions``.

    numvae's own functions judge: ``predict`` runs outside :func:`.swap.swapped`.
    A run whose loss stops being finite has an infinite error.
    """
    try:
        with swapped(functions), np.errstate(all="ignore"):
            m1m2.fit_m2(x_labelled, y_labelled, x_unlabelled)
    except FloatingPointError:
        return math.inf
    return 100 * float(np.mean(m1m2.predict(x_test) != y_test))


def training_runs(mutant_list, x_train, x_test, epochs=1, hidden=(64,), seeds=(0, 1, 2), margin=1.0,
                  y_train=None, y_test=None):
    """Train every mutant and numvae's own functions from each of ``seeds``, and compare them seed by seed.

    The comparison is paired: a mutant and numvae trained from the same seed
    start from the same weights and see the same batches and noise, so their
    difference is the mutant's effect, without the seed-to-seed spread of
    either. A mutant is caught when it ends worse than numvae by more than
    ``margin`` on every seed (a diverged or non-finite run is infinitely
    worse): ``margin`` nats of test loss, or, for M2's mutants, ``margin``
    points of test error.

    M2's mutants train M1+M2 (lecture 14): a VAE with ``hidden`` and 50-dimensional
    codes on ``x_train`` for ``epochs``, then M2 on its codes for ``epochs``, with
    ``LABELS_PER_CLASS`` labels of each class of ``y_train`` drawn by the seed.
    The VAE never calls their function: it is trained once per seed, and
    numvae's M2 and each mutant's start from it.

    Returns
    -------
    results : dict
        ``results[name] = (mutant's, numvae's)``, one per seed: test losses in
        nats, or for M2's mutants test errors in percent of ``y_test``.
    caught : dict
        ``caught[name]`` is True when every paired difference exceeds ``margin``.
    """
    from ..training.semi import M1M2, draw_labelled

    if y_train is None and any(m.exercise in M2_EXERCISES for m in mutant_list):
        raise ValueError("y_train: M2's mutants train M1+M2, which needs the labels y_train and y_test, got None")
    m1_by_seed = {}

    def run(settings, functions, seed):
        model, activation, likelihood = settings
        if model == "vae":
            return train_once(x_train, x_test, functions, activation, likelihood, epochs, hidden, seed)
        if seed not in m1_by_seed:
            m1_by_seed[seed] = M1M2(m1_hidden_dims=hidden, m1_epochs=epochs, m2_hidden_dims=hidden, m2_epochs=epochs,
                                    alpha=mutants.ALPHA, seed=seed).fit_m1(x_train)  # the α alpha_on_unlabelled puts on u
        labelled = draw_labelled(y_train, LABELS_PER_CLASS, np.random.default_rng(seed))
        return m1m2_error_once(m1_by_seed[seed], x_train[labelled], y_train[labelled], x_train, x_test, y_test,
                               functions)

    references, results, caught = {}, {}, {}
    for mutant in mutant_list:
        settings = _settings_for(mutant)
        if settings not in references:
            references[settings] = [run(settings, {}, s) for s in seeds]
        values = [run(settings, mutant.functions(), s) for s in seeds]
        results[mutant.name] = (values, references[settings])
        caught[mutant.name] = all(m - r > margin for m, r in zip(values, references[settings]))
    return results, caught
