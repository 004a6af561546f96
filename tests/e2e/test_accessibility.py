"""Accessible: axe-core on every page of the patient journey, and every page on a phone.

The journey is the privacy crawl's (tests/e2e/demo.py): logged-out and logged-in
pages, the hold page, results updated by htmx after a filter changed, the week picker
after "next week", the patient area, the 404 page. axe-core comes from npm
(frontend/node_modules) and is injected by the test; that context alone bypasses the
CSP to let it in.
"""

import pytest

from tests.e2e.demo import make_patient_user, walk_patient_journey

pytestmark = pytest.mark.django_db(transaction=True)

# The outermost elements that stick out past the right edge (for the failure message).
OVERFLOWING = """width => {
  const out = [...document.querySelectorAll("body *")].filter(
    e => e.getBoundingClientRect().right > width + 0.5
  );
  return out
    .filter(e => !out.includes(e.parentElement))
    .slice(0, 5)
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} → ${Math.round(e.getBoundingClientRect().right)}px`);
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")),
    }));
}"""


def _axe(page, axe_source: str) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + " | ".join(v["nodes"])
        for v in page.evaluate(AXE_RUN)
    ]


def _report(problems: dict) -> str:
    return "\n".join(f"{page}:\n    {details}" for page, details in problems.items())


def test_axe_finds_no_serious_or_critical_violation_on_the_journey(
    open_page, demo, axe_source
):
    user = make_patient_user(email="axe@example.test", with_relative=True)
    page = open_page(locale="fr-FR", bypass_csp=True)
    found: dict[str, list[str]] = {}

    def on_page(page, label: str) -> None:
        violations = _axe(page, axe_source)
        if violations:
            found[f"{label} ({page.url})"] = violations

    visited = walk_patient_journey(page, demo=demo, user=user, on_page=on_page)

    assert len(visited) >= 20
    assert found == {}, _report(found)


def test_every_page_of_the_journey_fits_a_360_px_screen(open_page, demo, axe_source):
    user = make_patient_user(email="phone@example.test", with_relative=True)
    page = open_page(
        locale="fr-FR", viewport={"width": 360, "height": 740}, bypass_csp=True
    )
    too_wide: dict[str, tuple[int, list[str]]] = {}
    found: dict[str, list[str]] = {}

    def on_page(page, label: str) -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 360:
            too_wide[f"{label} ({page.url})"] = (
                width,
                page.evaluate(OVERFLOWING, 360),
            )
        # The phone layout (collapsed navigation, stacked results) gets axe too.
        violations = _axe(page, axe_source)
        if violations:
            found[f"{label} ({page.url})"] = violations

    visited = walk_patient_journey(page, demo=demo, user=user, on_page=on_page)

    assert len(visited) >= 20
    assert too_wide == {}, _report(too_wide)
    assert found == {}, _report(found)
