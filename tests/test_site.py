"""The course site: built in fast mode, then opened page by page in headless Chromium.

``python docs/build.py OUT --fast`` runs as the README documents it; the
built folder is served on 127.0.0.1 and every page is opened in Debian's
Chromium: no console error, no failed request, no request leaving the
machine, every image decoded, math typeset, every internal link resolving;
and, at a projector's 1280x720, no display equation wider than its column.
Hand-made broken pages show that each of these checks can fail, and a
fake repository with a broken lecture shows that a failing lecture fails
the build.

Without the ``site`` extra or without Chromium the tests are skipped, with
the reason; under ``CI=true`` (``.ci/run`` installs both) they fail instead.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_DIR / "docs"
sys.path.insert(0, str(DOCS_DIR))

import browser  # noqa: E402  (docs/ is not a package)
import docstrings  # noqa: E402
import notebooks  # noqa: E402
import pages  # noqa: E402

SITE_MODULES = ["sphinx", "myst_nb", "jupytext", "nbclient", "ipykernel", "numpydoc", "furo",
                "sphinx-mathjax-offline", "selenium"]
LECTURES = notebooks.find_lectures(REPO_DIR / "tutorials")


def unavailable(reason):
    """Skip with ``reason``; under CI=true, where .ci/run installs everything, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs it, so the site test must run)")
    pytest.skip(reason)


