"""What the browser tests (tests/test_ui_browser.py, tests/test_widget_browser.py) share: Debian's chromium, the
flags it needs in a container, where screenshots and timings go, and the question they ask."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTEFACTS = ROOT / "test-artefacts"
KERRY = "What did Kerry say about Assad?"
