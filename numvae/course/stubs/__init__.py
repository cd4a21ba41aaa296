"""What a student receives: one file per exercise, exactly as ``numvae exercises start`` writes it.

Each ``<exercise>.py`` here is the body of the workbook file (``start`` puts a
title and the command that checks it above it): the imports the student
needs, and each function with its signature, a docstring written for the
student and ``raise NotImplementedError``. A docstring states the forward
formula, the shapes, what to return and everything ``numvae exercises check``
will verify, and not the derivative: that is the student's to find (the graded
hints of :mod:`..hints` help, on request). The lecturer's copy is numvae's own
source, docstrings and all (``start --solutions``).

These files are plain Python, so that a test can import them and compare
their signatures with the engine's.
"""
