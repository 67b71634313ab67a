"""The committed calibration/validation split: seeded, stratified, disjoint, and applied by `newsrag eval --split`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import NewsragError
from eval.split import DEFAULT, HALVES, make_split, split_ids


def records(n_yes: int, n_no: int) -> list[dict]:
    return ([{"id": f"y{i}", "answerable": True} for i in range(n_yes)]
            + [{"id": f"n{i}", "answerable": False} for i in range(n_no)])


def test_split_is_seeded_stratified_and_disjoint() -> None:
    split = make_split(records(96, 43))
    a, b = (set(split[h]) for h in HALVES)
    assert not a & b and len(a | b) == 139
    assert sorted(sum(i.startswith("y") for i in half) for half in (a, b)) == [48, 48]
    assert sorted(sum(i.startswith("n") for i in half) for half in (a, b)) == [21, 22]
    assert make_split(records(96, 43)) == split  # the same seed, the same halves
    assert make_split(records(96, 43), seed=1) != split


def test_committed_split_covers_the_dev_questions_it_names() -> None:
    data = json.loads(DEFAULT.read_text())
    assert {len(data["calibration"]), len(data["validation"])} == {69, 70}
    assert not set(data["calibration"]) & set(data["validation"])
    assert split_ids("validation") == set(data["validation"])


def test_split_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(NewsragError, match="unknown split"):
        split_ids("test")
    with pytest.raises(NewsragError, match=r"python -m eval\.split"):
        split_ids("calibration", tmp_path / "missing.json")
