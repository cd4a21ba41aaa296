"""The course site: built in fast mode, then opened page by page in headless Chromium.

``NUMVAE_FAST=1 sphinx-build -M html docs BUILD -W``, the command ``docs/conf.py``
documents, builds the site into a temporary folder; the folder is served on
127.0.0.1 and every page is opened in Debian's Chromium: no console error, no
failed request, no request leaving the machine, every image decoded, math
typeset, every internal link resolving. A hand-made broken page shows that each
of these checks can fail, and a one-lecture project that a raising cell fails
the build.

Without the ``site`` extra or without Chromium the tests are skipped, with the
reason; under ``CI=true`` (``.ci/run`` installs both) they fail instead.
"""

import contextlib
import functools
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_DIR / "docs"
LECTURES = sorted((REPO_DIR / "tutorials").glob("[0-9][0-9]_*.py"))
SITE_MODULES = ["sphinx", "myst_nb", "jupytext", "jupyter_cache", "nbclient", "numpydoc", "furo",
                "sphinx-mathjax-offline", "sphinx_copybutton", "sphinx_codeautolink", "hypothesis", "selenium"]
# The math modules, in the reading order numvae's docstring numbers ("1. ``activations`` — ..."): each has an API page.
MATH_MODULES = re.findall(r"^\d+\. ``(\w+)``", importlib.import_module("numvae").__doc__, re.M)
INTERNAL = ["numvae.buffers", "numvae.cli", "numvae.exercises", "numvae.course", "numvae.properties", "numvae.util"]


def unavailable(reason):
    """Skip with ``reason``; under CI=true, where .ci/run installs everything, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs it, so the site test must run)")
    pytest.skip(reason)


def require_site_extra():
    missing = [name for name in SITE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        unavailable(f"the site extra is not installed (missing {', '.join(missing)}): pip install -e \".[site]\"")


def sphinx_build(source_dir, build_dir, *options, **env):
    """``sphinx-build -M html SOURCE BUILD -W``, with ``env`` added to this environment."""
    environment = {key: value for key, value in os.environ.items() if key != "NUMVAE_FIGURES_DIR"}
    return subprocess.run([sys.executable, "-m", "sphinx", "-M", "html", str(source_dir), str(build_dir), "-W",
                           *options], env={**environment, **env}, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The build folder of the site in fast mode; its HTML is in ``html/``."""
    require_site_extra()
    build_dir = tmp_path_factory.mktemp("site")
    figures = {path: path.stat().st_mtime_ns for path in (REPO_DIR / "figures").glob("*.png")}
    result = sphinx_build(DOCS_DIR, build_dir, NUMVAE_FAST="1")
    assert result.returncode == 0, f"the site build failed\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    assert {path: path.stat().st_mtime_ns for path in figures} == figures, "the build rewrote figures/"
    return build_dir


@pytest.fixture(scope="module")
def site(build):
    return build / "html"


