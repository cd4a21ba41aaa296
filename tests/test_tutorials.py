"""Run every tutorial end to end in fast mode, as a student would run it.

Each ``tutorials/NN_*.py`` runs in a subprocess with ``NUMVAE_FAST=1`` (few
epochs, small data) from a temporary working directory, writing its figures
to ``NUMVAE_FIGURES_DIR``. numvae is imported from a copy of the package alone,
as if installed: a lecture that reads a file of the repository outside the
package (``scripts/``, say) fails here, as it would for a student who
downloaded it. The test checks that it exits cleanly, that every figure named
in its source (``"NN_name.png"``) was written, and that it wrote nothing
else. A new tutorial is picked up by the glob, with no edit here.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
TUTORIALS_DIR = REPO_DIR / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]_*.py"))
FIGURE_NAME = re.compile(r"""["'](\d\d_[A-Za-z0-9_-]+\.png)["']""")


def test_tutorials_are_found():
    assert TUTORIALS, f"no tutorials matching NN_*.py in {TUTORIALS_DIR}"


@pytest.fixture(scope="module")
def installed_numvae(tmp_path_factory):
    """A folder holding a copy of the numvae package and nothing else of the repository.

    On PYTHONPATH it stands in for an installed numvae. (Which data files a
    non-editable install carries is tests/test_mnist5k.py's built-wheel test.)
    """
    site_packages = tmp_path_factory.mktemp("site-packages")
    shutil.copytree(REPO_DIR / "numvae", site_packages / "numvae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return site_packages


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=[path.stem for path in TUTORIALS])
def test_tutorial_runs_in_fast_mode(tutorial, tmp_path, installed_numvae):
    source = tutorial.read_text(encoding="utf-8")
    number = tutorial.name[:2]
    expected = set(FIGURE_NAME.findall(source))
    assert expected, f"{tutorial.name} names no figure like '{number}_name.png'"
    assert all(name.startswith(number) for name in expected), (
        f"{tutorial.name}: figures must start with its number {number}: {sorted(expected)}")

    figures_dir = tmp_path / "figures"
    env = {
        **os.environ,
        "NUMVAE_FAST": "1",
        "NUMVAE_FIGURES_DIR": str(figures_dir),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(installed_numvae),  # numvae, and no path into the repository
    }
    # The tutorials' matrix products are small; BLAS threads that spin-wait on
    # a busy machine (CI, or pytest-xdist) can make a run ten times slower.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    work_dir = tmp_path / "cwd"  # not the repository: paths must not depend on the cwd
    work_dir.mkdir()
    result = subprocess.run([sys.executable, str(tutorial)], cwd=work_dir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{tutorial.name} exited with {result.returncode}\n--- stderr ---\n{result.stderr[-5000:]}")

    written = {path.name for path in figures_dir.glob("*.png")}
    assert written, f"{tutorial.name} wrote no PNG to NUMVAE_FIGURES_DIR"
    assert expected <= written, f"{tutorial.name} did not write {sorted(expected - written)}"
    assert written <= expected, f"{tutorial.name} wrote figures its source does not name: {sorted(written - expected)}"
    for name in written:
        assert (figures_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
    assert not list(work_dir.iterdir()), f"{tutorial.name} wrote into the working directory"
