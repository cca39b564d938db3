"""Open a report in headless Chromium (Debian's package, driven by Playwright) and inspect it.

    python -m tests.browser REPORT.html SCREENSHOT.png    # also how docs/report.png is made
"""

import contextlib
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Without these, Chromium keeps trying to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@dataclass
class PageResult:
    console_errors: list[str] = field(default_factory=list)
    requests_outside: list[str] = field(default_factory=list)
    charts: dict[str, int] = field(default_factory=dict)  # chart id -> drawn SVG marks
    notes: dict[str, list[str]] = field(default_factory=dict)  # chart id -> its annotations' texts


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def open_page():
    """A fresh page in headless Chromium, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()


def inspect_report(report: Path, screenshot: Path, chart_ids, full_page: bool = False) -> PageResult:
    """Load the page offline, collect console errors, count what each chart drew, take a screenshot."""
    result = PageResult()
    with open_page() as page:
        page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
        page.on("pageerror", lambda e: result.console_errors.append(str(e)))
        # Any network request means something was not inlined: record it and refuse it.
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (result.requests_outside.append(route.request.url), route.abort()))
        page.goto(report.resolve().as_uri(), wait_until="load")
        for chart_id in chart_ids:
            # Plotly draws bars, heatmap cells and lines as SVG paths or images inside the chart's div.
            page.wait_for_selector(f"#{chart_id} .main-svg", timeout=20_000)
            marks = ", ".join(f"#{chart_id} {mark}" for mark in (".point", "image", ".js-line", ".js-fill"))
            result.charts[chart_id] = page.locator(marks).count()
            result.notes[chart_id] = page.locator(f"#{chart_id} .annotation-text").all_text_contents()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=full_page)
    return result


if __name__ == "__main__":
    from orchestration.lib.report import CHARTS
    from orchestration.lib.report_trends import CHARTS as TRENDS

    outcome = inspect_report(Path(sys.argv[1]), Path(sys.argv[2]), CHARTS, full_page=True)
    print(outcome)
    # A trend chart may be a note of what it needs (fewer than two snapshots stored); the rest must draw.
    drawn = all(marks or (chart in TRENDS and outcome.notes[chart]) for chart, marks in outcome.charts.items())
    sys.exit(1 if outcome.console_errors or not drawn else 0)


def playwright_missing() -> str | None:
    """Why Playwright cannot drive a browser here (not installed), or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed ({exc}; pip install playwright)"
    return None
