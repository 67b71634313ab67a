"""Article fields that come from outside (JSON records, front matter, HTML metadata), checked one by one.

Each check returns the clean value or raises FieldError naming the field and what is wrong with it; the loader
turns that into a Failure of that one record, so a bad record never costs the good ones. What is coerced:
an integer id or title becomes its digits, a `source` object with a `name` becomes that name, a date in a
recognised form becomes ISO YYYY-MM-DD (so that dates sort and filter as strings). Everything else of the wrong
type is refused: a number is not a URL, an object is not a date.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

MAX_ID = 120
HASH_CHARS = 10
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Forms read besides ISO 8601 and RFC 2822 ("Tue, 02 Jan 2024 10:00:00 GMT"). Day/month order is never guessed:
# 01/02/2024 is refused.
DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
                "%d %B, %Y", "%b. %d, %Y")
ISO_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")


class FieldError(ValueError):
    """A field of a record that cannot be used; the message names the field."""


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# -- ids -----------------------------------------------------------------------------------------------
def _id_char(c: str) -> bool:
    return c in "_.-" or unicodedata.category(c)[0] in "LMN"  # letters, marks and digits of every script


def is_safe_id(text: str) -> bool:
    """Usable as is: in a chunk id (`id:hash:n`, so no ':'), a URL path segment and a shell argument."""
    return (0 < len(text) <= MAX_ID and all(_id_char(c) for c in text) and text[0] not in "-."
            and text[-1] != "-" and any(c.isalnum() for c in text))


def make_id(original: str) -> str:
    """The id for `original` (a file name's stem or a record's `id`): the original itself when it is already a
    safe id; otherwise its letters and digits (of any script; other runs become '-'), cut to fit, followed by a
    short hash of the original, so that two different originals (`a/b` and `a b`, two long ids that differ only
    after 120 characters) never share an id."""
    if is_safe_id(original):
        return original
    base = re.sub(r"-{2,}", "-", "".join(c if _id_char(c) else "-" for c in original))
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    base = base[:MAX_ID - HASH_CHARS - 1].strip("-.")
    return f"{base}-{digest}" if base else f"article-{digest}"


def record_id(value: object) -> str | None:
    """A record's `id`: a string, or an integer (`17` and `"17"` are the same article); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FieldError(f"'id' must be a string or an integer, not {describe(value)}")
    value = CONTROL.sub("", value).strip()
    return make_id(value) if value else None


# -- strings -------------------------------------------------------------------------------------------
def text_field(value: object, name: str) -> str | None:
    """`title` or `source`: a string; a number becomes its digits; a source object gives its `name`."""
    if isinstance(value, dict) and name == "source" and isinstance(value.get("name"), str):
        value = value["name"]  # NewsAPI's {"id": ..., "name": "BBC News"}
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(f"'{name}' must be a string, not {describe(value)}")
    return CONTROL.sub("", value).strip() or None


def iso_date(value: object) -> str | None:
    """YYYY-MM-DD from ISO 8601 (with or without a time), RFC 2822 or a written-out date; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(f"'date' must be a date string such as 2024-05-31, not {describe(value)}")
    text = value.strip()
    parsed = _parse_date(text)
    if parsed is None:
        raise FieldError(f"'date' {text[:40]!r} is not a date newsrag can read (write it as YYYY-MM-DD)")
    return parsed.isoformat()


def _parse_date(text: str) -> date | None:
    if not text or len(text) > 64:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    iso = ISO_PREFIX.match(text)  # "2024-05-31 10:00:00 UTC"
    if iso:
        try:
            return date(*map(int, iso.groups()))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    for form in DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def http_url(value: object) -> str | None:
    """An http(s) URL with a host (it becomes a link in the UI: `javascript:` is not one); None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(f"'url' must be an http(s) URL string, not {describe(value)}")
    text = value.strip()
    try:
        parts = urlsplit(text)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or any(c.isspace() or ord(c) < 32 for c in text):
        raise FieldError(f"'url' {text[:60]!r} is not an http(s) URL")
    return text


def lenient(check: Callable[[object], str | None], value: object) -> str | None:
    """The checked value, or None when it does not pass: for metadata we extracted, not metadata declared."""
    try:
        return check(value)
    except FieldError:
        return None


# -- front matter --------------------------------------------------------------------------------------
FRONT = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.S | re.M)
FRONT_KEYS = ("id", "title", "date", "url", "source")


def front_matter(text: str) -> tuple[dict[str, str], str] | None:
    """(fields, rest) when `text` opens with a YAML front matter block (`---` ... `---`), else None. Only
    top-level `key: value` lines are read (plain, 'single' or "double" quoted scalars): the keys newsrag uses
    never need more, and no YAML library is needed for it. Other keys, lists and nested blocks are ignored."""
    found = FRONT.match(text)
    if not found or len(found.group(1)) > 65_536:
        return None
    fields: dict[str, str] = {}
    for line in found.group(1).splitlines():
        if not line.strip() or line[0] in " \t-#":
            continue
        key, sep, raw = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in FRONT_KEYS:
            continue
        fields[key] = _scalar(key, raw.strip())
    return fields, text[found.end():]


def _scalar(key: str, raw: str) -> str:
    if raw[:1] in ("|", ">"):
        raise FieldError(f"'{key}': block values are not read; write it on one line")
    if raw.startswith('"'):
        end = raw.rfind('"')
        try:
            value = json.loads(raw[:end + 1]) if end > 0 else None
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, str):
            raise FieldError(f"'{key}': unterminated or invalid \"quoted\" value")
        return value
    if raw.startswith("'"):
        end = raw.rfind("'")
        if end <= 0:
            raise FieldError(f"'{key}': unterminated 'quoted' value")
        return raw[1:end].replace("''", "'")
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()