def text_of(page):
    """A page as read: tags dropped (highlighted code is split over spans), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_every_lecture_has_a_page_linked_from_the_home_page(site):
    assert LECTURES, "no tutorials/NN_*.py"
    home = (site / "index.html").read_text(encoding="utf-8")
    for path in LECTURES:
        assert (site / "lectures" / f"{path.stem}.html").is_file(), f"no page for {path.name}"
        assert f'href="lectures/{path.stem}.html"' in home, f"the home page does not link {path.name}"


def commands(markdown):
    """The commands in the ``bash`` blocks of ``markdown``, comments dropped."""
    return [line.split(" # ")[0].strip() for block in re.findall(r"```bash\n(.*?)```", markdown, re.S)
            for line in block.splitlines() if line.strip()]


def test_the_pages_include_the_readmes(site):
    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    tutorials_readme = (REPO_DIR / "tutorials" / "README.md").read_text(encoding="utf-8")
    home = text_of(site / "index.html")
    assert all(command in home for command in commands(readme.split("\n## ")[0])), "README's opening is missing"
    notation = tutorials_readme[tutorials_readme.index("## Notation"):].split("\n## ")[0]
    rows = [line for line in notation.splitlines() if line.startswith("|") and "---" not in line]
    overview = (site / "lectures" / "index.html").read_text(encoding="utf-8")
    assert rows and overview.count("<tr") >= len(rows), "the notation table is not on the lectures' overview"
    exercises = text_of(site / "exercises.html")
    classroom = [command for command in commands(readme + tutorials_readme) if command.startswith("numvae exercises")]
    assert classroom and all(command in exercises for command in classroom), "the READMEs' classroom commands"


def test_the_lectures_figures_go_to_the_build_folder(build):
    written = {path.name for path in (build / "figures").glob("*.png")}
    named = {name for path in LECTURES for name in re.findall(r"""["'](\d\d_[\w-]+\.png)["']""", path.read_text())}
    assert named and named <= written, f"figures not in the build folder: {sorted(named - written)}"


def test_an_unchanged_lecture_is_not_run_again(build):
    """-E makes Sphinx read every page again: MyST-NB then takes every lecture from jupyter-cache."""
    result = sphinx_build(DOCS_DIR, build, "-E", NUMVAE_FAST="1")
    assert result.returncode == 0, result.stderr[-5000:]
    assert "Executing notebook" not in result.stdout + result.stderr
    assert (result.stdout + result.stderr).count("Using cached notebook") == len(LECTURES), result.stdout[-3000:]


def test_the_api_reference_documents_the_public_api_only(site):
    import numvae

    pages = {path.stem for path in (site / "api").glob("numvae*.html")}
    assert {f"numvae.{name}" for name in MATH_MODULES} <= pages, sorted(pages)
    assert not [page for page in pages if page.startswith(tuple(INTERNAL)) or page.count(".") > 1], sorted(pages)
    index = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in numvae.__all__:
        if name != "__version__":
            home = getattr(numvae, name).__module__
            assert f'href="{home}.html#{home}.{name}"' in index, f"the API index does not link numvae.{name}"
    for name in MATH_MODULES:  # a module's page shows its docstring
        first_line = importlib.import_module(f"numvae.{name}").__doc__.strip().splitlines()[0]
        words = re.findall(r"[A-Za-z]{4,}", first_line)[:3]
        assert all(word in text_of(site / "api" / f"numvae.{name}.html") for word in words), name


def test_api_signatures_show_defaults_as_written(site):
    """A default such as dtype=np.float64 used to show as dtype=<class 'numpy.float64'>."""
    shown = [f"{page.name}: {match}" for page in sorted((site / "api").glob("*.html"))
             for match in re.findall(r"<class '[^']*'>", text_of(page))]
    assert not shown, "signatures show a repr instead of the source text:\n" + "\n".join(shown)


def test_api_parameter_lists_hold_only_names(site):
    """Prose placed under a numpydoc section (after ``Parameters``, say) is read as entries: bold junk."""
    problems = [f"{page.name}: an entry of a Parameters/Returns list is not a name: {name[:80]!r}"
                for page in sorted((site / "api").glob("*.html"))
                for name in re.findall(r"<dt><strong>(.*?)</strong>", page.read_text(encoding="utf-8"), re.S)
                if not re.fullmatch(r"[\w*]+(, [\w*]+)*", name)]
    assert not problems, "\n".join(problems)


def fake_project(root, lecture_source, exercises_page=""):
    """A repository with one lecture, ``tutorials/01_lecture.py``, and a home page listing it (and the exercises page)."""
    (root / "docs").mkdir(parents=True)
    pages = "lectures/01_lecture\n" + ("exercises\n" if exercises_page else "")
    (root / "docs" / "index.md").write_text(f"# Fake\n\n```{{toctree}}\n{pages}```\n", encoding="utf-8")
    if exercises_page:
        (root / "docs" / "exercises.md").write_text(exercises_page, encoding="utf-8")
    (root / "tutorials").mkdir()
    (root / "tutorials" / "01_lecture.py").write_text(lecture_source, encoding="utf-8")
    return root / "docs"


def test_a_lecture_with_a_raising_cell_fails_the_build(tmp_path):
    """The same one-lecture project builds with a cell that prints, and fails with one that raises."""
    require_site_extra()
    lecture = '# %% [markdown]\n# # A lecture\n\n# %%\nprint("fine" + "ly run")\n'
    built = sphinx_build(fake_project(tmp_path / "good", lecture), tmp_path / "good-build", "-c", str(DOCS_DIR))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "finely run" in text_of(tmp_path / "good-build" / "html" / "lectures" / "01_lecture.html")
    broken = lecture.replace('print("fine" + "ly run")', 'raise RuntimeError("deliberately broken")')
    failed = sphinx_build(fake_project(tmp_path / "bad", broken), tmp_path / "bad-build", "-c", str(DOCS_DIR))
    assert failed.returncode != 0, failed.stdout[-3000:]
    messages = re.sub(r"\x1b\[[0-9;]*m", "", failed.stderr)  # the kernel's traceback is in colour
    assert "RuntimeError: deliberately broken" in messages, messages[-5000:]


def download_links(page):
    """``{file name: href}`` of the download links of an HTML page."""
    return {href.rsplit("/", 1)[1]: href for href in
            re.findall(r'<a class="reference download internal" download="" href="([^"]+)"', page)}


def test_each_lecture_page_offers_its_notebook_and_its_script(site):
    import jupytext
    import nbformat

    for path in LECTURES:
        page = site / "lectures" / f"{path.stem}.html"
        links = download_links(page.read_text(encoding="utf-8"))
        assert {f"{path.stem}.ipynb", f"{path.stem}.py"} <= set(links), f"{page.name} offers {sorted(links)}"
        script = (page.parent / links[f"{path.stem}.py"]).resolve()
        assert script.read_bytes() == path.read_bytes(), f"the script offered on {page.name} is not {path.name}"
        notebook = nbformat.read(page.parent / links[f"{path.stem}.ipynb"], as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.stem}.ipynb names no kernel"
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        lecture = [cell.source for cell in jupytext.read(path, fmt="py:percent").cells if cell.cell_type == "code"]
        assert [cell.source for cell in code] == lecture, f"{path.stem}.ipynb's code is not the lecture's"
        assert any(cell.outputs for cell in code), f"{path.stem}.ipynb is not executed"
        markdown = "".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        assert "{" + "download}" not in markdown and "Take it home" not in markdown, "the page's note leaked into the notebook"


def test_a_downloaded_notebook_runs_on_its_own(site, tmp_path, monkeypatch):
    """A student's folder holds only the notebook; numvae is installed (here: PYTHONPATH is this checkout)."""
    import nbclient
    import nbformat

    small = next((path for path in LECTURES if "load_dataset" not in path.read_text(encoding="utf-8")), LECTURES[0])
    page = site / "lectures" / f"{small.stem}.html"
    downloaded = page.parent / download_links(page.read_text(encoding="utf-8"))[f"{small.stem}.ipynb"]
    student = tmp_path / "student"
    student.mkdir()
    shutil.copy(downloaded, student)
    monkeypatch.setenv("NUMVAE_FAST", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO_DIR))  # numvae, and nothing from tutorials/
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.delenv("NUMVAE_FIGURES_DIR", raising=False)
    notebook = nbformat.read(student / downloaded.name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(student)}}).execute()
    figures = set(re.findall(r"""["'](\d\d_[\w-]+\.png)["']""", small.read_text(encoding="utf-8")))
    assert figures and figures <= {path.name for path in (student / "figures").glob("*.png")}, \
        f"{downloaded.name} did not write its figures to figures/ next to it"


