"""The HTTP API: `create_app(engine, settings)` builds the FastAPI app (docs at /docs).

Routes live in app/web/ask.py (ask, feedback), app/web/admin.py (articles), app/web/openai_api.py (/v1); who may
call what (CORS, rate limits, admin token) in app/web/security.py, the body-size cap in app/web/body_limit.py. Every
error body is `{"error": message}`; under /v1/ it is OpenAI's `{"error": {"message", "type", "param", "code"}}`,
which OpenAI clients parse (both built by app/web/errors.py). Every request is logged by app/web/access_log.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.engine import Engine
from app.errors import NewsragError
from app.quality.feedback import FeedbackStore, feedback_path
from app.settings import Settings
from app.web import admin as api_admin
from app.web import ask as api_ask
from app.web import openai_api as api_openai
from app.web.access_log import AccessLog
from app.web.body_limit import BodyLimit
from app.web.common import ApiContext, context
from app.web.errors import ErrorBody, error_body, responses
from app.web.headers import SecurityHeaders, security_headers
from app.web.security import API_PREFIXES, ApiError, OriginPolicy, RateLimiter
from app.web.startup import Startup, StartupGate
from app.web.ui.access import UploadGuard

STATIC = Path(__file__).resolve().parent / "static"
ROUTERS = (api_ask.router, api_admin.router, api_openai.router)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
WIDGET_HEADERS = {"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"}

DESCRIPTION = """Questions over news articles, answered with numbered citations to exact quoted spans.

Writes (`POST`/`DELETE /api/articles`) need `Authorization: Bearer <NEWSRAG_ADMIN_TOKEN>` (or, with no token
set, a loopback client). Browsers may call the API only from NEWSRAG_WIDGET_ORIGINS. Errors: `{"error": "..."}`
(under /v1/: OpenAI's `{"error": {"message": "...", "type": "...", "param": ..., "code": ...}}`)."""


def create_app(engine: Engine, settings: Settings, feedback: FeedbackStore | None = None,
               startup: Startup | None = None) -> FastAPI:
    """`startup`: the warm-up `newsrag serve` runs while already listening; until it is over the engine's routes
    answer 503 (app/web/startup.py). None: the engine is ready now (tests, the `--workers` processes)."""
    # FastAPIOffline: /docs with Swagger UI served from the package, not a CDN (the product runs offline)
    app = FastAPIOffline(title="newsrag", version="0.1.0", description=DESCRIPTION, docs_url="/docs", redoc_url=None,
                         static_url="/docs-static")
    per_minute = settings.rate_limit_per_minute
    app.state.newsrag = ApiContext(
        engine=engine, settings=settings, feedback=feedback or FeedbackStore(feedback_path(settings.data_dir)),
        asks=RateLimiter(per_minute),
        feedback_limit=RateLimiter(per_minute, message="Too much feedback: please wait a minute and try again."))
    if startup is not None:
        app.add_middleware(StartupGate, startup=startup)
    app.add_middleware(UploadGuard, settings=settings)  # Gradio's upload routes, when the UI is mounted at /
    app.add_middleware(BodyLimit, max_mb=settings.max_request_mb)
    app.add_middleware(OriginPolicy, allowed=settings.allowed_origins())
    app.add_middleware(SecurityHeaders)  # outermost but one: the 403s of OriginPolicy get them too
    app.add_middleware(AccessLog)  # outermost: every response is logged, whoever wrote it
    _handle_errors(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["ops"])
    app.add_api_route("/readyz", readyz, methods=["GET"], tags=["ops"],
                      responses=responses({503: "the model or the store is not usable"}))
    app.add_api_route("/widget.js", widget, methods=["GET"], tags=["widget"], response_class=FileResponse)
    # HEAD too (link checkers, CDNs and `curl -I` ask it first), left out of the docs: it is GET without a body
    app.add_api_route("/widget.js", widget, methods=["HEAD"], include_in_schema=False)
    _unknown_api_paths(app, [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)])
    _error_schemas(app)
    return app


def _error_schemas(app: FastAPI) -> None:
    """/docs shows the error bodies the API really sends: FastAPI documents every 422 as its own
    `HTTPValidationError` (a list of pydantic errors), which our handler turns into one sentence."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        for path, item in spec.get("paths", {}).items():
            body = "OpenAIErrorBody" if path.startswith("/v1/") else "ErrorBody"
            for op in item.values():
                for status, response in op.get("responses", {}).items():
                    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                    if status.startswith(("4", "5")) and schema.get("$ref", "").endswith("/HTTPValidationError"):
                        schema["$ref"] = f"#/components/schemas/{body}"
                        response["description"] = "a field is invalid or over its limit (named in the message)"
        for name in ("HTTPValidationError", "ValidationError"):
            spec.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _unknown_api_paths(app: FastAPI, routes: list[APIRoute]) -> None:
    """404 (405 when the path exists for other methods) as `{"error": ...}` for /api/ and /v1/ paths no route
    serves; added last, since such a path would otherwise fall through to the UI mounted at `/`."""
    async def no_such_endpoint(request: Request) -> JSONResponse:
        allowed = sorted({m for r in routes if r.path_regex.match(request.url.path) for m in r.methods or ()})
        if allowed:
            return _error(request, 405, f"{request.method} is not allowed here: use {', '.join(allowed)}.",
                          {"Allow": ", ".join(allowed)})
        return _error(request, 404, "No such API endpoint: the API is described at /docs.")

    for prefix in API_PREFIXES:
        app.add_api_route(prefix + "{rest:path}", no_such_endpoint, methods=METHODS, include_in_schema=False)


async def healthz() -> dict[str, str]:
    """The process is up (no dependencies touched)."""
    return {"status": "ok"}


async def readyz(request: Request) -> JSONResponse:
    """Loads the embedding model and touches the stores; 503 with the reason when either fails."""
    try:
        info = await run_in_threadpool(context(request).engine.ready)
    except Exception as exc:
        return JSONResponse(ErrorBody(error=f"not ready: {exc}").model_dump(), status_code=503)
    return JSONResponse({"status": "ready", **info})


async def widget() -> FileResponse:
    """The embeddable chat widget (see the comment at the top of the file for embedding and theming)."""
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=WIDGET_HEADERS)


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
           param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(request.url.path, status, message, param), status_code=status, headers=headers)


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(NewsragError)
    async def newsrag_error(request: Request, exc: NewsragError) -> JSONResponse:
        return _error(request, exc.status, str(exc))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(request, exc.status, exc.message, exc.headers, exc.param)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:  # logged by the server as well
        # sent by Starlette's ServerErrorMiddleware, outside SecurityHeaders: the headers are added here
        return _error(request, 500, "Something went wrong on the server (the details are in its log). Please try "
                      "again.", security_headers("application/json"))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        param = next((".".join(str(x) for x in e.get("loc", ()) if x != "body") for e in errors), None)
        return _error(request, *validation_message(errors), param=param or None)


def validation_message(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """Pydantic's error list as one sentence: 400 for unparseable JSON, 422 for a well-formed but wrong body."""
    for e in errors:
        if e.get("type") == "json_invalid":
            why = (e.get("ctx") or {}).get("error", "")
            return 400, f"The request body is not valid JSON ({why}): send a JSON object, e.g. " \
                        '{"question": "What did Kerry say about Assad?"}.'
    parts = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return 422, "Invalid request: " + "; ".join(parts) + "."
