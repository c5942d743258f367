"""Uploads and downloads of tables for the directory and professionals pages.

The import is two steps without server-side state: the upload shows a preview; when every
line is valid the preview page carries the parsed table in a hidden field, compressed and
signed with the application secret, and "Confirmer" posts it back. The server re-checks the
whole table against the database before writing, so nothing depends on the page being
honest, and the signature means only tables this server produced are ever decompressed.

`ImportFlow` holds what differs between the two imports (columns, line checks, the write,
the export) and `add_import_routes` gives a router the same four pages for either one.
"""

# No `from __future__ import annotations`: the routes built in `add_import_routes` take
# their scope dependency from a variable, which FastAPI can only see in a real annotation.

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.db import SessionDep
from app.deps import commit_audited, see_other
from app.security import CoordinatorScope, CsrfChecked, Scope, same_secret
from survey.directory import ImportPreview, Refused
from survey.tabular import (
    CSV_MEDIA_TYPE,
    MAX_BYTES,
    XLSX_MEDIA_TYPE,
    Table,
    TabularError,
    read_table,
    write_csv,
    write_xlsx,
)
from survey.text import problem

# A form field is limited to 1 MB by the form parser: the carried table must fit below it.
MAX_PAYLOAD = 900 * 1024
TOO_LARGE = f"Le fichier est trop volumineux : {MAX_BYTES // (1024 * 1024)} Mo au maximum."
NO_FILE = "Choisissez un fichier CSV ou Excel (.xlsx) à importer."
EXPIRED = "Ce contrôle d'import est illisible ou a expiré : envoyez le fichier à nouveau."
TOO_LONG = "Ce fichier est trop long : découpez-le en plusieurs."
IMPORT_TEMPLATE = "directory/import.html"
EXPORT_FORMATS = {"csv": "CSV (UTF-8, virgules)", "csv-excel": "CSV pour Excel (points-virgules)",
                  "xlsx": "Excel (.xlsx)"}  # fmt: skip


class UploadProblem(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def upload_size_cap(request: Request) -> None:
    """Refuse an announced oversized upload before its body is parsed (runs before CSRF).
    Also marks the route as an upload for the body cap of app/limits.py."""
    length = request.headers.get("content-length", "")
    if length.isdecimal() and int(length) > MAX_BYTES + 64 * 1024:
        raise HTTPException(status_code=413, detail=TOO_LARGE)


async def uploaded_table(request: Request, aliases: dict[str, str]) -> tuple[Table, str]:
    """The table in the posted `fichier` field, or UploadProblem with a French message."""
    try:
        form = await request.form()
    except Exception as exc:  # noqa: BLE001 - any parser failure is the sender's junk
        raise UploadProblem("L'envoi est illisible : choisissez le fichier à nouveau.") from exc
    upload = form.get("fichier")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadProblem(NO_FILE)
    if found := problem(upload.filename, "nom du fichier"):  # it goes to the audit log
        raise UploadProblem(found)
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UploadProblem(TOO_LARGE, status=413)
    try:
        return read_table(data, upload.filename, aliases), upload.filename
    except TabularError as exc:
        raise UploadProblem(exc.message) from exc


def _sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), b"import:" + body, hashlib.sha256).hexdigest()


