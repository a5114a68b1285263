"""axe-core (from npm, tests/node_modules) in a Playwright page or frame: violations of WCAG 2.2 AA and of axe's best
practices, readably."""
import json
import os
from pathlib import Path

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA, and the best practices that catch what its rules let through (content outside landmarks, …).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_source() -> str:
    """axe.min.js; missing: skipped, as the browser tests are without Chromium, except in CI (REQUIRE_BROWSER)."""
    if not AXE.exists():
        import pytest

        message = f"{AXE} is missing: run `npm ci --prefix tests`"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def violations(target) -> list[dict]:
    """Run axe with the WCAG 2.2 AA and best-practice tags on a Playwright Page or Frame; returns axe's violations.

    The script is evaluated (not added as a <script> tag), so the app's CSP (our own origin only) does not stop it.
    """
    if not target.evaluate("() => !!window.axe"):
        target.evaluate(axe_source() + "\n;undefined")
    return target.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations",
        WCAG_AA)


def describe(found: list[dict], where: str = "") -> str:
    """One line per violation and element: rule id, impact, target, summary."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or violation["help"]).replace("\n", " ")
            lines.append(f"{where}{violation['id']} ({violation['impact']}) at {json.dumps(node['target'])}: "
                         f"{violation['help']} – {summary}")
    return "\n".join(lines)


def assert_accessible(target, where: str = "") -> None:
    found = violations(target)
    assert not found, "axe (WCAG 2.2 AA, best practices) found:\n" + describe(found, f"[{where}] " if where else "")
