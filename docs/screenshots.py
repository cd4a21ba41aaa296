"""Screenshots of a built site for the README: ``python docs/screenshots.py SITE_DIR``.

Writes ``figures/site_home.png`` (the home page) and ``figures/site_lecture.png``
(the first lecture page, scrolled to its first equation) from headless Chromium.
Build the site in full mode first (``python docs/build.py SITE_DIR``), so that
the figures in the screenshots are the real ones.
"""

import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR))

import browser  # noqa: E402

FIGURES_DIR = DOCS_DIR.parent / "figures"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not (Path(argv[0]) / "index.html").is_file():
        print("docs/screenshots.py: SITE_DIR: expected a built site (a folder with index.html), "
              f"got {' '.join(argv) or 'nothing'}", file=sys.stderr)
        return 1
    site_dir = Path(argv[0])
    lectures = sorted((site_dir / "lectures").glob("*.html"))
    with browser.serve(site_dir) as base_url, browser.chromium() as driver:
        driver.set_window_size(1280, 1750)  # tall enough for the opening and the first lectures
        driver.get(base_url)
        driver.execute_async_script(browser.PAGE_SCRIPT)
        driver.save_screenshot(str(FIGURES_DIR / "site_home.png"))
        driver.set_window_size(1280, 1400)
        driver.get(base_url + lectures[0].relative_to(site_dir).as_posix())
        driver.execute_async_script(browser.PAGE_SCRIPT)
        # Down to the first displayed equation, with the section's prose, code and output below it.
        driver.execute_script("const math = document.querySelector('article div.math');"
                              "if (math) window.scrollTo({top: math.getBoundingClientRect().top + window.scrollY - 260,"
                              " behavior: 'instant'});")  # the theme scrolls smoothly otherwise
        driver.save_screenshot(str(FIGURES_DIR / "site_lecture.png"))
    print(f"wrote {FIGURES_DIR / 'site_home.png'} and {FIGURES_DIR / 'site_lecture.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
