"""The course around the engine: exercises, the properties that grade them, and the bug zoo.

A layer above the engine: no math module imports it.

* :mod:`.properties` — the mathematical properties the tests, the exercise checker and the zoo apply

* :mod:`.catalog`   — the exercises: functions to write, and the properties that grade them
* :mod:`.workbook`  — writing a workbook (stubs, or solutions read from numvae's own source)
* :mod:`.checker`   — grading a workbook, one line per exercise
* :mod:`.isolated`  — the grading run in a child process, so a student's os._exit() or segfault is a FAIL
* :mod:`.swap`      — numvae's own VAE and Adam computing with a student's (or a mutant's) functions
* :mod:`.mutants`, :mod:`.zoo` — classic mistakes, and which check catches which
* :mod:`.cli`       — ``numvae exercises start|check|train``
* :mod:`.lecture`   — the lectures' plumbing: fast mode, where figures go
* ``data/``         — measurements a lecture reads rather than recomputes (``collapse_runs.jsonl``:
  lecture 09's §4, written by ``scripts/measure_collapse.py``); shipped in the package, so a lecture
  downloaded alone finds them
"""