def pack(secret: str, kind: str, territory_code: str, table: Table) -> str | None:
    """The table for the confirmation form, or None when it would not fit in a form field."""
    raw = json.dumps(
        {
            "k": kind,
            "t": territory_code,
            "h": table.headers,
            "r": table.rows,
            "n": table.line_numbers,
        },  # fmt: skip
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    body = base64.urlsafe_b64encode(zlib.compress(raw, 9))
    if len(body) > MAX_PAYLOAD:
        return None
    return f"{_sign(secret, body)}.{body.decode()}"


def unpack(secret: str, kind: str, territory_code: str, payload: str) -> Table:
    """The table packed by `pack` for the same kind and territory; UploadProblem otherwise."""
    signature, _, body = payload.partition(".")
    if not body or not same_secret(_sign(secret, body.encode()), signature):
        raise UploadProblem(EXPIRED)
    try:
        raw = zlib.decompressobj().decompress(base64.urlsafe_b64decode(body), 64 * 1024 * 1024)
        data = json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise UploadProblem(EXPIRED) from exc
    if data.get("k") != kind or data.get("t") != territory_code:
        raise UploadProblem(EXPIRED)
    return Table(headers=data["h"], rows=data["r"], line_numbers=data["n"])


def export_response(
    headers: list[str], rows: list[list[str]], fmt: str, basename: str, sheet: str
) -> Response:
    """A download in the asked format: csv, csv-excel (French Excel) or xlsx."""
    if fmt == "xlsx":
        return Response(
            write_xlsx(headers, rows, title=sheet),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{basename}.xlsx"'},
        )
    if fmt not in ("csv", "csv-excel"):
        raise HTTPException(
            status_code=400, detail="Format d'export inconnu : choisissez CSV ou Excel."
        )
    return Response(
        write_csv(headers, rows, excel_fr=fmt == "csv-excel"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{basename}.csv"'},
    )


# --- the flow shared by the structure and professional imports ------------------------------


@dataclass(frozen=True)
class ImportFlow:
    """One import and export of a workspace page: only what differs between them.

    `kind` names the import in the signed payload (a table checked as structures cannot be
    confirmed as professionals) and switches the wording of the shared template.
    """

    kind: str
    title: str
    path: str  # the page's route, e.g. "/t/{code}/repertoire"
    columns: Sequence[str]
    aliases: dict[str, str]
    check: Callable[[Session, int, Table], ImportPreview]  # line by line; writes nothing
    write: Callable[[Session, int, Table], ImportPreview]  # raises Refused on any error
    audit_action: str
    audit_detail: Callable[[ImportPreview], str]
    render: Callable[..., Response]  # the route module's page renderer
    export_rows: Callable[[Session, int], tuple[list[str], list[list[str]]]]
    export_name: str  # the download is "{export_name}-{territory code}.csv" (or .xlsx)
    export_sheet: str
    # For imports other than structures and professionals, whose wording the template has:
    # the hints under the column list, and the sentence counting what a correct file does.
    hints: Sequence[str] = ()
    summary: Callable[[ImportPreview], str] | None = None

    def base(self, scope: Scope) -> str:
        return self.path.format(code=scope.territory.code)

    def page(self, request: Request, scope: Scope, status: int = 200, **context: Any) -> Response:
        context.setdefault("preview", None)
        context.setdefault("upload_error", "")
        return self.render(
            request,
            IMPORT_TEMPLATE,
            scope,
            status,
            kind=self.kind,
            title=self.title,
            action=f"{self.base(scope)}/import",
            back=self.base(scope),
            columns=self.columns,
            hints=self.hints,
            summary=self.summary,
            **context,
        )

    async def upload(self, request: Request, scope: Scope, session: Session) -> Response:
        """Read the file and show the preview; when it is right, carry it to the confirmation."""
        try:
            table, filename = await uploaded_table(request, self.aliases)
        except UploadProblem as exc:
            return self.page(request, scope, exc.status, upload_error=exc.message)
        preview = self.check(session, scope.territory.id, table)
        payload = None
        if preview.ok:
            payload = pack(request.app.state.secret, self.kind, scope.territory.code, table)
            if payload is None:
                return self.page(request, scope, 413, upload_error=TOO_LONG)
        return self.page(
            request,
            scope,
            200 if preview.ok else 422,
            preview=preview,
            payload=payload,
            filename=filename,
        )

    def confirm(
        self, request: Request, scope: Scope, session: Session, payload: str, filename: str
    ) -> Response:
        """Check the carried table again against the database, then write it in one commit."""
        if found := problem(filename, "nom du fichier"):  # it goes to the audit log
            return self.page(request, scope, 400, upload_error=found)
        try:
            table = unpack(request.app.state.secret, self.kind, scope.territory.code, payload)
        except UploadProblem as exc:
            return self.page(request, scope, exc.status, upload_error=exc.message)
        try:
            preview = self.write(session, scope.territory.id, table)
        except Refused:
            session.rollback()
            preview = self.check(session, scope.territory.id, table)
            return self.page(request, scope, 409, preview=preview, filename=filename)
        commit_audited(
            session,
            scope,
            self.audit_action,
            filename[:200] or "fichier",
            self.audit_detail(preview),
        )
        return see_other(f"{self.base(scope)}?fait=importe")

    def export(self, scope: Scope, session: Session, fmt: str) -> Response:
        headers, rows = self.export_rows(session, scope.territory.id)
        return export_response(
            headers, rows, fmt, f"{self.export_name}-{scope.territory.code}", self.export_sheet
        )


def add_import_routes(router: APIRouter, flow: ImportFlow, export_scope: Any) -> None:
    """The import (form, upload, confirmation; coordinators) and export pages of `flow`.

    `export_scope` is who may download (ViewerScope or CoordinatorScope). Call it before the
    router's `{path}/{id}` routes, which would otherwise catch `import` and `export`.
    """

    @router.get(f"{flow.path}/import", response_class=HTMLResponse)
    def import_form(request: Request, scope: CoordinatorScope):
        return flow.page(request, scope)

    @router.post(
        f"{flow.path}/import",
        response_class=HTMLResponse,
        dependencies=[Depends(upload_size_cap)],
    )
    async def import_upload(
        request: Request, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked
    ):
        return await flow.upload(request, scope, session)

    @router.post(f"{flow.path}/import/confirmer", response_class=HTMLResponse)
    def import_confirm(
        request: Request,
        scope: CoordinatorScope,
        session: SessionDep,
        payload: Annotated[str, Form()] = "",
        filename: Annotated[str, Form()] = "",
        _: None = CsrfChecked,
    ):
        return flow.confirm(request, scope, session, payload, filename)

    @router.get(f"{flow.path}/export")
    def export(scope: export_scope, session: SessionDep, format: str = "csv"):
        return flow.export(scope, session, format)
