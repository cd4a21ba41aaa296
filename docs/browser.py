"""Check the built site in headless Chromium, the way a student's browser sees it.

Used by ``tests/test_site.py`` and ``docs/screenshots.py``. :func:`serve`
serves a folder on 127.0.0.1 from a thread; :func:`chromium` starts Debian's
``chromium`` through its ``chromedriver`` (paths given explicitly, so
selenium never looks for or downloads a driver) with an unreachable proxy,
so any request that leaves the machine fails and is reported;
:func:`check_page` opens one page and lists its problems:

* a console error, a failed request (HTTP status ≥ 400 or a network error),
  or a request to anything but the local server;
* an image that did not decode (``naturalWidth == 0``);
* math left untypeset: a ``.math`` element MathJax did not replace, or raw
  ``$...$``, ``\\(`` or ``\\[`` in the visible text outside code;
* and it returns the page's links, for the caller to resolve.

:func:`display_math` measures the display equations of a page against
their column, after :func:`set_viewport` (a projector's 1280x720, say);
:func:`too_wide` says which a reader would have to scroll sideways to see
whole (``scrollsDown`` says which sit in a box with a vertical scrollbar).
"""

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900",
                  # Anything not on 127.0.0.1 goes to a proxy that does not exist, and fails.
                  "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1"]
# Chromium's own pages and resources (its new-tab page, say), not requests made by the site.
BROWSER_INTERNAL = ("chrome:", "chrome-extension:", "chrome-untrusted:", "devtools:")
RAW_MATH = re.compile(r"\$[^$\s](?:[^$]*[^$\s])?\$|\\\(|\\\)|\\\[|\\\]")

# Runs in the page once it has loaded: waits for MathJax and for every image,
# then reports what it found. Text inside code, scripts and typeset math is skipped.
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
    text: texts.join(' '),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    title: document.title,
  });
})();
"""

# Runs in the page: every display equation MathJax 3 typeset, with its TeX source, the width
# of its typeset math, the width of the column it sits in (its container, or the container's
# parent if that is narrower), and whether the box that scrolls it (Furo's .math-wrapper)
# scrolls vertically.
DISPLAY_MATH_SCRIPT = r"""
const done = arguments[arguments.length - 1];
(async () => {
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) { done([]); return; }
  await MathJax.startup.promise;
  const found = [];
  for (const item of MathJax.startup.document.math) {
    if (!item.display || !item.typesetRoot) continue;
    const root = item.typesetRoot;
    const math = root.querySelector('mjx-math') || root;
    const column = Math.min(root.clientWidth, root.parentElement ? root.parentElement.clientWidth : Infinity);
    let box = root.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowY === 'visible') box = box.parentElement;
    const scrollsDown = Boolean(box && box !== document.body && box.scrollHeight > box.clientHeight + 1);
    found.push({tex: item.math, width: Math.max(math.getBoundingClientRect().width, root.scrollWidth),
                column: column, scrollsDown: scrollsDown});
  }
  done(found);
})();
"""


class BrowserUnavailable(Exception):
    """Chromium, its driver or selenium is not installed."""


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def find_binaries():
    """``(chromium, chromedriver)`` paths; raises BrowserUnavailable naming what is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in [("chromium", chromium), ("chromedriver", driver)] if path is None]
    if missing:
        raise BrowserUnavailable(f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver")
    return chromium, driver


@contextlib.contextmanager
def chromium():
    """A headless Chromium WebDriver with a fresh profile, logging console and network events."""
    chromium_path, driver_path = find_binaries()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise BrowserUnavailable(f"selenium is not installed ({error}): pip install -e \".[site]\"") from error
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager, should anything call it, stays offline
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
            if url.startswith(BROWSER_INTERNAL):
                continue
            if not url.startswith((base_url, "data:", "blob:", "about:")):
                problems.append(f"request to a remote address: {url}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        elif method == "Network.loadingFailed":
            # A request the page made was announced in this same log (it was emptied just
            # before the page was opened); one that was not is the browser's own, from before.
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


def set_viewport(driver, width, height):
    """Lay pages out as in a ``width`` x ``height`` CSS-pixel viewport (a projector: 1280, 720)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def display_math(driver, url):
    """Open ``url``; its display equations as ``{"tex", "width", "column", "scrollsDown"}`` (CSS pixels)."""
    driver.get(url)
    return driver.execute_async_script(DISPLAY_MATH_SCRIPT)


def too_wide(equation):
    """Whether an equation from :func:`display_math` overflows its column (by more than rounding)."""
    return equation["width"] > equation["column"] + 1


def site_pages(site_dir):
    """Every HTML page of a built site, relative to it (Sphinx's asset folders left out)."""
    site_dir = Path(site_dir)
    return sorted(path.relative_to(site_dir).as_posix() for path in site_dir.rglob("*.html")
                  if not path.relative_to(site_dir).parts[0].startswith("_"))


def link_problems(reports, site_dir, base_url):
    """Internal links that do not resolve: ``reports`` maps each opened page to its report.

    A link resolves when its file exists in the built site and, if it has a
    ``#fragment``, the target page has an element with that id.
    """
    from urllib.parse import unquote, urldefrag

    problems = []
    for page, report in reports.items():
        for link in report["links"]:
            if not link.startswith(base_url):
                continue
            target, fragment = urldefrag(link)
            relative = unquote(target[len(base_url):]) or "index.html"
            if relative.endswith("/"):
                relative += "index.html"
            if not (Path(site_dir) / relative).is_file():
                problems.append(f"{page}: link to a missing file: {link}")
            elif fragment and relative in reports and unquote(fragment) not in reports[relative]["ids"]:
                problems.append(f"{page}: link to a missing anchor: {link}")
    return sorted(set(problems))
