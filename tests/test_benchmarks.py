"""The benchmark scripts refuse bad arguments and missing data with a message, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script, *args, tmp_path):
    env = {**os.environ, "NUMVAE_DATA": str(tmp_path)}  # an empty directory: no IDX files anywhere
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


POSITIVE, NON_NEGATIVE = "expected a positive integer", "expected a non-negative integer"


@pytest.mark.parametrize("script, flag, value, expected", [
    ("bench_vs_torch.py", "--epochs", "0", POSITIVE),
    ("bench_vs_torch.py", "--threads", "-2", POSITIVE),
    ("bench_vs_torch.py", "--threads", "two", POSITIVE),
    ("bench_threads.py", "--rounds", "0", POSITIVE),
    ("bench_threads.py", "--spinners", "-1", NON_NEGATIVE),
    ("profile_epoch.py", "--threads", "0", POSITIVE),
    ("profile_epoch.py", "--top", "-5", POSITIVE),
])
def test_a_bad_count_is_refused_naming_the_flag(script, flag, value, expected, tmp_path):
    # The scripts use the command line's own argument types (numvae.cli.common).
    done = run(script, flag, value, tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert flag in last and expected in last and value in last, last


@pytest.mark.parametrize("script", ["bench_vs_torch.py", "profile_epoch.py"])
def test_missing_data_is_a_message_not_a_traceback(script, tmp_path):
    done = run(script, "--data", "mnist", tmp_path=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{script}: mnist:"), done.stderr
    assert str(tmp_path) in done.stderr  # it says where it looked


def test_profile_epoch_refuses_a_row_count_for_the_views_that_have_no_rows(tmp_path):
    done = run("profile_epoch.py", "--lines", "--top", "3", tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--top" in done.stderr.strip().splitlines()[-1]
