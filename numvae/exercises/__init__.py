"""Self-grading exercises and the bug zoo: a layer above the engine (no engine module imports it).

* :mod:`.catalog`   — the exercises: functions to write, and the properties that grade them
* :mod:`.workbook`  — writing a workbook (stubs, or solutions read from numvae's own source)
* :mod:`.checker`   — grading a workbook, one line per exercise
* :mod:`.isolated`  — the grading run in a child process, so a student's os._exit() or segfault is a FAIL
* :mod:`.reference` — pure-function forms of Dense, Adam, the IW bound and the encoder wiring
* :mod:`.model`     — a VAE and an Adam computed by a given set of functions
* :mod:`.mutants`, :mod:`.zoo` — classic mistakes, and which check catches which
* :mod:`.cli`       — ``numvae exercises start|check|train``
"""
