"""What every reader shares: the error a file or record becomes, and building an Article from checked fields."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from index.fields import http_url, iso_date, record_id, text_field
from index.types import Article

MB = 1_000_000  # how NEWSRAG_MAX_FILE_MB is counted


class LoadError(Exception):
    """A file (or record) that cannot become an article; the message is shown to the user."""


def checked_fields(meta: Mapping[str, object]) -> dict[str, str | None]:
    """id, title, date, url, source of a record or front matter, checked; FieldError names the first bad one."""
    return {"id": record_id(meta.get("id")), "title": text_field(meta.get("title"), "title"),
            "date": iso_date(meta.get("date")), "url": http_url(meta.get("url")),
            "source": text_field(meta.get("source"), "source")}


def article(**values: str | None) -> Article:
    try:
        return Article(**values)  # type: ignore[arg-type]
    except ValidationError as exc:  # every field is checked before: this is a safety net, never a traceback
        err = exc.errors()[0]
        raise LoadError(f"'{'.'.join(map(str, err['loc']))}': {err['msg']}") from None


