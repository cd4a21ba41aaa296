"""The exercises: which functions a student writes, in which file, checked by which properties.

Each exercise is one workbook file ``DIR/<name>.py``. Its functions are
numvae's own (the engine's modules hold them: ``activations``, ``layers``,
``gaussian``, ``likelihoods``, ``optim``, ``evaluate``, ``vae``, ``categorical``,
``m2``), with their
signatures and docstrings (formula, derivative, shapes); their source is the
solution (see :mod:`.workbook`). The properties come from
:mod:`numvae.course.properties`, the same ones ``tests/`` applies to numvae.
"""

import contextlib
from dataclasses import dataclass

from .. import activations, categorical, evaluate, gaussian, layers, likelihoods, m2, optim, vae
from .properties import PropertyFailure
from .properties import activations as PA
from .properties import categorical as PC
from .properties import evaluate as PE
from .properties import gaussian as PG
from .properties import layers as PL
from .properties import likelihoods as PLi
from .properties import m2 as PM2
from .properties import optim as PO
from .swap import swapped


@dataclass(frozen=True)
class Exercise:
    """One workbook file.

    ``functions`` are numvae's own (their source is the solution), ``header``
    the imports the file starts with, ``properties`` what ``check`` verifies,
    in order (fixed cases first, then Hypothesis). The properties check the
    loaded module itself, or, with ``through`` (an engine module), numvae's
    own ``through`` computing with the module's functions (Adam's properties
    run ``numvae.optim.Adam`` on the student's ``adam_step``).
    """

    name: str
    title: str
    functions: tuple
    properties: tuple
    header: str = "import numpy as np\n"
    through: object = None

    @property
    def function_names(self):
        return tuple(f.__name__ for f in self.functions)

    @contextlib.contextmanager
    def implementation(self, module):
        """What the properties check, while they check it: ``module``, or ``through`` running its functions."""
        if self.through is None:
            yield module
            return
        functions = {name: getattr(module, name, None) for name in self.function_names}
        missing = [name for name, f in functions.items() if not callable(f)]
        if missing:
            raise PropertyFailure(f"{missing[0]} is missing", hint="")
        with swapped(functions):
            yield self.through


def _activation(name, *extra, header="import numpy as np\n"):
    return Exercise(
        name, f"{name} and its derivative",
        (getattr(activations, name), getattr(activations, f"{name}_backward")),
        (PA.gradient(name), *extra, PA.large_inputs(name)), header=header,
    )


EXERCISES = (
    _activation("relu", PA.RELU_SUBGRADIENT, PA.RELU_DEFINITION),
    _activation("tanh", PA.TANH_DEFINITION),
    _activation("sigmoid", PA.extremes("sigmoid"), PA.SIGMOID_DEFINITION),
    _activation("softplus", PA.extremes("softplus"), PA.SOFTPLUS_LOGADDEXP, PA.IDENTITIES,
                header="import numpy as np\n\nfrom numvae.activations import sigmoid\n"),
    Exercise("dense", "a Dense layer, forward and backward", (layers.dense_forward, layers.dense_backward),
             (PL.DENSE_DEFINITION, PL.DENSE_GRADIENTS)),
    Exercise("reparameterize", "the reparameterization z = mu + std * eps and its backward",
             (gaussian.reparameterize, gaussian.reparameterize_backward),
             (PG.REPARAMETERIZE_GRADIENTS, PG.REPARAMETERIZE_VALUES, PG.VARIANCE_NOT_SQUARED, PG.SAMPLE_MOMENTS)),
    Exercise("kl", "the KL divergence to N(0, I) and its gradient",
             (gaussian.kl_standard_normal, gaussian.kl_standard_normal_backward),
             (PG.KL_GRADIENTS, PG.KL_AT_PRIOR, PG.KL_NON_NEGATIVE, PG.KL_NON_NEGATIVE_NEAR_PRIOR,
              PG.KL_POSITIVE_AWAY_FROM_PRIOR, PG.KL_NEAR_ZERO, PG.KL_MONTE_CARLO, PG.KL_DTYPE)),
    Exercise("bernoulli", "the Bernoulli negative log-likelihood from logits and its gradient",
             (likelihoods.bernoulli_nll, likelihoods.bernoulli_nll_backward),
             (PLi.BERNOULLI_GRADIENTS, PLi.BERNOULLI_CROSS_ENTROPY, PLi.BERNOULLI_EXTREMES),
             header="import numpy as np\n\nfrom numvae.activations import sigmoid, softplus\n"),
    Exercise("gaussian_nll", "the Gaussian negative log-likelihood and its gradients",
             (likelihoods.gaussian_nll, likelihoods.gaussian_nll_backward),
             (PLi.GAUSSIAN_GRADIENTS, PLi.GAUSSIAN_FIXED_SIGMA_GRADIENT, PLi.GAUSSIAN_SCALAR_LOG_VAR,
              PLi.GAUSSIAN_FAR_MEANS, PLi.GAUSSIAN_DENSITY),
             header="import numpy as np\n\nfrom numvae.gaussian import LOG_2PI\n"),
    Exercise("adam", "one step of Adam", (optim.adam_step,),
             (PO.ADAM_FIRST_STEP, PO.ADAM_ALGORITHM_1, PO.ADAM_QUADRATIC), through=optim),
    Exercise("iw_bound", "log-mean-exp and the importance-weighted bound",
             (evaluate.log_mean_exp, evaluate.iw_bound),
             (PE.LOG_MEAN_EXP_DIRECT, PE.LOG_MEAN_EXP_OVERFLOW, PE.IW_BOUND_EQUAL_WEIGHTS,
              PE.IW_BOUND_DEFINITION, PE.IW_BOUND_JENSEN)),
    Exercise("vae_backward", "the VAE's backward wiring: mu's gradient from two paths",
             (vae.encoder_gradient,), (PL.ENCODER_GRADIENT,)),
    Exercise("softmax_cross_entropy", "a stable softmax, log-softmax and the cross-entropy from logits with its gradient",
             (categorical.log_softmax, categorical.softmax, categorical.cross_entropy, categorical.cross_entropy_backward),
             (PC.CROSS_ENTROPY_GRADIENT, PC.SOFTMAX_ROWS, PC.SOFTMAX_EXTREMES)),
    Exercise("unlabelled_bound", "M2's unlabelled loss, a sum over every class, and its gradient",
             (m2.unlabelled_loss, m2.unlabelled_loss_backward),
             (PM2.UNLABELLED_GRADIENTS, PM2.ONE_HOT_Q, PM2.BOUND_BELOW_EVIDENCE, PM2.BOUND_TIGHT),
             header="import numpy as np\n\nfrom numvae import categorical\n"),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
NAMES = tuple(BY_NAME)


def select(names, what="exercise"):
    """The exercises called ``names`` (all if empty), in catalogue order; unknown names are a ValueError.

    An empty name is unknown: ``check DIR ""`` used to check every exercise.
    """
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"{what}: expected names among {', '.join(NAMES)}, got {unknown[0]!r}")
    return [e for e in EXERCISES if not names or e.name in names]
