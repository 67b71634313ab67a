from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings
from tests.conftest import ROOT, make_settings


def test_env_example_lists_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text()
    keys = re.findall(r"^(NEWSRAG_[A-Z_]+)=", text, re.M)
    assert len(keys) == len(set(keys))
    assert {k.removeprefix("NEWSRAG_").lower() for k in keys} == set(Settings.model_fields)


def test_defaults_match_env_example() -> None:
    """The documented defaults are the real defaults."""
    text = (ROOT / ".env.example").read_text()
    for key, value in re.findall(r"^NEWSRAG_([A-Z_]+)=(.*)$", text, re.M):
        default = Settings.model_fields[key.lower()].default
        shown = "" if default is None else str(default)
        if isinstance(default, bool):
            shown = str(default).lower()
        if isinstance(default, float) and default.is_integer():
            shown = str(int(default))
        assert value == shown, key


def test_env_variables_are_read(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSRAG_TOP_K", "9")
    assert Settings(_env_file=None).top_k == 9  # type: ignore[call-arg]
    a, b = make_settings(tmp_path), make_settings(tmp_path, top_k=3)
    assert a.fingerprint() != b.fingerprint()
    assert "key" not in a.fingerprint()