def test_lecture_pages_and_the_exercises_page_link_each_other(site):
    exercises = (site / "exercises.html").read_text(encoding="utf-8")
    assert 'id="exercises-by-lecture"' in exercises
    for path in LECTURES:
        page = (site / "lectures" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert 'href="../exercises.html#exercises-by-lecture"' in page, f"{path.stem}.html does not link the exercises"
        assert f'href="lectures/{path.stem}.html' in exercises, f"the exercises page does not link {path.stem}.html"
        if re.search(r"^# #{2,3} Exercises for this lecture", path.read_text(encoding="utf-8"), re.M):
            assert 'href="#exercises-for-this-lecture"' in page, f"{path.stem}.html: its note misses its exercises"
            assert f'href="lectures/{path.stem}.html#exercises-for-this-lecture"' in exercises, path.stem


def test_a_lecture_that_ends_with_its_exercises_is_linked_there(tmp_path):
    """The lectures do not all have the section "Exercises for this lecture" yet: a one-lecture project that has it."""
    require_site_extra()
    lecture = '# %% [markdown]\n# # A lecture\n\n# %%\nprint(1)\n\n# %% [markdown]\n# ## Exercises for this lecture\n#\n# Do it.\n'
    exercises = "# Exercises\n\n(exercises-by-lecture)=\n## By lecture\n\n% each lecture and its exercises: added by docs/conf.py\n"
    built = sphinx_build(fake_project(tmp_path / "project", lecture, exercises), tmp_path / "build", "-c", str(DOCS_DIR))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    page = (tmp_path / "build" / "html" / "lectures" / "01_lecture.html").read_text(encoding="utf-8")
    listing = (tmp_path / "build" / "html" / "exercises.html").read_text(encoding="utf-8")
    assert 'href="#exercises-for-this-lecture"' in page and 'href="../exercises.html#exercises-by-lecture"' in page
    assert 'href="lectures/01_lecture.html#exercises-for-this-lecture"' in listing, listing[-3000:]


def test_api_names_in_the_lectures_link_to_their_reference_pages(site):
    """``numvae.X`` in prose links to X's page whenever X has one; numvae.VAE(...) in a code cell links too."""
    import inspect
    import pydoc

    documented = {match for page in (site / "api").glob("numvae*.html")
                  for match in re.findall(r'id="(?:module-)?(numvae[\w.]*)"', page.read_text(encoding="utf-8"))}
    prose = re.compile(r'(<a class="reference internal" href="([^"]+)"[^>]*>)?'
                       r'<code class="docutils literal notranslate"><span class="pre">(numvae\.[\w.]+)</span></code>')
    linked, unlinked = {}, []
    for path in LECTURES:
        source, page = path.read_text(encoding="utf-8"), (site / "lectures" / f"{path.stem}.html").read_text(encoding="utf-8")
        for link, href, name in prose.findall(page):
            target = pydoc.locate(name)
            canonical = target.__name__ if inspect.ismodule(target) else \
                f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"
            if link:
                linked[name] = href
            elif {name, canonical} & documented:
                unlinked.append(f"{path.stem}: ``{name}`` has an API page ({canonical}) but is not linked to it")
        if "numvae.VAE(" in source:
            assert 'class="sphinx-codeautolink-a" href="../api/numvae.vae.html#numvae.vae.VAE"' in page, \
                f"{path.stem}: numvae.VAE in a code cell does not link to its API page"
    assert not unlinked, "\n".join(unlinked)
    assert linked, "no ``numvae.X`` in the lectures' prose links to the API reference"
    if any("``numvae.VAE``" in path.read_text(encoding="utf-8") for path in LECTURES):
        assert linked.get("numvae.VAE") == "../api/numvae.vae.html#numvae.vae.VAE", linked


def test_the_fast_mode_note_is_on_the_lecture_pages_only(site):
    """The build is in fast mode: each lecture says its numbers are placeholders; the other pages have none."""
    note = "Built in fast mode"
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site).as_posix()
        is_lecture = re.fullmatch(r"lectures/\d\d_\w+\.html", relative) is not None
        assert (note in text_of(page)) == is_lecture, f"{relative}: fast-mode note {'missing' if is_lecture else 'present'}"
    assert "the prose describes the full run" in text_of(site / "lectures" / f"{LECTURES[0].stem}.html").lower()


