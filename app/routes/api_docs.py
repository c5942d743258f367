"""/docs: the JSON API described from the app's own OpenAPI document, server-rendered.

FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN, which the content
security policy forbids (no script from the internet): they are disabled in create_app and
replaced by this page. The machine-readable document stays at /openapi.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import templates

router = APIRouter(include_in_schema=False)

_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[tuple[str, str, bool]] = field(default_factory=list)  # name, in, required
    body: str = ""  # schema name of the JSON body, if any
    responses: list[tuple[str, str]] = field(default_factory=list)  # status, description


def _schema_name(schema: dict) -> str:
    ref = schema.get("$ref", "")
    if ref:
        return ref.rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf", "allOf"):
        names = [_schema_name(s) for s in schema.get(key, []) if s.get("type") != "null"]
        if names:
            return " | ".join(n for n in names if n)
    return schema.get("type", "")


def operations(openapi: dict) -> list[Operation]:
    """Every operation of the document, in path order."""
    out = []
    for path, item in sorted(openapi.get("paths", {}).items()):
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            out.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    parameters=[
                        (p["name"], p.get("in", ""), bool(p.get("required")))
                        for p in op.get("parameters", [])
                    ],
                    body=_schema_name(body.get("schema", {})) if body else "",
                    responses=[
                        (status, r.get("description", ""))
                        for status, r in sorted(op.get("responses", {}).items())
                    ],
                )
            )
    return out


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    openapi = request.app.openapi()
    return templates.TemplateResponse(
        request,
        "api_docs.html",
        {"info": openapi.get("info", {}), "operations": operations(openapi)},
    )