def require_site_extra():
    missing = [name for name in SITE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        unavailable(f"the site extra is not installed (missing {', '.join(missing)}): pip install -e \".[site]\"")


def build_env(**extra):
    """The environment a build runs in: this one, with ``extra`` and this repository's numvae first on the path."""
    return {**os.environ, **extra,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")]))}


def appears(path, seconds):
    """Whether ``path`` exists within ``seconds`` (a process under test is to make it)."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.exists()


def run_build(docs_dir, outdir, *options, timeout=1800, cwd=None, **extra_env):
    return subprocess.run([sys.executable, str(docs_dir / "build.py"), str(outdir), *options],
                          env=build_env(**extra_env), cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_site_extra()
    from numvae.data.datasets import DataUnavailableError, load_dataset

    try:
        load_dataset("mnist5k")  # what most lectures train on
    except DataUnavailableError as error:
        unavailable(f"the lectures need the mnist5k digits: {error}")
    outdir = tmp_path_factory.mktemp("site") / "html"
    result = run_build(DOCS_DIR, outdir, "--fast")
    assert result.returncode == 0, f"the site build failed\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return outdir


@pytest.fixture(scope="module")
def browsed(site):
    """``(reports, base_url, problems)``: every page opened in Chromium."""
    try:
        browser.find_binaries()
    except browser.BrowserUnavailable as error:
        unavailable(str(error))
    reports, problems = {}, []
    with browser.serve(site) as base_url, browser.chromium() as driver:
        for page in browser.site_pages(site):
            page_problems, reports[page] = browser.check_page(driver, base_url + page, base_url)
            problems += [f"{page}: {problem}" for problem in page_problems]
    return reports, base_url, problems


def test_lectures_are_found():
    assert LECTURES, "no tutorials/NN_*.py"


def test_the_build_writes_nothing_next_to_outdir(site):
    """MyST-NB writes a jupyter_execute/ next to the folder Sphinx renders into: it was left next to OUTDIR
    (in the repository, for the README's ``python docs/build.py site``)."""
    assert sorted(path.name for path in site.parent.iterdir()) == [site.name]


def test_every_lecture_has_a_page_and_a_card_with_a_thumbnail(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'<div class="lecture-card[^"]*">(.*?)</div>', home, re.S)
    assert len(cards) == len(LECTURES), f"{len(cards)} lecture cards on the home page for {len(LECTURES)} lectures"
    for path, card in zip(LECTURES, cards):
        assert (site / "lectures" / f"{path.stem}.html").is_file(), f"no page for {path.name}"
        assert f'href="lectures/{path.stem}.html"' in card, f"the card of {path.name} does not link to its page"
        assert "<img" in card, f"the card of {path.name} has no thumbnail"


def test_home_page_has_the_readme_commands_and_the_notation_table(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", home)  # highlighted code is split into spans
    assert "numvae train" in text and "python -m pytest" in text, "the home page lacks README's two commands"
    tutorials_readme = (REPO_DIR / "tutorials" / "README.md").read_text(encoding="utf-8")
    section = pages.find_section(tutorials_readme, "notation")
    if section is None:
        assert "has no notation section yet" in text
    else:
        rows = [line for line in section[2].splitlines() if line.startswith("|") and "---" not in line]
        assert rows and home.count("<tr") >= len(rows), "the notation table is not on the home page"


def test_exercises_page_links_the_bug_zoo_lecture_when_there_is_one(site):
    text = (site / "exercises.html").read_text(encoding="utf-8")
    zoo = [path for path in LECTURES if "bug_zoo" in path.stem]
    if zoo:
        assert f'href="lectures/{zoo[0].stem}.html"' in text, "the exercises page does not link the bug zoo lecture"
    else:
        assert "is not in the course yet" in text


def test_api_reference_documents_every_module(site):
    for name in pages.module_names():
        page = site / "api" / f"{name}.html"
        assert page.is_file(), f"no API page for {name}"
        first_line = (importlib.import_module(name).__doc__ or "").strip().splitlines()[0]
        words = re.findall(r"[A-Za-z]{4,}", first_line)[:3]
        text = page.read_text(encoding="utf-8")
        assert all(word in text for word in words), f"{page.name} does not show the docstring of {name}"


def test_a_reexported_function_is_documented_once_and_linked_from_the_reexporting_page(site):
    """numvae.plots re-exports plot_loss_curves from numvae.plots.curves: one entry, at home, and a link to it."""
    import inspect

    checked = 0
    for name in pages.module_names():
        module = importlib.import_module(name)
        text = (site / "api" / f"{name}.html").read_text(encoding="utf-8")
        for member in getattr(module, "__all__", []):
            obj = getattr(module, member)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or obj.__module__ == name:
                continue
            home = f"{obj.__module__}.{obj.__qualname__}"
            assert f'id="{name}.{member}"' not in text, f"{name}.html documents {home} a second time"
            assert f'href="{obj.__module__}.html#{home}"' in text, f"{name}.html does not link {home}"
            home_page = (site / "api" / f"{obj.__module__}.html").read_text(encoding="utf-8")
            assert f'id="{home}"' in home_page, f"{home} is not documented in {obj.__module__}.html"
            checked += 1
    assert checked >= 7, f"expected numvae.plots's seven re-exported functions among others, checked {checked}"


def test_api_signatures_show_defaults_as_written(site):
    """A default such as dtype=np.float64 used to show as dtype=<class 'numpy.float64'>."""
    import html

    def text(page):  # the page as read: tags dropped (a signature is split over spans), entities decoded
        return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))

    shown = [f"{page.name}: {m}" for page in sorted((site / "api").glob("*.html"))
             for m in re.findall(r"<class '[^']*'>", text(page))]
    assert not shown, "signatures show a repr instead of the source text:\n" + "\n".join(shown)


def test_api_parameter_lists_hold_only_names(site):
    """Prose placed under a numpydoc section (after ``Parameters``, say) is read as entries: bold junk."""
    problems = []
    for page in sorted((site / "api").glob("*.html")):
        for name in re.findall(r"<dt><strong>(.*?)</strong>", page.read_text(encoding="utf-8"), re.S):
            if not re.fullmatch(r"[\w*]+(, [\w*]+)*", name):
                problems.append(f"{page.name}: an entry of a Parameters/Returns list is not a name: {name[:80]!r}")
    assert not problems, "\n".join(problems)


def test_every_page_loads_cleanly_in_chromium(browsed):
    reports, _, problems = browsed
    assert {"index.html", "exercises.html", "api/index.html"} <= set(reports)
    assert not problems, "\n".join(problems)


def test_lecture_figures_are_decoded_and_math_typeset(browsed):
    reports, _, _ = browsed
    for path in LECTURES:
        report = reports[f"lectures/{path.stem}.html"]
        source = path.read_text(encoding="utf-8")
        figures = notebooks.lecture_figures(path)
        assert report["imageCount"] >= len(figures), (
            f"{path.name} names {len(figures)} figures, its page shows {report['imageCount']} images")
        if "$" in source:
            assert report["typesetCount"] > 0, f"the page of {path.name} has no typeset math"


def test_internal_links_resolve(browsed, site):
    reports, base_url, _ = browsed
    assert sum(len(report["links"]) for report in reports.values()) > len(reports)
    problems = browser.link_problems(reports, site, base_url)
    assert not problems, "\n".join(problems)



PROJECTOR = (1280, 720)  # the viewport a lecture is shown at


def require_browser():
    try:
        browser.find_binaries()
    except browser.BrowserUnavailable as error:
        unavailable(str(error))


def describe_wide(page, item):
    tex = " ".join(item["tex"].split())
    return (f"{page}: a display equation is {item['width']:.0f} px wide in a {item['column']:.0f} px column, "
            f"so it scrolls: {tex[:90]}{'...' if len(tex) > 90 else ''}")


def describe_scrolling_down(page, item):
    tex = " ".join(item["tex"].split())
    return f"{page}: a display equation has a vertical scrollbar: {tex[:90]}{'...' if len(tex) > 90 else ''}"


def test_display_equations_fit_the_column_on_a_projector(site):
    """At 1280x720 every display equation of a lecture or an API page is seen whole, without a scrollbar."""
    require_browser()
    pages_with_math = [page for page in browser.site_pages(site) if page.startswith(("lectures/", "api/"))]
    problems, measured = [], 0
    with browser.serve(site) as base_url, browser.chromium() as driver:
        browser.set_viewport(driver, *PROJECTOR)
        for page in pages_with_math:
            equations = browser.display_math(driver, base_url + page)
            measured += len(equations)
            problems += [describe_wide(page, item) for item in equations if browser.too_wide(item)]
            problems += [describe_scrolling_down(page, item) for item in equations if item["scrollsDown"]]
    assert measured > len(LECTURES), f"only {measured} display equations found on {len(pages_with_math)} pages"
    assert not problems, "\n".join(problems)


WIDE_MATH_PAGE = r"""<!DOCTYPE html><html><head><title>wide</title>
<script defer src="_static/mathjax/tex-chtml.js"></script></head><body>
<div style="width: 736px"><div class="math">\[a = 1\]</div>
<div class="math">\[b = x_1 + x_2 + x_3 + x_4 + x_5 + x_6 + x_7 + x_8 + x_9 + x_{10} + x_{11} + x_{12}
 + x_{13} + x_{14} + x_{15} + x_{16} + x_{17} + x_{18} + x_{19} + x_{20} + x_{21} + x_{22} + x_{23}
 + x_{24} + x_{25} + x_{26} + x_{27} + x_{28} + x_{29} + x_{30}\]</div>
<div style="overflow: auto; height: 1em"><div class="math">\[c = \frac{1}{2}\]</div></div></div>
</body></html>"""


def test_the_math_checks_find_an_equation_too_wide_and_one_that_scrolls_down(site, tmp_path):
    require_browser()
    (tmp_path / "_static").symlink_to(site / "_static", target_is_directory=True)  # the site's own MathJax
    (tmp_path / "index.html").write_text(WIDE_MATH_PAGE, encoding="utf-8")
    with browser.serve(tmp_path) as base_url, browser.chromium() as driver:
        browser.set_viewport(driver, *PROJECTOR)
        equations = browser.display_math(driver, base_url + "index.html")
    assert [item["tex"].strip()[:5] for item in equations] == ["a = 1", "b = x", "c = \\"], equations
    wide = [describe_wide("index.html", item) for item in equations if browser.too_wide(item)]
    assert len(wide) == 1 and "b = x_1 + x_2" in wide[0] and "736 px column" in wide[0], wide
    assert [item["scrollsDown"] for item in equations] == [False, False, True], equations


def test_the_site_works_from_file_urls(site):
    """README says to open site/index.html: pages and search must work from file://, not only over http."""

    try:
        browser.find_binaries()
    except browser.BrowserUnavailable as error:
        unavailable(str(error))
    base_url = site.resolve().as_uri() + "/"
    problems = []
    with browser.chromium() as driver:
        for page in ["index.html", f"lectures/{LECTURES[0].stem}.html", "api/numvae.gaussian.html"]:
            page_problems, _ = browser.check_page(driver, base_url + page, base_url)
            problems += [f"{page}: {problem}" for problem in page_problems]
        driver.get_log("browser")
        driver.get(base_url + "search.html?q=reparameterize")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "finished" not in driver.execute_script(
                "return (window.Search && Search.status && Search.status.innerText) || ''"):
            time.sleep(0.2)
        time.sleep(1)  # the result list is shown; let any summary fetch fail, if it is going to
        results = driver.execute_script("return document.querySelectorAll('#search-results li').length")
        problems += [f"search.html: console {entry['level']}: {entry['message']}" for entry in driver.get_log("browser")
                     if entry["level"] == "SEVERE"]
    assert results > 0, "searching for 'reparameterize' from file:// found nothing"
    assert not problems, "\n".join(problems)


BROKEN_PAGE = """<!DOCTYPE html><html><head><title>broken</title>
<script src="http://example.invalid/remote.js"></script></head><body>
<p>Some $x^2$ left raw, and \\(y\\) too.</p>
<span class="math">\\(z\\)</span>
<img src="missing.png" alt="a missing figure">
<a href="nowhere.html">a dead link</a> <a href="#no-such-anchor">a dead anchor</a>
<pre>$code$ is not math</pre>
<script>console.error("deliberate");</script>
</body></html>"""


def test_page_checks_catch_each_kind_of_problem(tmp_path):
    require_site_extra()
    try:
        browser.find_binaries()
    except browser.BrowserUnavailable as error:
        unavailable(str(error))
    (tmp_path / "index.html").write_text(BROKEN_PAGE, encoding="utf-8")
    with browser.serve(tmp_path) as base_url, browser.chromium() as driver:
        problems, report = browser.check_page(driver, base_url + "index.html", base_url)
    text = "\n".join(problems)
    assert "console SEVERE" in text and "deliberate" in text, text
    assert "HTTP 404" in text and "missing.png" in text, text
    assert "request to a remote address: http://example.invalid/remote.js" in text, text
    assert "image not decoded" in text, text
    assert "math not typeset: '\\\\(z\\\\)'" in text, text
    assert "raw math in the text: '$x^2$'" in text and "raw math in the text: '\\\\('" in text, text
    assert "$code$" not in text, "text inside <pre> was checked as prose"
    links = browser.link_problems({"index.html": report}, tmp_path, base_url)
    assert any("missing file" in problem and "nowhere.html" in problem for problem in links), links
    assert any("missing anchor" in problem and "no-such-anchor" in problem for problem in links), links


def fake_repository(root, lectures):
    """A repository with this docs/ folder, a README and the given ``{file name: source}`` lectures."""
    shutil.copytree(DOCS_DIR, root / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tutorials").mkdir()
    (root / "README.md").write_text("# fake\n\nA fake course.\n", encoding="utf-8")
    for name, source in lectures.items():
        (root / "tutorials" / name).write_text(source, encoding="utf-8")
    return root / "docs"


def test_a_failing_or_untitled_lecture_fails_the_build(tmp_path):
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {
        "01_broken.py": '# %% [markdown]\n# # Broken\n\n# %%\nraise RuntimeError("deliberately broken")\n',
        "02_untitled.py": "# %%\nprint('no title')\n",
    })
    outdir = tmp_path / "out"
    result = run_build(docs_dir, outdir, "--fast")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RuntimeError: deliberately broken" in result.stderr, result.stderr
    assert "02_untitled.py: expected a title" in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "docs/build.py: 2 lecture(s) failed: 01_broken.py, 02_untitled.py"), result.stderr
    assert not outdir.exists(), "a failed build must not leave a site behind"


def test_a_lecture_that_cannot_be_read_fails_the_build_in_one_message(tmp_path):
    """A lecture that is a broken symbolic link (or a folder, or a file removed while the build runs) was a
    traceback from jupytext's open()."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {"01_fine.py": "# %% [markdown]\n# # Fine\n\n# %%\nprint(1)\n"})
    (tmp_path / "repo" / "tutorials" / "02_gone.py").symlink_to(tmp_path / "nowhere.py")
    result = run_build(docs_dir, tmp_path / "out", "--fast")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "02_gone.py: expected a lecture file that can be read, got 'No such file or directory'" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "docs/build.py: 1 lecture(s) failed: 02_gone.py", result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["repo"], "left behind"


def test_a_lecture_whose_kernel_dies_fails_the_build_with_the_kernels_last_words(tmp_path):
    """A kernel killed mid-cell (a crash, the OOM killer) fails the build at once; it used to hang it."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {
        "01_dies.py": ("# %% [markdown]\n# # Dies\n\n# %%\nimport os, sys\n"
                       "sys.__stderr__.write('last words before the crash\\n'); sys.__stderr__.flush()\n"
                       "os._exit(3)\n"),
    })
    outdir = tmp_path / "out"
    try:
        result = run_build(docs_dir, outdir, "--fast", "--timeout", "600", timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("docs/build.py still waited for a dead kernel after 120 s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Kernel died" in result.stderr, result.stderr
    assert "last words before the crash" in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "docs/build.py: 1 lecture(s) failed: 01_dies.py", result.stderr


def test_the_kernels_last_words_are_read_from_the_end_of_a_huge_log(tmp_path):
    """A kernel that printed gigabytes to its own stdout, then died: its whole log was read into memory (four
    times its size: 1.2 GB for a 300 MB log), and a line with no end was shown whole."""
    log = tmp_path / "kernel.log"
    with open(log, "wb") as file:
        file.truncate(2 * 1024**3)  # sparse: two gigabytes of NULs, which take no room on the disk
        file.seek(0, os.SEEK_END)
        file.write(b"\nlast words\n")
    code = ("import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))\n"
            f"sys.path.insert(0, {str(DOCS_DIR)!r})\nimport notebooks\n"
            f"tail = notebooks.kernel_log_tail({str(log)!r})\nprint(len(tail), repr(tail.splitlines()[-1]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    length, last = result.stdout.split(" ", 1)
    assert int(length) < 10_000 and last.strip() == "'last words'", result.stdout[:2000]


def test_a_long_tmpdir_such_as_macos_one_leaves_the_kernels_room_for_their_sockets(tmp_path):
    """A Unix socket's path holds at most 104 bytes (macOS): under macOS's /var/folders/.../T/, every kernel failed."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {"01_gradients_by_hand.py": "# %% [markdown]\n# # Fine\n\n# %%\nprint(1)\n"})
    tmpdir = tmp_path / "var" / "folders" / "zz" / "zyxvpxvq6csfxvn_n0000000000000" / "T"
    tmpdir.mkdir(parents=True)
    result = run_build(docs_dir, tmp_path / "out", "--fast", timeout=600, TMPDIR=str(tmpdir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "lectures" / "01_gradients_by_hand.html").is_file()
    assert list(tmpdir.iterdir()) == [], "the build left something in TMPDIR"


def test_a_kernel_that_does_not_start_fails_the_build_in_one_message(tmp_path):
    """The kernel exits before it answers (here: a broken ipykernel_launcher on the path): its words, no traceback."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {"01_fine.py": "# %% [markdown]\n# # Fine\n\n# %%\nprint(1)\n"})
    # tutorials/ is on the kernels' PYTHONPATH, so this module shadows the real one
    (tmp_path / "repo" / "tutorials" / "ipykernel_launcher.py").write_text(
        "import sys\nsys.stderr.write('this kernel is broken on purpose\\n')\nsys.exit(1)\n", encoding="utf-8")
    result = run_build(docs_dir, tmp_path / "out", "--fast")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "this kernel is broken on purpose" in result.stderr, result.stderr
    assert "executing 1 lecture (fast mode, 1 at a time)" in result.stdout.splitlines(), result.stdout
    assert result.stderr.strip().splitlines()[-1] == "docs/build.py: 1 lecture(s) failed: 01_fine.py", result.stderr


SLOW_LECTURE = """# %% [markdown]
# # Slow

# %%
import atexit, os, time
atexit.register(os.write, 2, b"Traceback: the kernel shutting down\\n")
open(STARTED, "a").write(f"NUMBER started {os.getpid()}\\n")
time.sleep(30)
open(STARTED, "a").write("NUMBER finished\\n")
"""


def running(pid):
    """Whether process ``pid`` is alive (a zombie, dead but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def stop_a_build(tmp_path, signum, whole_group, while_it_runs=lambda: None):
    """Start a build of six slow lectures (--jobs 1) over a previous site; send ``signum`` while the first runs.

    ``whole_group``: to the build's whole process group, as Ctrl-C does (or ``timeout``, or a CI runner), else
    to the build process alone (``kill PID``). ``while_it_runs()`` is called once the first lecture has
    started, before the signal. Returns ``(process, stderr, lines of started.txt)``.
    """
    import signal

    require_site_extra()
    started_file = tmp_path / "started.txt"
    # Each kernel writes to its own stderr as it exits, as ipykernel itself sometimes does (a zmq
    # traceback) while it shuts down after Ctrl-C: that must not reach the terminal.
    lectures = {f"0{n}_slow.py": SLOW_LECTURE.replace("STARTED", repr(str(started_file))).replace("NUMBER", str(n))
                for n in range(6)}
    docs_dir = fake_repository(tmp_path / "repo", lectures)
    outdir = tmp_path / "site"
    outdir.mkdir()
    (outdir / ".buildinfo").write_text("a previous build", encoding="utf-8")
    (outdir / "index.html").write_text("the previous site", encoding="utf-8")
    env = build_env()
    process = subprocess.Popen([sys.executable, str(docs_dir / "build.py"), str(outdir), "--fast", "--jobs", "1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,  # a process group of its own, which Ctrl-C reaches whole
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert appears(started_file, 120), "the first lecture never started"
        while_it_runs()
        if whole_group:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
        _, stderr = process.communicate(timeout=120)
        with pytest.raises(ProcessLookupError):  # no worker left behind, running lectures on its own
            os.killpg(process.pid, 0)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
    return process, stderr, started_file.read_text().splitlines()


def check_stopped(tmp_path, stderr, lines):
    """Only the first lecture started, its kernel is gone, and OUTDIR holds the previous site and nothing else."""
    assert [line.split()[:2] for line in lines] == [["0", "started"]], f"after the signal: {lines}"
    kernel = int(lines[0].split()[2])
    assert not running(kernel), f"the kernel of the lecture stopped (pid {kernel}) is still running"
    assert "Traceback" not in stderr, stderr
    assert (tmp_path / "site" / "index.html").read_text(encoding="utf-8") == "the previous site"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["repo", "site", "started.txt"], "a partial site was left"


def test_ctrl_c_stops_the_running_lecture_starts_no_other_and_keeps_the_previous_site(tmp_path):
    """Ctrl-C while a lecture runs: its kernel is stopped, no other lecture starts, the old site stays.

    With a process pool, the running lecture went on to its end, then the two lectures already queued
    for the worker ran too.
    """
    import signal

    process, stderr, lines = stop_a_build(tmp_path, signal.SIGINT, whole_group=True)
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == ["docs/build.py: interrupted; OUTDIR is as it was before the build"], stderr
    check_stopped(tmp_path, stderr, lines)


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill PID", "the process group"])
def test_sigterm_stops_the_build_as_ctrl_c_does(tmp_path, whole_group):
    """SIGTERM (``kill PID``, ``timeout``, a cancelled CI job) used to kill the build on the spot, with no message.

    It left its partial site next to OUTDIR and its staging folder; before the lectures ran in one
    process, a ``kill PID`` also orphaned the pool's worker, which went on running lectures.
    """
    import signal

    process, stderr, lines = stop_a_build(tmp_path, signal.SIGTERM, whole_group)
    assert process.returncode == 143, stderr
    assert stderr.splitlines() == ["docs/build.py: terminated; OUTDIR is as it was before the build"], stderr
    check_stopped(tmp_path, stderr, lines)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_modules_load_is_one_line(tmp_path, signame):
    """Ctrl-C in the first moments of the build, while Python imports asyncio and the docs' modules, was an
    import's traceback. The loading is slowed down here (docs/pages.py sleeps) to be caught in the act."""
    import signal

    require_site_extra()
    loading = tmp_path / "loading"
    docs_dir = fake_repository(tmp_path / "repo", {"01_fine.py": "# %% [markdown]\n# # Fine\n"})
    slow = f"import time\nopen({str(loading)!r}, 'w').close()\ntime.sleep(60)\n"
    (docs_dir / "pages.py").write_text(slow + (docs_dir / "pages.py").read_text(encoding="utf-8"), encoding="utf-8")
    env = build_env()
    process = subprocess.Popen([sys.executable, str(docs_dir / "build.py"), str(tmp_path / "site"), "--fast"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert appears(loading, 60), "docs/pages.py was never loaded"
        os.killpg(process.pid, getattr(signal, signame))
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    name, status = ("interrupted", 130) if signame == "SIGINT" else ("terminated", 143)
    assert stderr.splitlines() == [f"docs/build.py: {name}; OUTDIR is as it was before the build"], stderr
    assert process.returncode == status, stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loading", "repo"]


def test_a_second_build_into_the_same_outdir_is_refused_at_once(tmp_path):
    """The build started twice: both ran every lecture, and the second to finish replaced the first one's site
    (or, finishing at the same moment, could fail to rename its own into place). Now the second stops before
    any lecture, and the first goes on."""
    import signal

    second = []

    def start_it_again():
        second.append(run_build(tmp_path / "repo" / "docs", tmp_path / "site", "--fast", "--timeout", "1"))

    process, stderr, lines = stop_a_build(tmp_path, signal.SIGINT, whole_group=True, while_it_runs=start_it_again)
    assert second[0].returncode == 1, second[0].stdout + second[0].stderr
    assert second[0].stdout == "", second[0].stdout
    assert second[0].stderr.splitlines() == [
        f"docs/build.py: OUTDIR: expected no other build writing it, got one running (pid {process.pid}): "
        f"{(tmp_path / 'site').resolve()}"], second[0].stderr
    assert process.returncode == 130, stderr  # the first build ran on until the Ctrl-C
    check_stopped(tmp_path, stderr, lines)  # and left no lock file behind


def test_a_lecture_cancelled_while_its_kernel_starts_leaves_no_kernel(tmp_path, monkeypatch):
    """Ctrl-C before the kernel answers: nbclient stops only kernels that answered, so this one was left running."""
    import asyncio
    import signal

    require_site_extra()
    pid_file = tmp_path / "kernel.pid"
    (tmp_path / "ipykernel_launcher.py").write_text(  # a kernel that starts and never answers
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
        encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    lecture = tmp_path / "01_fine.py"
    lecture.write_text("# %% [markdown]\n# # Fine\n\n# %%\nprint(1)\n", encoding="utf-8")

    async def cancel_while_it_starts():
        task = asyncio.ensure_future(notebooks.execute_lecture(lecture, tmp_path / "out.ipynb", tmp_path, 60))
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_it_starts())
    kernel = int(pid_file.read_text())
    try:
        assert not running(kernel), "the kernel cancelled while it started is still running"
    finally:
        if running(kernel):
            os.kill(kernel, signal.SIGKILL)


def test_a_signal_while_the_site_is_moved_into_place_leaves_a_whole_site(tmp_path, monkeypatch):
    """SIGTERM (or Ctrl-C) at any step of putting the new site in place: OUTDIR is the old site or the new one.

    The build deleted the previous site, then renamed the new one into place: a signal during the
    deletion left part of the old site, and the clean-up then removed the new one.
    """
    import signal
    import tempfile

    require_site_extra()
    import build

    def fake_sphinx(staging, partial, env):  # the lectures and pages are faked too: this is about what follows
        target = partial / "html"
        target.mkdir()
        (target / ".buildinfo").write_text("new", encoding="utf-8")
        (target / "index.html").write_text("the new site", encoding="utf-8")
        armed[0] = True

    def signalling(function):
        def call(*args, **kwargs):
            if armed[0]:
                calls[0] += 1
                if calls[0] == signal_at:
                    os.kill(os.getpid(), signal.SIGTERM)
            return function(*args, **kwargs)
        return call

    monkeypatch.setattr(build, "execute_all", lambda lectures, staging, args, sockets: staging / "_run" / "figures")
    monkeypatch.setattr(build, "write_pages", lambda lectures, figures_dir, staging, fast: None)
    monkeypatch.setattr(build, "run_sphinx", fake_sphinx)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # build() replaces the environment the kernels inherit
    for name in ["rename", "replace", "unlink", "rmdir"]:  # what moving and deleting a folder is made of
        monkeypatch.setattr(os, name, signalling(getattr(os, name)))
    outcomes = []
    for signal_at in range(1, 25):
        armed, calls = [False], [0]
        root = tmp_path / str(signal_at)
        outdir = root / "site"
        outdir.mkdir(parents=True)
        (outdir / ".buildinfo").write_text("old", encoding="utf-8")
        for number in range(20):
            (outdir / f"page{number}.html").write_text("the old site", encoding="utf-8")
        (root / "tmp").mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(root / "tmp"))
        status = build.main([str(outdir), "--fast"])
        site = sorted(path.name for path in outdir.iterdir()) if outdir.is_dir() else None
        if site == [".buildinfo", "index.html"]:
            outcomes.append((signal_at, status, "new"))
        elif site == [".buildinfo"] + sorted(f"page{number}.html" for number in range(20)):
            outcomes.append((signal_at, status, "old"))
        else:
            pytest.fail(f"SIGTERM at step {signal_at} (exit status {status}) left OUTDIR as {site}")
        assert (status, outcomes[-1][2]) in [(0, "new"), (143, "old")], outcomes[-1]
        assert sorted(path.name for path in root.iterdir()) == ["site", "tmp"], f"SIGTERM at step {signal_at}"
        assert not any((root / "tmp").iterdir()), f"SIGTERM at step {signal_at} left the staging folder"


KILLED_LECTURE = """# %% [markdown]
# # Killed

# %%
import os, time
open(STARTED, "a").write(f"{os.getpid()}\\n")
if not os.path.exists(QUICK):
    time.sleep(120)
"""


def test_a_build_killed_outright_leaves_folders_that_the_next_build_removes(tmp_path, short_tmp):
    """SIGKILL (or the OOM killer) leaves the partial site next to OUTDIR, the staging folder in TMPDIR and the
    kernels' sockets folder in /tmp: a new build into the same OUTDIR left them there for ever."""
    import json
    import signal

    require_site_extra()
    started, quick = tmp_path / "started.txt", tmp_path / "quick"
    docs_dir = fake_repository(tmp_path / "repo", {"01_gradients_by_hand.py": KILLED_LECTURE.replace(
        "STARTED", repr(str(started))).replace("QUICK", repr(str(quick)))})
    outdir = tmp_path / "site"
    env = build_env(TMPDIR=str(short_tmp))
    command = [sys.executable, str(docs_dir / "build.py"), str(outdir), "--fast"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert appears(started, 120), "the lecture never started"
    finally:
        process.kill()
        process.wait()
    staging = [path for path in short_tmp.iterdir()]
    connection = json.loads(next(short_tmp.glob("numvae-site-*/_run/.kernel-*.json")).read_text(encoding="utf-8"))
    sockets = Path(connection["ip"]).parent
    left = sorted(path.name for path in tmp_path.iterdir())
    assert any(name.startswith(".site.partial-") for name in left) and staging and sockets.is_dir(), (left, staging)
    kernel = int(started.read_text().split()[0])
    deadline = time.monotonic() + 60  # the orphaned kernel notices its parent is gone and exits
    while running(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    if running(kernel):
        os.kill(kernel, signal.SIGKILL)
    quick.touch()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["quick", "repo", "site", "started.txt"], "left next to OUTDIR"
    assert list(short_tmp.iterdir()) == [], "the killed build's staging folder was left in TMPDIR"
    assert not sockets.exists(), f"the killed build's sockets folder was left: {sockets}"


def test_a_build_killed_between_the_two_renames_leaves_the_previous_site_to_the_next_build(tmp_path):
    """Killed (SIGKILL) just after it renamed the previous site into its partial folder: no OUTDIR, and the
    next build (failing here) deleted the previous site with the killed build's folders."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {"01_gradients_by_hand.py": "# %% [markdown]\n# # Broken\n\n"
                                                   "# %%\nraise RuntimeError('deliberately broken')\n"})
    partial = tmp_path / ".site.partial-k1ll3dzz"  # as the killed build left it
    (partial / "previous").mkdir(parents=True)
    (partial / "previous" / ".buildinfo").write_text("a previous build", encoding="utf-8")
    (partial / "previous" / "index.html").write_text("the previous site", encoding="utf-8")
    (partial / "html").mkdir()
    (tmp_path / ".site.lock").write_text(f"999999999\n{partial}", encoding="utf-8")
    result = run_build(docs_dir, tmp_path / "site", "--fast")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").read_text(encoding="utf-8") == "the previous site"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["repo", "site"], "left behind"


def test_an_outdir_that_is_not_a_site_is_refused(tmp_path):
    require_site_extra()
    outdir = tmp_path / "notes"
    outdir.mkdir()
    (outdir / "mine.txt").write_text("keep me", encoding="utf-8")
    result = run_build(DOCS_DIR, outdir, "--fast")
    assert result.returncode == 1
    assert result.stderr.strip() == ("docs/build.py: OUTDIR: expected an empty folder or a previous site build "
                                     f"(with .buildinfo), got a non-empty folder: {outdir}")
    assert (outdir / "mine.txt").read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("within", [".", "lectures"], ids=["OUTDIR is .", "the current folder is in OUTDIR"])
def test_an_outdir_holding_the_current_folder_is_refused(tmp_path, within):
    """``python docs/build.py .`` in an empty folder (or in the previous site): OUTDIR was renamed away and
    deleted, so the shell was left in a deleted folder, where ``ls`` shows nothing."""
    require_site_extra()
    docs_dir = fake_repository(tmp_path / "repo", {"01_gradients_by_hand.py": "# %% [markdown]\n# # Fine\n"})
    outdir = tmp_path / "site"
    (outdir / "lectures").mkdir(parents=True)
    (outdir / ".buildinfo").write_text("a previous build", encoding="utf-8")
    cwd = outdir / within
    result = run_build(docs_dir, "." if within == "." else "..", "--fast", cwd=cwd, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"docs/build.py: OUTDIR: expected a folder outside the current folder {cwd.resolve()} (OUTDIR is replaced, "
        f"which would leave the shell in a deleted folder), got {outdir.resolve()}"], result.stderr
    assert cwd.is_dir() and (outdir / ".buildinfo").read_text(encoding="utf-8") == "a previous build"


def test_an_outdir_that_cannot_be_written_is_refused_before_the_lectures_run(tmp_path):
    require_site_extra()
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    outdir = tmp_path / "notes.txt" / "site"
    result = run_build(DOCS_DIR, outdir, "--fast")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "executing" not in result.stdout, f"the lectures ran before OUTDIR was found unwritable:\n{result.stdout}"
    assert result.stderr.strip().splitlines() == [
        f"docs/build.py: OUTDIR: expected a folder that can be written, got {outdir} "
        f"(File exists: {tmp_path / 'notes.txt'})"], result.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.fixture
def short_tmp():
    """A folder with a short path, for a TMPDIR: the kernels' sockets are made in the staging folder, and a
    socket path may not be longer than about 100 bytes (tmp_path is too long)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="numvae-test-", dir="/tmp"))
    yield path
    shutil.rmtree(path)


def mount_small_disk(path):
    """Mount a 2 MB tmpfs on ``path``, to fill up; skip the test where that is impossible.

    Mounting needs root (CAP_SYS_ADMIN), which a container may withhold even from root: the tests that
    need no mount (a notebook written to /dev/full, a Sphinx that reports a full disk) cover those machines.
    """
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
                                capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("a full disk is simulated with a small tmpfs, and there is no mount command here")
    if result.returncode != 0:
        pytest.skip(f"a full disk is simulated with a small tmpfs, which cannot be mounted here: {result.stderr.strip()}")


FILL_THE_DISK = """# %% [markdown]
# # Fill

# %%
import os
from ipykernel import get_connection_file


def fill(path):
    with open(path, "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(bytes(4096))
        except OSError:  # the disk is full
            pass


os.makedirs("figures", exist_ok=True)
fill("figures/00_fill.png")
os.remove(get_connection_file())  # else the next kernel's connection file would take the room it leaves
fill("figures/00_fill_more.png")
raise RuntimeError("failing, so as to write no notebook")
"""


def run_on_a_small_disk(tmp_path, short_tmp, lectures, outdir_on_it, full_already=False):
    """Build ``lectures`` with a 2 MB tmpfs as TMPDIR, or (``outdir_on_it``) as OUTDIR's folder, over a
    previous site; ``full_already``: with a file filling the disk. Returns ``(result, disk)``; the disk is
    unmounted by then."""
    require_site_extra()
    disk = short_tmp / "disk"
    disk.mkdir()
    mount_small_disk(disk)
    try:
        docs_dir = fake_repository(tmp_path / "repo", lectures)
        outdir = (disk if outdir_on_it else tmp_path) / "site"
        outdir.mkdir()
        (outdir / ".buildinfo").write_text("a previous build", encoding="utf-8")
        (outdir / "index.html").write_text("the previous site", encoding="utf-8")
        if full_already:
            with open(disk / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
                while True:
                    filler.write(bytes(4096))
        result = run_build(docs_dir, outdir, "--fast", "--jobs", "1", timeout=600,
                           TMPDIR=str(short_tmp if outdir_on_it else disk))
        assert (outdir / "index.html").read_text(encoding="utf-8") == "the previous site"
        assert sorted(path.name for path in disk.iterdir()) == (["filler"] if full_already else []) + (
            ["site"] if outdir_on_it else []), "left behind"
        assert sorted(path.name for path in short_tmp.iterdir()) == ["disk"], "left in TMPDIR"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["repo"] + ([] if outdir_on_it else ["site"])
        return result, disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)  # lazy: even if a process still holds a file


def test_a_full_tmpdir_is_one_line_naming_it_and_leaves_nothing(tmp_path, short_tmp):
    """TMPDIR fills up (a lecture's figure here), and the next kernel cannot write its connection file: that was
    a traceback, and the connection file (made in TMPDIR itself) was left there."""
    result, disk = run_on_a_small_disk(tmp_path, short_tmp, {"00_fill.py": FILL_THE_DISK,
                                                             "01_next.py": "# %% [markdown]\n# # Next\n"},
                                       outdir_on_it=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"docs/build.py: TMPDIR: expected room for the staging folder in {disk}, got 'No space left on device' "
        "(free some, or set TMPDIR to a folder with more room)"], result.stderr


def test_a_full_disk_next_to_outdir_is_one_line_naming_it_and_leaves_nothing(tmp_path, short_tmp):
    """OUTDIR's folder fills up while Sphinx writes the site: that was Sphinx's crash report, a traceback."""
    result, disk = run_on_a_small_disk(tmp_path, short_tmp, {"01_small.py": "# %% [markdown]\n# # Small\n"},
                                       outdir_on_it=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"docs/build.py: OUTDIR: expected room for the site in {disk}, got 'No space left on device' "
        "(free some, or choose an OUTDIR on another disk)"], result.stderr


def test_a_full_disk_next_to_outdir_is_found_before_the_lectures_run(tmp_path, short_tmp):
    """It was "expected a folder that can be written ... (No space left on device: None)", and the lock file
    that could not take the build's pid was left behind."""
    result, disk = run_on_a_small_disk(tmp_path, short_tmp, {"01_small.py": "# %% [markdown]\n# # Small\n"},
                                       outdir_on_it=True, full_already=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == "", "the lectures ran"
    assert result.stderr.splitlines() == [
        f"docs/build.py: OUTDIR: expected room for the site in {disk}, got 'No space left on device' "
        "(free some, or choose an OUTDIR on another disk)"], result.stderr


def test_a_notebook_that_does_not_fit_in_the_staging_folder_is_one_line_naming_tmpdir(tmp_path, short_tmp):
    """The staging folder full when a notebook is written (here: the notebook is /dev/full); no mount needed."""
    require_site_extra()
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    docs_dir = fake_repository(tmp_path / "repo", {
        "01_full.py": ("# %% [markdown]\n# # Full\n\n# %%\nimport os\n"
                       "os.symlink('/dev/full', '../lectures/01_full.ipynb')\n"),  # the kernel runs in staging/_run
    })
    result = run_build(docs_dir, tmp_path / "site", "--fast", timeout=600, TMPDIR=str(short_tmp))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"docs/build.py: TMPDIR: expected room for the staging folder in {short_tmp}, got "
        "'No space left on device' (free some, or set TMPDIR to a folder with more room)"], result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["repo"], "left behind"
    assert not any(short_tmp.iterdir()), "the staging folder was left"


def test_sphinx_on_a_full_disk_is_one_line_and_its_other_messages_are_shown(tmp_path, capfd):
    """Sphinx's crash report (fifty lines, a traceback) on a full disk becomes one line naming OUTDIR's folder."""
    require_site_extra()
    import build

    fake = tmp_path / "fake" / "sphinx"  # ahead of the real one on PYTHONPATH
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text("import os, sys\nsys.stderr.write(os.environ['FAKE_SAYS'])\n"
                                      "sys.exit(int(os.environ['FAKE_EXITS']))\n", encoding="utf-8")
    partial = tmp_path / ".site.partial-x"
    partial.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    log = tmp_path / "sphinx-err-x1y2z3.log"
    log.write_text("the full traceback", encoding="utf-8")
    crash = ("\nTraceback\n=========\n\n      File \"sphinx/search/__init__.py\", line 183, in dump\n"
             "        f.write(self.dumps(data))\n    OSError: [Errno 28] No space left on device\n\n"
             f"The full traceback has been saved in:\n{log}\n")
    with pytest.raises(build.BuildError) as raised:
        build.run_sphinx(tmp_path, partial, {**env, "FAKE_SAYS": crash, "FAKE_EXITS": "2"})
    assert str(raised.value) == (f"OUTDIR: expected room for the site in {tmp_path}, got 'No space left on device' "
                                 "(free some, or choose an OUTDIR on another disk)")
    assert capfd.readouterr().err == ""
    assert not log.exists(), "the log of the crash report, which the user no longer sees, was left"
    warning = "index.md:3: WARNING: unknown document: 'nowhere'\n"
    with pytest.raises(build.BuildError, match="sphinx-build failed with exit status 1"):
        build.run_sphinx(tmp_path, partial, {**env, "FAKE_SAYS": warning, "FAKE_EXITS": "1"})
    assert capfd.readouterr().err == warning


def test_bad_jobs_is_one_line():
    result = run_build(DOCS_DIR, "unused", "--jobs", "0")
    assert result.returncode == 1
    assert result.stderr.strip() == "docs/build.py: --jobs: expected a positive integer, got 0"


def test_a_docstring_title_becomes_the_first_markdown_cell(tmp_path):
    require_site_extra()
    path = tmp_path / "01_x.py"
    path.write_text('"""\n=====\n1. Old\n=====\n\nThe prose under it.\n"""\n\n# %%\nx = 1\n', encoding="utf-8")
    notebook = notebooks.read_lecture(path)
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[0].source == "# 1. Old\n\nThe prose under it."
    assert notebooks.lecture_title(notebook) == "1. Old"
    assert notebook.cells[1].source == "x = 1"


def test_a_heading_cell_wins_over_a_docstring(tmp_path):
    require_site_extra()
    path = tmp_path / "01_x.py"
    path.write_text('"""Old title\n=========\n\nProse."""\n\n# %% [markdown]\n# # New title\n\n# %%\nx = 1\n',
                    encoding="utf-8")
    notebook = notebooks.read_lecture(path)
    assert notebooks.lecture_title(notebook) == "New title"
    assert [cell.source for cell in notebook.cells] == ["# New title", "Prose.", "x = 1"]


def test_placeholders_are_filled_one_block_each():
    filled = pages.fill("a\n\n<!-- site: x -->\n\n<!-- site: y -->\n", {"x": "X", "y": "Y"})
    assert filled == "a\n\nX\n\nY\n"
    with pytest.raises(ValueError, match="expected one of \\['x'\\], got 'z'"):
        pages.fill("<!-- site: z -->", {"x": "X"})


def test_readme_sections_are_found_and_relevelled():
    text = "# T\n\n## Notation\n\n| a | b |\n\n```\n## not a heading\n```\n\n## Next\n\nx\n"
    assert pages.find_section(text, "notation")[2] == "| a | b |\n\n```\n## not a heading\n```"
    assert pages.find_section(text, "missing") is None
    assert pages.shift_headings("### A\n\n#### B", 2) == "## A\n\n### B"
    assert pages.lecture_rows("| 1 | `01_a.py` | The topic \\| here. |\n") == {"01_a": ("The topic | here.", None)}
    assert pages.lecture_rows("| ![t](../figures/04_x.png) | `04_b.py` | Topic. |\n| a | b |\n") == {
        "04_b": ("Topic.", "04_x.png")}


def test_prose_bars_are_escaped_and_math_bars_kept():
    assert docstrings.escape_line("error ~1e-11·|f|: so") == "error ~1e-11·\\|f\\|: so"
    kept = ":math:`|f| / h`, ``|x|`` and a table cell | a | b |"
    assert docstrings.escape_line(kept) == kept
    lines = ["Prose |x|.", ".. math::", "", "    |x| = \\sqrt{x^2}", "", "After |y|."]
    docstrings.escape_bars(None, "function", "f", None, {}, lines)
    assert lines == ["Prose \\|x\\|.", ".. math::", "", "    |x| = \\sqrt{x^2}", "", "After \\|y\\|."]
