"""Build the course site: ``python docs/build.py OUTDIR [--fast] [--jobs N]``.

1. Every ``tutorials/NN_*.py`` is read as a notebook and executed in a fresh
   kernel (``--fast`` sets ``NUMVAE_FAST=1``: few epochs and small data, as
   in CI), ``--jobs`` of them at a time. A lecture that fails fails the
   build, with its traceback.
2. The home page, the exercises page and the API reference are generated
   from README.md, tutorials/README.md and the ``numvae`` package
   (``docs/pages.py``).
3. Sphinx renders it all with ``docs/conf.py`` into OUTDIR, treating every
   warning as an error (a broken link or image fails the build).

Everything is staged in a temporary folder: the build writes nothing into
the repository (the lectures' figures go to the staging folder, not to
``figures/``). The site is built next to OUTDIR and moved into place at the
end, so a failed build leaves the previous site as it was; so does Ctrl-C
or SIGTERM, which also shuts the running kernels down. While a build runs,
it holds a lock on ``.OUTDIR.lock`` next to OUTDIR, and a second build into
the same OUTDIR is refused; a build killed outright (SIGKILL) leaves its
folders, which the next build into the same OUTDIR removes. Needs the ``site`` extra:
``pip install -e ".[site]"``.
"""

import os
import signal
import sys


def stopped_while_loading(signum, frame):
    """Ctrl-C or SIGTERM while the modules load (nothing is written yet): one line, not an import's traceback."""
    name, status = ("interrupted", 130) if signum == signal.SIGINT else ("terminated", 143)
    os.write(2, f"docs/build.py: {name}; OUTDIR is as it was before the build\n".encode())
    os._exit(status)


if __name__ == "__main__":  # main() puts Ctrl-C back to KeyboardInterrupt, SIGTERM to Terminated
    for _signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(_signum) is not signal.SIG_IGN:  # a build started with nohup, or in the background
            signal.signal(_signum, stopped_while_loading)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent
sys.path.insert(0, str(DOCS_DIR))

import notebooks  # noqa: E402  (docs/ is not a package)
import pages  # noqa: E402
from execute import execute_all  # noqa: E402
from guards import (NO_ROOM, STOP_SIGNALS, BuildError, Terminated, ignore_stop_signals,  # noqa: E402
                    one_build_at_a_time, outdir_error, outdir_full, raise_terminated, room_in_tmpdir)

SITE_MODULES = ["sphinx", "myst_nb", "jupytext", "nbclient", "ipykernel", "numpydoc", "furo",
                "sphinx-mathjax-offline"]
FAST_NOTE = ("This copy of the site was built in **fast mode** (`NUMVAE_FAST=1`): the lectures ran "
             "with few epochs and small data, so their numbers and figures are placeholders.")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python docs/build.py", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path, help="folder to write the site into (created or replaced)")
    parser.add_argument("--fast", action="store_true", help="run the lectures with NUMVAE_FAST=1 (as CI does)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="lectures executed at a time (default: 2, or 1 on one core)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take (default 900)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise BuildError(f"--jobs: expected a positive integer, got {args.jobs}")
    if args.timeout < 1:
        raise BuildError(f"--timeout: expected a positive integer, got {args.timeout}")
    return args


def check_outdir(outdir):
    """OUTDIR must be absent, empty, or a previous site build (it is replaced)."""
    if outdir.exists() and not outdir.is_dir():
        raise BuildError(f"OUTDIR: expected a folder, got a file: {outdir}")
    here = Path.cwd().resolve()
    if outdir == here or outdir in here.parents:  # replaced: the shell would be left in a deleted folder
        raise BuildError(f"OUTDIR: expected a folder outside the current folder {here} (OUTDIR is replaced, "
                         f"which would leave the shell in a deleted folder), got {outdir}")
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / ".buildinfo").exists():
        raise BuildError(f"OUTDIR: expected an empty folder or a previous site build (with .buildinfo), "
                         f"got a non-empty folder: {outdir}")


def check_site_extra():
    missing = [name for name in SITE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise BuildError(f"the site extra is not installed (missing {', '.join(missing)}): "
                         'run pip install -e ".[site]"')


def lecture_environment(fast):
    """The environment the kernels inherit: fast mode, figures in the staging folder, numvae from this repository."""
    env = dict(os.environ)
    env.pop("NUMVAE_FAST", None)
    if fast:
        env["NUMVAE_FAST"] = "1"
    env["NUMVAE_FIGURES_DIR"] = "figures"  # relative to the kernel's folder, so the pages print a short path
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_DIR), str(REPO_DIR / "tutorials")]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices; BLAS threads only spin against each other
    env.pop("MPLBACKEND", None)  # the kernel's inline backend
    return env


