"""The web application: create_app() wires settings, database, routes and error pages."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.routing import get_route_path

from app.logs import hide_link_tokens, redacted
from app.settings import Settings, get_settings
from app.templating import templates
from survey.db import autocommit, make_engine
from survey.messages import pydantic_problems
from survey.text import UNSTORABLE

log = logging.getLogger("carte")

STATIC_DIR = Path(__file__).parent / "static"
LOCK_TIMEOUT_MS = 5000  # PostgreSQL: longer lock waits fail with 503 « réessayez »
# Responses smaller than this go out as they are: gzip would save little and cost a buffer.
GZIP_MINIMUM_SIZE = 500
# Level 6 (zlib's default) compresses the pages almost as well as 9 for much less CPU.
GZIP_LEVEL = 6
# Formats that are already compressed: gzip would spend CPU for nothing.
GZIP_SKIPPED_TYPES = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

_STATUS_TEXT = {
    400: "Requête incorrecte",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action non permise",
    409: "Action impossible",
    413: "Envoi trop volumineux",
    422: "Données incorrectes",
    429: "Trop de tentatives",
    503: "Service momentanément saturé",
}
BUSY = (
    "Le service est très sollicité en ce moment : rien n'a été enregistré. "
    "Réessayez dans quelques secondes."
)


def is_busy(exc: OperationalError) -> bool:
    """The database refused to wait any longer (lock timeout, deadlock, SQLite lock): the same
    request will most likely succeed when tried again."""
    if getattr(exc.orig, "sqlstate", None) in ("55P03", "40P01", "40001"):
        return True
    return "database is locked" in str(exc.orig)


def is_refused_text(exc: DataError) -> bool:
    """PostgreSQL refused a text: NUL (refused by psycopg before sending) or a byte sequence
    invalid in its encoding (SQLSTATE 22021)."""
    return "NUL" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "22021"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The application; tests pass their own settings and engine."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Carte partenariale",
        description=(
            "Cartographie annuelle des partenariats entre services sociaux d'un département. "
            "Les messages d'erreur sont en français ; chaque erreur de champ est décrite dans "
            "`errors` (`field`, `message`)."
        ),
        version="0.1.0",
        # Swagger UI/ReDoc load scripts from a CDN; /docs is app/routes/api_docs.py
        docs_url=None,
        redoc_url=None,
    )
    hide_link_tokens()
    app.state.settings = settings
    app.state.secret = settings.resolved_secret()
    app.state.engine = engine or make_engine(
        settings.database_url, pool_size=settings.db_pool_size, lock_timeout_ms=LOCK_TIMEOUT_MS
    )
    # Questionnaire API requests run on the event loop with PostgreSQL (questionnaire_api._run),
    # their statements in autocommit: a first answer is two round trips, not four.
    app.state.inline_db = app.state.engine.dialect.name == "postgresql"
    app.state.api_engine = autocommit(app.state.engine)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # HTML, JSON, SVG, CSS and JS go out gzip-compressed to clients that accept it (no proxy
    # needed). Inside the security headers (app/headers.py), which wrap the whole stack.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=GZIP_MINIMUM_SIZE,
        compresslevel=GZIP_LEVEL,
        exclude_content_types=GZIP_SKIPPED_TYPES,
    )
    # Every request body is capped for its route (JSON API, upload, form): 413 before the
    # body is read (app/limits.py). Outside gzip, inside the session cookies.
    from app.limits import BodySizeLimit

    app.add_middleware(BodySizeLimit)

    # Session cookies, CSRF and the login redirect; then the security headers around the
    # whole stack (app/headers.py).
    from app import headers, security

    security.install(app)
    headers.install(app)

    from app.routers import ROUTERS

    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = pydantic_problems(list(exc.errors()))
        if _wants_json(request):
            return JSONResponse(
                {"detail": "Certaines réponses sont incorrectes.", "errors": problems},
                status_code=422,
            )
        return _error_page(request, 400, "Certaines données envoyées sont incorrectes.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and (detail is None or detail == "Not Found"):
            detail = "Cette page n'existe pas."
        if exc.status_code == 400 and (detail or "").startswith("There was an error parsing"):
            detail = "Le contenu envoyé est illisible (JSON ou encodage UTF-8 invalide)."
        headers = exc.headers
        if exc.status_code == 405:
            if detail is None or detail == "Method Not Allowed":
                detail = "Cette action n'est pas permise ici."
            allowed = _allowed_methods(request)
            if allowed:
                headers = {**(headers or {}), "Allow": allowed}
        if _wants_json(request):
            body = exc.detail if isinstance(exc.detail, dict) else {"detail": detail}
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        return _error_page(request, exc.status_code, detail or "", headers=headers)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError):
        if not is_busy(exc):
            return await _unexpected(request, exc)
        log.warning("Database busy on %s: %s", redacted(request.url.path), exc.orig)
        headers = {"Retry-After": "5"}
        if _wants_json(request):
            return JSONResponse({"detail": BUSY}, status_code=503, headers=headers)
        return _error_page(request, 503, BUSY, headers=headers)

    # Defence in depth: survey/text.py refuses these characters at every entry; one that still
    # reaches PostgreSQL is the sender's data, so a 400 as on SQLite, not a 500.
    @app.exception_handler(DataError)
    async def _refused_text(request: Request, exc: DataError):
        if not is_refused_text(exc):
            return await _unexpected(request, exc)
        log.warning("Text refused by the database on %s: %s", redacted(request.url.path), exc.orig)
        if _wants_json(request):
            return JSONResponse({"detail": UNSTORABLE}, status_code=400)
        return _error_page(request, 400, UNSTORABLE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # pragma: no cover - last resort
        log.exception("Unexpected error on %s", redacted(request.url.path))
        message = "Une erreur inattendue s'est produite. Rien n'a été enregistré ; réessayez."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=500)
        return _error_page(request, 500, message)

    return app


def _allowed_methods(request: Request) -> str:
    """Every method the app routes for this path, for the `Allow` header of a 405.

    Starlette names only the methods of the first route whose path matches: a path served by
    two routes (GET and PUT of /api/v1/questionnaire/{token}) announced one of them."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


def _error_page(
    request: Request, status: int, message: str, headers: dict | None = None
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": _STATUS_TEXT.get(status, "Erreur"), "message": message},
        status_code=status,
        headers=headers,
    )
