"""Prompt files (`prompts/<id>.v<version>.md`): front matter with id, version and declared variables, then
`## system` and `## user` sections. Variables are checked when a prompt is loaded (at start-up), so a
missing or unknown `{{variable}}` fails before the first question, not during it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
PASSAGE_LAYOUTS = ("tagged", "numbered")
_VAR = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class PromptError(ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    id: str
    version: str
    variables: frozenset[str]
    system: str
    user: str
    passages: str = "tagged"  # how passages are laid out: "tagged" (<passage n=..>) or "numbered" ([n] text)

    def render(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with every declared variable filled in; extra or missing values are errors."""
        given = set(values)
        if given != self.variables:
            raise PromptError(f"prompt {self.id}.v{self.version}: expected variables {sorted(self.variables)}, "
                              f"got {sorted(given)}")

        def fill(template: str) -> str:
            return _VAR.sub(lambda m: values[m.group(1)], template)

        return [{"role": "system", "content": fill(self.system)}, {"role": "user", "content": fill(self.user)}]


def load_prompt(name: str, version: int | str = 1, directory: Path = PROMPTS_DIR) -> Prompt:
    path = directory / f"{name}.v{version}.md"
    if not path.exists():
        raise PromptError(f"prompt file not found: {path}")
    return parse_prompt(path.read_text(encoding="utf-8"), str(path))


def parse_prompt(text: str, origin: str = "<prompt>") -> Prompt:
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not m:
        raise PromptError(f"{origin}: missing front matter (--- id/version/variables ---)")
    meta = dict(re.findall(r"^(\w+):\s*(.*)$", m.group(1), re.M))
    for key in ("id", "version", "variables"):
        if key not in meta:
            raise PromptError(f"{origin}: front matter lacks '{key}'")
    declared = frozenset(v.strip() for v in meta["variables"].strip("[] ").split(",") if v.strip())
    sections = dict(re.findall(r"^## (system|user)\n(.*?)(?=^## |\Z)", m.group(2), re.M | re.S))
    if set(sections) != {"system", "user"}:
        raise PromptError(f"{origin}: needs a '## system' and a '## user' section")
    used = set(_VAR.findall(sections["system"] + sections["user"]))
    if used != declared:
        missing, unknown = sorted(declared - used), sorted(used - declared)
        raise PromptError(f"{origin}: declared variables not used: {missing}; used but not declared: {unknown}")
    layout = meta.get("passages", "tagged").strip()
    if layout not in PASSAGE_LAYOUTS:
        raise PromptError(f"{origin}: passages must be one of {', '.join(PASSAGE_LAYOUTS)}, not {layout!r}")
    return Prompt(meta["id"], meta["version"], declared, sections["system"].strip(), sections["user"].strip(),
                  layout)