def write_pages(lectures, figures_dir, staging, fast):
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    tutorials_readme_path = REPO_DIR / "tutorials" / "README.md"
    tutorials_readme = tutorials_readme_path.read_text(encoding="utf-8") if tutorials_readme_path.exists() else ""
    generated = staging / "_generated"
    rows = pages.lecture_rows(tutorials_readme)
    entries = []
    for path in lectures:
        title = notebooks.lecture_title(notebooks.read_lecture(path))
        # The thumbnail tutorials/README.md chose, else the lecture's first figure, as this build drew it.
        candidates = [rows.get(path.stem, (None, None))[1]] + notebooks.lecture_figures(path)
        thumbnail = next((f"_run/figures/{name}" for name in candidates if name and (figures_dir / name).is_file()),
                         None)
        entries.append((path.stem, title, thumbnail))
    blocks = {
        "intro": pages.intro(readme, REPO_DIR, generated),
        "mode": FAST_NOTE if fast else "",
        "lectures": pages.lecture_list(entries, rows),
        "notation": pages.notation(tutorials_readme),
        "lecture-toctree": "\n".join(f"lectures/{stem}" for stem, _, _ in entries),
        "bug-zoo": pages.bug_zoo(entries),
        "classroom": pages.classroom([tutorials_readme, readme], [REPO_DIR / "tutorials", REPO_DIR], generated),
    }
    for name in ["index.md", "exercises.md"]:
        template = (DOCS_DIR / name).read_text(encoding="utf-8")
        (staging / name).write_text(pages.fill(template, blocks), encoding="utf-8")
    pages.write_api(staging / "api", pages.module_names())


def run_sphinx(staging, partial, env):
    """Render ``staging`` into ``partial/html``, its doctrees into ``partial``: Sphinx writes nowhere else.

    Its messages are captured, then shown, except when a disk or quota filled
    up: that is a crash report of fifty lines (and a log of it in TMPDIR),
    which becomes one line.
    """
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-E",
               "-c", str(DOCS_DIR), "-d", str(partial / "doctrees"), str(staging), str(partial / "html")]
    if sys.stderr.isatty():
        command.append("--color")
    result = subprocess.run(command, env=env, stderr=subprocess.PIPE, encoding="utf-8", errors="replace")
    full = [message for message in NO_ROOM.values() if message in result.stderr]
    if result.returncode != 0 and full:
        for log in re.findall(r"\S*sphinx-err-\w+\.log", result.stderr):  # named in the report no one sees
            Path(log).unlink(missing_ok=True)
        raise outdir_full(partial.parent, full[0])
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise BuildError(f"sphinx-build failed with exit status {result.returncode} (its messages are above)")


def build(args):
    check_site_extra()
    outdir = args.outdir.resolve()
    check_outdir(outdir)
    lectures = notebooks.find_lectures(REPO_DIR / "tutorials")
    if not lectures:
        raise BuildError(f"tutorials: expected lectures named NN_*.py in {REPO_DIR / 'tutorials'}, got none")
    env = lecture_environment(args.fast)
    os.environ.clear()  # the kernels are started by this process: they inherit os.environ
    os.environ.update(env)
    start = time.perf_counter()
    with one_build_at_a_time(outdir) as record:
        render(lectures, outdir, env, args, record)
    print(f"site written to {outdir} in {time.perf_counter() - start:.0f} s: open {outdir / 'index.html'}")


def render(lectures, outdir, env, args, record):
    """Execute the lectures, write the pages, render the site next to OUTDIR and move it into place.

    ``record(folder)`` is called with each folder made, so that the next build removes them if this one is
    killed outright (SIGKILL).
    """
    # The folder Sphinx writes into, next to OUTDIR so that the site is moved into place by a rename.
    # Sphinx renders into its html/, since MyST-NB writes a jupyter_execute/ beside the folder Sphinx
    # renders into: not next to OUTDIR.
    try:
        partial = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.partial-", dir=outdir.parent))
    except OSError as error:
        raise outdir_error(outdir, error) from error
    record(partial)
    staging = sockets = None
    try:
        with room_in_tmpdir():
            staging = Path(tempfile.mkdtemp(prefix="numvae-site-"))
            record(staging)
            sockets = Path(tempfile.mkdtemp(prefix="numvae-", dir=notebooks.SOCKET_PARENT))
            record(sockets)
            count = len(lectures)
            print(f"executing {count} lecture{'' if count == 1 else 's'} ({'fast' if args.fast else 'full'} mode, "
                  f"{min(args.jobs, count)} at a time)", flush=True)
            figures_dir = execute_all(lectures, staging, args, sockets)
            try:
                write_pages(lectures, figures_dir, staging, args.fast)
            except ValueError as error:  # a README that names a missing image, say
                raise BuildError(str(error)) from error
        print("rendering with Sphinx", flush=True)
        run_sphinx(staging, partial, env)
        ignore_stop_signals()  # the site is whole: from here on, only renames and clean-up
        if outdir.exists():  # renamed away, not deleted: OUTDIR is never half a site
            outdir.rename(partial / "previous")
        (partial / "html").rename(outdir)
    except BaseException:
        ignore_stop_signals()  # stopped or failed: clean up
        raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        for folder in [staging, sockets]:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    signal.signal(signal.SIGTERM, raise_terminated)
    if previous[signal.SIGINT] is stopped_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        build(parse_args(argv))
    except BuildError as error:
        print(f"docs/build.py: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("docs/build.py: interrupted; OUTDIR is as it was before the build", file=sys.stderr)
        return 130
    except Terminated:
        print("docs/build.py: terminated; OUTDIR is as it was before the build", file=sys.stderr)
        return 143
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
