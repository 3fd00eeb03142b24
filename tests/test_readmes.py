"""The READMEs: one shape for the app READMEs, word budgets, and every figure from the results page.

A README quotes a benchmark figure in one form only: as the text of a link to a section of
bench/results/latest.md, e.g. [Sanic ×2.63 on `/json`](../bench/results/latest.md#sanic_app).
Every number in that link text must appear in the section the anchor names; throughput words
outside such a link fail, so a figure cannot drift away from the page that measured it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.apps import REPO, discover

SKELETON = [
    "What you get",
    "Quick start",
    "What changed since the article",
    "Deploy to Heroku",
    "Configuration",
    "How it works",
    "Operations",
]
APP_READMES = [spec.path / "README.md" for spec in discover()]
BUDGETS = {**{path: 1200 for path in APP_READMES}, REPO / "README.md": 800, REPO / "bench" / "README.md": 700}
OPERATIONS_BUDGET = 150  # words: what to run and where the figures are, not a report
RESULTS = REPO / "bench" / "results"
# https://devcenter.heroku.com/articles/python-support: what a new app gets without a pin.
HEROKU_DEFAULT_PYTHON = "3.14"
LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
# How a benchmark figure reads when it is stated outside a results link (the fixed form is the link).
THROUGHPUT = re.compile(r"\d\s*(req(uest)?s?/s|requests per second)|×\s*\d+\.\d|\d times (faster|slower|more)", re.I)


def words(path: Path) -> int:
    return len(path.read_text().split())  # what `wc -w` counts


def without_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation but - and _ dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def sections(page: Path) -> dict[str, str]:
    """Anchor -> the text under that heading, up to the next heading of the same or a higher level."""
    lines = page.read_text().splitlines()
    found = {}
    for i, line in enumerate(lines):
        m = re.match(r"(#+) (.+)", line)
        if not m:
            continue
        end = next((j for j in range(i + 1, len(lines)) if re.match(rf"#{{1,{len(m.group(1))}}} ", lines[j])), len(lines))
        found[anchor(m.group(2))] = "\n".join(lines[i:end])
    return found


def numbers(text: str) -> set[str]:
    text = re.sub(r"(?<=\d)[ ,\u202f](?=\d{3}\b)", "", text)  # 7 513 and 7,513 are 7513
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def results_links(path: Path, content: str | None = None) -> list[tuple[str, Path, str]]:
    """(link text, target file, anchor) for every link from this README into bench/results/."""
    out = []
    for text, href in LINK.findall(without_code(path.read_text() if content is None else content)):
        if href.startswith(("http:", "https:", "#")):
            continue
        target, _, fragment = href.partition("#")
        resolved = (path.parent / target).resolve()
        if resolved.is_relative_to(RESULTS):
            out.append((text, resolved, fragment))
    return out


@pytest.mark.parametrize("path", APP_READMES, ids=lambda p: p.parent.name)
def test_app_readme_has_the_skeleton_headings_in_order(path):
    headings = re.findall(r"^## (.+?)\s*$", without_code(path.read_text()), re.M)
    assert headings == SKELETON, f"{path.parent.name}/README.md level-2 headings: {headings}"


@pytest.mark.parametrize("path", list(BUDGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_readme_is_within_its_word_budget(path):
    assert words(path) <= BUDGETS[path], f"{path.relative_to(REPO)}: {words(path)} words, budget {BUDGETS[path]}"


@pytest.mark.parametrize("path", list(BUDGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_no_generated_table_in_a_readme(path):
    text = path.read_text()
    assert "<!-- bench:" not in text, "make bench writes bench/results/, never a README"
    tables = [line for line in text.splitlines() if line.startswith("|") and THROUGHPUT.search(line)]
    assert not tables, f"a benchmark table belongs on the results page: {tables[:2]}"


@pytest.mark.parametrize("path", APP_READMES, ids=lambda p: p.parent.name)
def test_operations_section_is_short(path):
    operations = path.read_text().partition("\n## Operations\n")[2].split("\n## ")[0]
    assert len(operations.split()) <= OPERATIONS_BUDGET, f"Operations: {len(operations.split())} words"


@pytest.mark.parametrize("path", APP_READMES, ids=lambda p: p.parent.name)
def test_app_readme_names_its_python_and_herokus_default(path):
    pinned = (path.parent / ".python-version").read_text().strip()
    text = " ".join(path.read_text().split())
    assert f"Python {pinned} is pinned" in text, f"the README does not say it pins Python {pinned}"
    assert f"default for new apps is {HEROKU_DEFAULT_PYTHON}" in text


@pytest.mark.parametrize("path", list(BUDGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_at_files_that_exist(path):
    for text, href in LINK.findall(without_code(path.read_text())):
        target = href.partition("#")[0]
        if target and not re.match(r"[a-z]+:", target):
            assert (path.parent / target).exists(), f"[{text}]({href}): no such file"


@pytest.mark.parametrize("path", list(BUDGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_results_links_point_at_sections_that_exist(path):
    for text, target, fragment in results_links(path):
        assert target.exists(), f"[{text}] links {target.relative_to(REPO)}, which does not exist"
        if fragment:
            assert fragment in sections(target), (
                f"[{text}] links #{fragment}, not a heading of {target.relative_to(REPO)}: {sorted(sections(target))}"
            )


@pytest.mark.parametrize("path", list(BUDGETS), ids=lambda p: str(p.relative_to(REPO)))
def test_every_figure_agrees_with_the_results_page(path):
    for text, target, fragment in results_links(path):
        if not numbers(text):
            continue
        assert fragment, f"[{text}] states figures: link the results section that has them"
        section = sections(target).get(fragment, "")
        missing = numbers(text) - numbers(section)
        assert not missing, f"[{text}]: {sorted(missing)} not in {target.relative_to(REPO)}#{fragment}"
    outside = LINK.sub("", without_code(path.read_text()))
    stray = [line.strip() for line in outside.splitlines() if THROUGHPUT.search(line)]
    assert not stray, f"a throughput figure outside a results link (make it the link's text): {stray[:2]}"


def test_the_checks_catch_a_contradicted_figure():
    """The figure check itself: a number the section does not have, and an anchor that does not exist."""
    page = RESULTS / "latest.md"
    some_section = next(iter(sections(page)))
    assert numbers("[Sanic ×2.63 on `/json`, 7,513 req/s]") == {"2.63", "7513"}
    content = f"[about 2.6312345](results/latest.md#{some_section}) [x](results/latest.md#nowhere)"
    (text, target, fragment), (_, _, missing) = results_links(REPO / "bench" / "README.md", content)
    assert target == page
    assert numbers(text) - numbers(sections(page)[fragment]) == {"2.6312345"}
    assert missing not in sections(page)