# The browser: Debian's chromium through its chromedriver (paths given, so selenium never looks for or
# downloads one), and a proxy that does not exist, so that any request leaving the machine fails.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900",
                  "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1"]
BROWSER_INTERNAL = ("chrome:", "chrome-extension:", "chrome-untrusted:", "devtools:")
RAW_MATH = re.compile(r"\$[^$\s](?:[^$]*[^$\s])?\$|\\\(|\\\)|\\\[|\\\]")
# Runs in the page once it has loaded: waits for MathJax and every image, then reports what it found.
# Text inside code, scripts and typeset math is not prose.
PAGE_SCRIPT = r"""
const done = arguments[arguments.length - 1];
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = [...document.images];
  await Promise.all(images.map(image => image.decode().catch(() => null)));
  const skip = 'pre, code, script, style, noscript, textarea, mjx-container, mjx-assistive-mml';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || parent.getClientRects().length === 0) continue;
    texts.push(node.textContent);
  }
  done({
    brokenImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src),
    imageCount: images.length,
    untypeset: [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'))
                 .map(e => e.textContent.slice(0, 80)),
    typesetCount: document.querySelectorAll('mjx-container').length,
    copyButtons: document.querySelectorAll('.cell_input button.copybtn').length,
    text: texts.join(' '),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  });
})();
"""


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    """A headless Chromium WebDriver with a fresh profile, logging console and network events."""
    require_site_extra()
    chromium_path, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium_path and driver_path):
        unavailable("chromium or chromedriver not found: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="numvae-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium_path
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


def network_problems(performance_log, base_url):
    """Failed requests, error statuses and requests that leave the local server, from Chromium's log."""
    problems, urls = [], {}
    for entry in performance_log:
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = urls[params["requestId"]] = params["request"]["url"]
            if not url.startswith((base_url, "data:", "blob:", "about:") + BROWSER_INTERNAL):
                problems.append(f"request to a remote address: {url}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        elif method == "Network.loadingFailed":  # a request of this page's (announced in this log), not the browser's
            url = urls.get(params.get("requestId"))
            if url is not None and not url.startswith(BROWSER_INTERNAL):
                problems.append(f"request failed ({params.get('errorText')}): {url}")
    return problems


def check_page(driver, url, base_url):
    """Open ``url``; return ``(problems, report)``, report being what PAGE_SCRIPT found."""
    driver.get_log("browser")  # drop what earlier pages left
    driver.get_log("performance")
    driver.get(url)
    report = driver.execute_async_script(PAGE_SCRIPT)
    problems = [f"console {entry['level']}: {entry['message']}" for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE"]
    problems += network_problems(driver.get_log("performance"), base_url)
    problems += [f"image not decoded: {src}" for src in report["brokenImages"]]
    problems += [f"math not typeset: {text!r}" for text in report["untypeset"]]
    problems += [f"raw math in the text: {match.group(0)!r} in ...{report['text'][max(0, match.start() - 40):match.end() + 40]!r}..."
                 for match in RAW_MATH.finditer(report["text"])]
    return problems, report


def link_problems(reports, site_dir, base_url):
    """Internal links whose file is not in the site, or whose #fragment is no id of an opened page."""
    problems = []
    for page, report in reports.items():
        for link in report["links"]:
            if not link.startswith(base_url):
                continue
            target, fragment = urldefrag(link)
            relative = unquote(target[len(base_url):]) or "index.html"
            if not (Path(site_dir) / relative).is_file():
                problems.append(f"{page}: link to a missing file: {link}")
            elif fragment and relative in reports and unquote(fragment) not in reports[relative]["ids"]:
                problems.append(f"{page}: link to a missing anchor: {link}")
    return sorted(set(problems))


@pytest.fixture(scope="module")
def browsed(site):
    """``(reports, base_url, problems)``: every page of the site opened in Chromium."""
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                   if not path.relative_to(site).parts[0].startswith("_"))
    reports, problems = {}, []
    with serve(site) as base_url, chromium() as driver:
        for page in pages:
            page_problems, reports[page] = check_page(driver, base_url + page, base_url)
            problems += [f"{page}: {problem}" for problem in page_problems]
    return reports, base_url, problems


def test_every_page_loads_cleanly_in_chromium(browsed):
    reports, _, problems = browsed
    assert {"index.html", "exercises.html", "lectures/index.html", "api/index.html"} <= set(reports)
    assert not problems, "\n".join(problems)


def test_lecture_figures_are_decoded_math_typeset_and_code_has_copy_buttons(browsed):
    reports, _, _ = browsed
    for path in LECTURES:
        report, source = reports[f"lectures/{path.stem}.html"], path.read_text(encoding="utf-8")
        figures = set(re.findall(r"""["'](\d\d_[\w-]+\.png)["']""", source))
        assert report["imageCount"] >= len(figures), f"{path.name} names {len(figures)} figures, its page shows fewer"
        assert "$" not in source or report["typesetCount"] > 0, f"the page of {path.name} has no typeset math"
        assert report["copyButtons"] > 0, f"the code cells of {path.name} have no copy button"


def test_internal_links_resolve(browsed, site):
    reports, base_url, _ = browsed
    assert sum(len(report["links"]) for report in reports.values()) > len(reports)
    problems = link_problems(reports, site, base_url)
    assert not problems, "\n".join(problems)


def test_search_works_from_a_file_url(site):
    """README says to open site/html/index.html: from file://, search must work without console errors."""
    with chromium() as driver:
        driver.get_log("browser")
        driver.get(site.resolve().as_uri() + "/search.html?q=reparameterize")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "finished" not in driver.execute_script(
                "return (window.Search && Search.status && Search.status.innerText) || ''"):
            time.sleep(0.2)
        time.sleep(1)  # the result list is shown; let any summary fetch fail, if it is going to
        results = driver.execute_script("return document.querySelectorAll('#search-results li').length")
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert results > 0, "searching for 'reparameterize' from file:// found nothing"
    assert not errors, "\n".join(errors)


# Runs in a lecture page: what printing would show of it, under the media Chromium is told to emulate.
PRINT_SCRIPT = """
const visible = element => element && getComputedStyle(element).display !== 'none';
const code = [...document.querySelectorAll('article pre')];
return {
  skipLink: visible(document.querySelector('.skip-to-content')),
  copyButtons: [...document.querySelectorAll('button.copybtn')].filter(visible).length,
  code: code.length,
  cut: code.filter(pre => pre.scrollWidth > pre.clientWidth + 1).map(pre => pre.textContent.slice(0, 60)),
};
"""


def test_printed_lecture_pages_wrap_code_and_show_no_skip_link(site):
    """Under print media, at about the width of an A4 page: no code line is cut at the margin, no skip link.

    On screen at the same width, code does scroll sideways, so the print check has something to catch."""
    longest = max(LECTURES, key=lambda path: max(map(len, path.read_text(encoding="utf-8").splitlines())))
    with serve(site) as base_url, chromium() as driver:
        driver.set_window_size(760, 1000)  # A4 is 794 CSS pixels wide, less the margins
        driver.get(f"{base_url}lectures/{longest.stem}.html")
        screen = driver.execute_script(PRINT_SCRIPT)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        printed = driver.execute_script(PRINT_SCRIPT)
    assert screen["cut"] and screen["skipLink"], f"on screen, {longest.stem} has no wide code line: {screen}"
    assert printed["code"] == screen["code"] > 0
    assert not printed["cut"], "printing cuts these code blocks at the margin:\n" + "\n".join(printed["cut"])
    assert not printed["skipLink"], "the skip link is printed (over the text)"
    assert printed["copyButtons"] == 0, "copy buttons are printed"


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
    (tmp_path / "index.html").write_text(BROKEN_PAGE, encoding="utf-8")
    with serve(tmp_path) as base_url, chromium() as driver:
        problems, report = check_page(driver, base_url + "index.html", base_url)
    text = "\n".join(problems)
    assert "console SEVERE" in text and "deliberate" in text, text
    assert "HTTP 404" in text and "missing.png" in text, text
    assert "request to a remote address: http://example.invalid/remote.js" in text, text
    assert "image not decoded" in text, text
    assert "math not typeset: '\\\\(z\\\\)'" in text, text
    assert "raw math in the text: '$x^2$'" in text and "raw math in the text: '\\\\('" in text, text
    assert "$code$" not in text, "text inside <pre> was checked as prose"
    links = link_problems({"index.html": report}, tmp_path, base_url)
    assert any("missing file" in problem and "nowhere.html" in problem for problem in links), links
    assert any("missing anchor" in problem and "no-such-anchor" in problem for problem in links), links
