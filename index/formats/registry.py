"""The input formats by name, each with the file extensions it reads (README "Input formats").

A whole-file reader is `read(text, path, stem, origin) -> Iterator[Article | Failure]` (the file decoded once, within
NEWSRAG_MAX_FILE_MB); a streamed one (`streamed=True`) is `read(path, stem, max_mb, origin)` and bounds each record
itself. Adding a format is one module plus one `FORMATS.add` line here; the supported-extensions list in messages,
the CLI's help and the web UI's upload label read it.
"""

from __future__ import annotations

from index.registry import Registry

FORMATS = Registry("input format", "the file's extension")
FORMATS.add("text", "index.formats.plain:read_text", "first non-empty line is the title", extensions=(".txt",))
FORMATS.add("markdown", "index.formats.plain:read_markdown", "as text; a leading # is dropped from the title",
            extensions=(".md", ".markdown"))
FORMATS.add("html", "index.formats.html:read", "main text extracted with trafilatura", extensions=(".html", ".htm"))
FORMATS.add("json", "index.formats.records:read_json", "an object or a list of objects", extensions=(".json",))
FORMATS.add("jsonl", "index.formats.records:read_jsonl", "one object a line, streamed", extensions=(".jsonl",),
            streamed=True)
FORMATS.add("feed", "index.formats.feed:read", "RSS 2.0, Atom or JSON Feed: one article per item",
            extensions=(".rss", ".atom", ".xml"))

SUPPORTED: tuple[str, ...] = tuple(e for name in FORMATS.names() for e in FORMATS.entry(name).options["extensions"])


def format_for(extension: str) -> str | None:
    """The name of the format that reads files with this extension (lower case, with the dot), if any."""
    return next((n for n in FORMATS.names() if extension in FORMATS.entry(n).options["extensions"]), None)


def labels() -> str:
    """The extensions people type, for help texts and the upload label: ".txt .md .html .json .jsonl"."""
    return " ".join(FORMATS.entry(n).options["extensions"][0] for n in FORMATS.names())
