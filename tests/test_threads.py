"""The BLAS thread policy: the user's choice wins, else the cores nobody else uses."""

import subprocess
import sys
import time

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from numvae.training import threads


def _blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize("value", ["0", "-1", "two", "", "1.5", "²"])
def test_numvae_num_threads_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match=f"NUMVAE_NUM_THREADS: expected a positive integer, got {value!r}"):
        threads.choose_blas_threads({"NUMVAE_NUM_THREADS": value})


def test_a_thread_count_beyond_what_blas_takes_is_refused_by_name():
    # BLAS takes a C int: 2**64 made threadpoolctl raise ctypes.ArgumentError, 2**32 wrapped round to 0.
    for value in [str(2**31), str(2**64)]:
        with pytest.raises(ValueError, match=f"NUMVAE_NUM_THREADS: expected a positive integer at most "
                                             f"{threads.MAX_THREADS:,} .*, got {value!r}"):
            threads.choose_blas_threads({"NUMVAE_NUM_THREADS": value})
    assert threads.choose_blas_threads({"NUMVAE_NUM_THREADS": str(threads.MAX_THREADS)})[0] == threads.MAX_THREADS


def test_numvae_num_threads_wins_over_everything():
    env = {"NUMVAE_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "1"}
    assert threads.choose_blas_threads(env) == (3, "NUMVAE_NUM_THREADS")


@pytest.mark.parametrize("name", threads.BLAS_VARIABLES)
def test_a_blas_variable_leaves_blas_alone(name, monkeypatch):
    monkeypatch.setattr(threads, "busy_cores", lambda: pytest.fail("should not look at the load"))
    assert threads.choose_blas_threads({name: "2"}) == (None, name)


@pytest.mark.parametrize("busy, expected", [(0, 4), (1, 3), (3, 1), (4, 1), (9, 1)])
def test_only_the_cores_other_programs_leave_free(busy, expected, monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda: busy)
    chosen, reason = threads.choose_blas_threads({})
    assert chosen == expected
    assert f"{busy} busy" in reason


def test_unknown_load_uses_every_core(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda: None)
    assert threads.choose_blas_threads({})[0] == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/loadavg is Linux's")
def test_a_spinning_process_counts_as_busy():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        during = threads.busy_cores(samples=9)
    finally:
        spinner.kill()
        spinner.wait()
    assert during is not None and during >= 1


def test_set_blas_threads_applies_the_choice():
    with threadpool_limits(limits=None):  # restore the original limits afterwards
        assert threads.set_blas_threads({"NUMVAE_NUM_THREADS": "1"}) == (1, "NUMVAE_NUM_THREADS")
        assert _blas_threads() and set(_blas_threads()) == {1}
