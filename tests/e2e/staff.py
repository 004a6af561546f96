"""What the workspace's browser tests share: a staff login with a second factor, and
the page checks (axe-core's serious and critical violations, nothing wider than the
screen) at the two widths every page is tried at."""

from urllib.parse import urlencode, urlsplit

from conftest import current_totp
from tests.e2e.demo import PASSWORD, navigate

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the root conftest's totp_secret
WIDTHS = [1100, 360]

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
    .map(v => v.id + " (" + v.impact + "): " + v.help + " — " +
      v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")).join(" | "));
}"""


def staff_login(page, email: str, next_path: str) -> None:
    """Password, then the TOTP code an authenticator app would show (allauth's form)."""
    page.goto(f"/accounts/login/?{urlencode({'next': next_path})}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    navigate(
        page, page.locator("form[action*='/accounts/login/'] [type=submit]").first.click
    )
    assert urlsplit(page.url).path == "/accounts/2fa/authenticate/"
    page.fill("main input[name=code]", current_totp(TOTP_SECRET))
    navigate(page, page.locator("main form button[type=submit]").first.click)
    assert urlsplit(page.url).path == urlsplit(next_path).path


def page_problems(page, axe_source: str, width: int) -> list[str]:
    """axe-core's serious or critical violations on the page, and any overflow."""
    if page.evaluate("() => typeof window.axe === 'undefined'"):
        page.add_script_tag(content=axe_source)
    found = list(page.evaluate(AXE_RUN))
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > width:
        found.append(
            f"wider than the screen: {scroll_width}px {page.evaluate(OVERFLOWING, width)}"
        )
    return found
