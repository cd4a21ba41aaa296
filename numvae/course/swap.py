"""Running numvae's own ``VAE`` and ``Adam`` on other functions: a student's, or a mutant's.

The engine calls its math through module attributes (``layers.dense_forward``,
``gaussian.reparameterize``, ``optim.adam_step``, ...) and builds each
activation layer from ``activations.ACTIVATIONS``. :func:`swapped` puts given
functions in their place, in every engine module that holds them, and puts
numvae's own back on exit; a model built and trained inside it computes with
the given functions. This is how ``numvae exercises train`` trains on a
student's code and the bug zoo on a mutant, with the one ``numvae.VAE``.

An ``Activation`` takes its pair of functions when it is built: build the
model inside :func:`swapped`, and do not use it outside to judge the functions
(build a fresh one for that).

The engine unpacks what some functions return (``d_W, d_b, d_x = ...``); a
given function whose result is not that tuple is wrapped to say so, naming
the function, instead of Python's "not enough values to unpack". The engine
itself checks nothing of the kind. Its optimizer steps update their arrays in
place and the engine ignores what they return; a given step may instead
return new arrays (as Algorithm 1 reads), which the wrapper writes into the
arrays it was given.
"""

import contextlib
import functools

from .. import activations, categorical, evaluate, gaussian, layers, likelihoods, m2, optim, vae
from .properties.core import kind

MODULES = (activations, layers, gaussian, likelihoods, vae, optim, evaluate, categorical, m2)
"""The engine modules whose functions may be swapped, in reading order."""

RETURNS = {
    "dense_backward": ("d_W", "d_b", "d_x"),
    "reparameterize": ("z", "std"),
    "reparameterize_backward": ("d_mu", "d_log_var"),
    "kl_standard_normal_backward": ("d_mu", "d_log_var"),
    "gaussian_nll_backward": ("d_mean", "d_log_var"),
    "sgd_momentum_step": ("param", "velocity"),
    "adam_step": ("param", "m", "v"),
}
"""The functions whose result the engine unpacks (or, for the steps, uses), and the names of what they return."""

IN_PLACE = {"sgd_momentum_step": (0, 2), "adam_step": (0, 2, 3)}
"""The steps the engine calls for their effect on their arguments: the argument each returned array belongs in."""

ARGUMENTS = {"dense_backward": 3}
"""Functions the engine calls with more arguments than the exercise asks for, and how many the exercise asks for:
``dense_backward``'s ``need_d_x`` only spares the first layer a product; a given function computes ``d_x`` anyway."""


def engine_function(name):
    """numvae's own function ``name``, from the module that defines it; ValueError if there is none."""
    for module in MODULES:
        function = vars(module).get(name)
        if callable(function) and getattr(function, "__module__", None) == module.__name__:
            return function
    raise ValueError(f"functions: expected names of numvae's functions, got {name!r}")


def returning_the_tuple(name, function):
    """``function``, wrapped to raise ValueError unless it returns the tuple :data:`RETURNS` names for ``name``.

    For a step of :data:`IN_PLACE`, each returned array is also written into
    its argument, unless it is that argument already.
    """
    names = RETURNS.get(name)
    if names is None:
        return function

    @functools.wraps(function)
    def checked(*args):
        result = function(*args[: ARGUMENTS.get(name, len(args))])
        if not (isinstance(result, (tuple, list)) and len(result) == len(names)):
            raise ValueError(f"{name} must return the tuple ({', '.join(names)}), got {kind(result)}")
        for position, value in zip(IN_PLACE.get(name, ()), result):
            if value is not args[position]:
                args[position][...] = value
        return result

    return checked


@contextlib.contextmanager
def swapped(functions):
    """Inside, numvae's engine computes with ``functions`` (name -> function) in place of its own.

    Every engine module attribute that is numvae's function of that name (the
    defining module's, and the names other modules imported, such as
    ``likelihoods.sigmoid``) and every ``activations.ACTIVATIONS`` pair that
    holds it is replaced; all are restored on exit, however it is left.
    """
    originals = {engine_function(name): returning_the_tuple(name, f) for name, f in functions.items()}
    undo = []
    try:
        for module in MODULES:
            for attribute, value in list(vars(module).items()):
                if callable(value) and value in originals:
                    undo.append((module, attribute, value))
                    setattr(module, attribute, originals[value])
        for name, pair in list(activations.ACTIVATIONS.items()):
            if any(f in originals for f in pair):
                undo.append((activations.ACTIVATIONS, name, pair))
                activations.ACTIVATIONS[name] = tuple(originals.get(f, f) for f in pair)
        yield
    finally:
        for target, key, value in reversed(undo):
            if isinstance(target, dict):
                target[key] = value
            else:
                setattr(target, key, value)
