"""docs/course.md, the lecturer's page: every lecture is planned once, timed once, and each week's
exercises are the ones its lectures end with (so the plan cannot drift from the lectures)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = (REPO / "docs" / "course.md").read_text(encoding="utf-8")
LECTURES = {path.name[:2]: path for path in (REPO / "tutorials").glob("[0-9][0-9]_*.py")}


def _section(title):
    start = PAGE.index(title)
    end = PAGE.find("\n## ", start + 1)
    return PAGE[start : end if end != -1 else None]


def _rows(section):
    """The table rows of ``section``, each as its list of cells (the header and the rule left out)."""
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:] if not set(row) <= set("|- ")]


def _only_line(lecture):
    text = LECTURES[lecture].read_text(encoding="utf-8")
    return re.findall(r"numvae exercises start \S+ --only (\S+)", text)[-1]


def test_the_12_week_plan_has_every_lecture_once_with_the_exercises_it_ends_with():
    planned = []
    for week, lectures, exercises in _rows(_section("## A 12-week plan")):
        numbers = re.findall(r"\b(\d\d)\b", lectures)
        lists = re.findall(r"`([^`]+)`", exercises)
        assert len(numbers) == len(lists), f"week {week}: {len(numbers)} lectures, {len(lists)} exercise lists"
        for number, only in zip(numbers, lists):
            assert only == _only_line(number), f"week {week}, lecture {number}: {only} != {_only_line(number)}"
        planned += numbers
    assert sorted(planned) == sorted(LECTURES), f"planned {sorted(planned)}, lectures {sorted(LECTURES)}"


def test_the_6_week_plan_has_every_lecture_once():
    planned = [n for _, lectures in _rows(_section("## A 6-week plan")) for n in re.findall(r"\b(\d\d)\b", lectures)]
    assert sorted(planned) == sorted(LECTURES), f"planned {sorted(planned)}, lectures {sorted(LECTURES)}"


def test_every_lecture_has_a_measured_run_time():
    timed = {}
    for lecture, wall, cpu in _rows(_section("## How long each lecture runs")):
        assert re.fullmatch(r"[\d.]+ (s|min)", wall) and re.fullmatch(r"[\d.]+ (s|min)", cpu), (lecture, wall, cpu)
        timed[lecture] = wall
    assert sorted(timed) == sorted(LECTURES), f"timed {sorted(timed)}, lectures {sorted(LECTURES)}"
