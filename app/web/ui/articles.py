"""The Articles tab's pure parts: search, the count line and the preview of one article. No Gradio, no engine.

Search matches every word of the query, case-insensitively, anywhere in an article's id, title, source or date, so
"kerry 2015" finds what both words find. The preview is the article as the index holds it (what citations point
into), escaped like everything else the UI shows.
"""

from __future__ import annotations

from html import escape

from app.web.ui.views import paragraphs

PREVIEW_CHARS = 1_500
FIELDS = ("id", "title", "source", "date")


def matches(row: dict, query: str) -> bool:
    hay = " ".join(str(row.get(f) or "") for f in FIELDS).casefold()
    return all(word in hay for word in query.casefold().split())


def search(listing: list[dict], query: str | None) -> list[dict]:
    query = (query or "").strip()
    return [r for r in listing if matches(r, query)] if query else listing


def count_line(shown: int, total: int, query: str | None) -> str:
    """Markdown: how many articles are indexed (and how many match the search)."""
    noun = "article" if total == 1 else "articles"
    if not total:
        return "**No articles indexed yet.** Add some below, or with `newsrag ingest PATH`."
    query = (query or "").strip()
    if query and shown != total:
        return f"**{shown} of {total} {noun}** match “{escape(query)}”"
    return f"**{total} {noun}** indexed"


def preview_html(article: dict, text: str, limit: int = PREVIEW_CHARS) -> str:
    """One article: title, date, source, link, id, size, and the opening of its text."""
    meta = [escape(str(article[k])) for k in ("date", "source") if article.get(k)]
    url = article.get("url") or ""
    if url.lower().startswith(("http://", "https://")):
        meta.append(f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">link</a>')
    meta.append(f"<code>{escape(str(article['id']))}</code>")
    chunks = article.get("chunks", 0)
    size = f"{len(text):,} characters, {chunks} chunk{'' if chunks == 1 else 's'}"
    body = text[:limit]
    more = (f'<p class="nr-preview-more">… {len(text) - limit:,} more characters</p>'
            if len(text) > limit else "")
    return (f'<article class="nr-preview"><h3 class="nr-preview-title">{escape(str(article.get("title", "")))}</h3>'
            f'<div class="nr-src-meta">{" · ".join(meta)} · {size}</div>'
            f'<div class="nr-preview-text">{paragraphs(body)}{more}</div></article>')


EMPTY_PREVIEW = '<p class="nr-src-none">Click an article in the table to read it here.</p>'
