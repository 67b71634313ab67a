"""Error bodies, in the two shapes the API speaks, and their schemas for /docs.

Everything under /api/ (and the ops routes) answers `{"error": message}`; everything under /v1/ answers OpenAI's
`{"error": {"message", "type", "param", "code"}}`, which OpenAI clients parse into their exception classes (with a
flat body they show only the status). Every place that writes an error (the route handlers, the origin policy, the
start-up gate, the upload guard) builds it here, so no /v1 path can answer in the other shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

OPENAI_PREFIX = "/v1/"
OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                429: "rate_limit_error"}
OPENAI_CODES = {413: "request_too_large", 429: "rate_limit_exceeded", 503: "service_unavailable"}


def error_body(path: str, status: int, message: str, param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """The body of an error response on `path`."""
    if not path.startswith(OPENAI_PREFIX):
        return {"error": message}
    kind = "server_error" if status >= 500 else OPENAI_TYPES.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code or OPENAI_CODES.get(status)}}


class ErrorBody(BaseModel):
    """Every error of /api/ and the ops routes."""

    error: str = Field(examples=["The question is empty: ask something about the articles."])


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(examples=["invalid_request_error"], description="invalid_request_error, "
                      "authentication_error, permission_error, not_found_error, rate_limit_error or server_error")
    param: str | None = Field(default=None, description="the request field at fault, when there is one")
    code: str | None = Field(default=None, examples=["rate_limit_exceeded"])


class OpenAIErrorBody(BaseModel):
    """Every error under /v1/ (OpenAI's shape)."""

    error: OpenAIErrorDetail


def responses(codes: dict[int, str], openai: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and the error schema of its prefix."""
    model = OpenAIErrorBody if openai else ErrorBody
    return {code: {"model": model, "description": text} for code, text in codes.items()}
