"""The article routes: list and read (public), upload and delete (admin token, or loopback when no token is set)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.progress import ProgressLog
from app.web.common import ApiContext, context
from app.web.errors import responses
from app.web.security import ApiError, require_admin
from index.ingest import IngestReport

router = APIRouter(tags=["articles"])

MAX_UPLOAD_FILES = 100
MAX_NAME_BYTES = 200
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MB = 1_000_000  # as index/load.py counts NEWSRAG_MAX_FILE_MB

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


@router.get("/api/articles")
async def articles(request: Request) -> dict[str, list[dict]]:
    """The indexed articles: id, title, date, source, url, chars, chunks."""
    return {"articles": await run_in_threadpool(context(request).engine.articles)}


class ArticleText(BaseModel):
    """One indexed article, as citations point into it: `text[start:end]` is a citation's quote."""

    id: str
    title: str
    date: str | None = None
    url: str | None = None
    source: str | None = None
    text: str


@router.get("/api/articles/{article_id:path}", response_model=ArticleText,
            responses=responses({404: "no such article"}))
async def article(article_id: str, request: Request) -> ArticleText:
    """One article with its text (what `/v1` citations link to when the article has no URL of its own)."""
    found = await run_in_threadpool(context(request).engine.article, article_id)
    return ArticleText(**found.model_dump(include={"id", "title", "date", "url", "source", "text"}))


@router.post("/api/articles", openapi_extra=UPLOAD_BODY, responses=responses({
    400: "no files sent", 401: "no admin token sent", 403: "wrong token, or not loopback",
    413: "a file is over NEWSRAG_MAX_FILE_MB", 422: "nothing could be ingested (the report says why)"}))
async def upload(request: Request) -> JSONResponse:
    """Add articles: multipart files (.txt .md .html .json .jsonl), ingested as one batch. Returns the report."""
    ctx = context(request)
    require_admin(request, ctx.settings)  # before reading a byte of the body
    limit = int(ctx.settings.max_file_mb * MB)
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit * MAX_UPLOAD_FILES + MB:
        raise ApiError(413, f"The upload is too large ({declared / MB:.1f} MB).")
    form = await request.form(max_files=MAX_UPLOAD_FILES)
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not files:
        raise ApiError(400, "Send one or more files as multipart/form-data (field `files`), "
                            "e.g. curl -F files=@article.txt ...")
    for f in files:
        if (f.size or 0) > limit:
            raise ApiError(413, f"{f.filename} is {(f.size or 0) / MB:.1f} MB; the limit is "
                                f"{ctx.settings.max_file_mb:g} MB (NEWSRAG_MAX_FILE_MB).")
    try:
        report = await run_in_threadpool(_ingest, ctx, files)
    finally:
        await form.close()
    body = report_json(report)
    if not report.ok:
        return JSONResponse({"error": "Nothing could be ingested: see `failed` for why.", **body}, status_code=422)
    return JSONResponse(body)


def _ingest(ctx: ApiContext, files: list[UploadFile]) -> IngestReport:
    with tempfile.TemporaryDirectory(prefix="newsrag-upload-") as tmp:
        names: dict[Path, str] = {}  # each article's origin is the name it was sent under, not the temp path
        for i, f in enumerate(files):
            name = upload_name(f.filename, i)
            path = Path(tmp) / name
            if path.exists():  # same name twice: keep the name, in its own folder
                path = Path(tmp) / str(i) / name
                path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(f.file, out)
            names[path] = name
        with ctx.write_lock, ProgressLog("upload", terminal=False) as progress:  # in the server's log
            report = ctx.engine.ingest(list(names), progress=progress, names=names)
        prefix = tmp.rstrip("/") + "/"
        for failure in (*report.failed, *report.duplicates, *report.conflicts, *report.notes):
            failure.path = str(failure.path).replace(prefix, "")
            failure.reason = failure.reason.replace(prefix, "")
        return report


def upload_name(filename: str | None, i: int) -> str:
    """The file name the client sent, made safe to create in the upload's temp folder: the last part of either kind
    of path (`../../etc/x.txt`, `C:\\x.txt`, `..\\..\\x.txt` all give `x.txt`), no control characters (a NUL
    byte made open() fail), at most MAX_NAME_BYTES (the file system's limit is 255), never `.` or `..`."""
    name = CONTROL.sub("", re.split(r"[/\\]", filename or "")[-1]).strip()
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        suffix = dot + suffix if dot and len(suffix) <= 10 else ""
        keep = MAX_NAME_BYTES - len(suffix.encode())
        name = (stem if suffix else name).encode()[:keep].decode(errors="ignore") + suffix
    return name if name.strip(".") else f"upload-{i}"


def report_json(report: IngestReport) -> dict[str, Any]:
    def failures(items: list) -> list[dict[str, str]]:
        return [{"path": f.path, "reason": f.reason} for f in items]

    return {"added": report.added, "updated": report.updated, "rechunked": report.rechunked,
            "unchanged": report.unchanged,
            "duplicates": failures(report.duplicates), "conflicts": failures(report.conflicts),
            "failed": failures(report.failed), "notes": failures(report.notes), "chunks": report.chunks}


@router.delete("/api/articles/{article_id:path}", responses=responses({
    401: "no admin token sent", 403: "wrong token, or not loopback", 404: "no such article"}))
async def delete(article_id: str, request: Request) -> dict[str, str]:
    """Remove an article from Chroma, the keyword index and the manifest."""
    ctx = context(request)
    require_admin(request, ctx.settings)

    def remove() -> None:
        with ctx.write_lock:
            ctx.engine.remove(article_id)

    await run_in_threadpool(remove)
    return {"removed": article_id}
