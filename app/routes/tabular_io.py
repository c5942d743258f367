"""Uploads and downloads of tables for the directory and professionals pages.

The import is two steps without server-side state: the upload shows a preview; when every
line is valid the preview page carries the parsed table in a hidden field, compressed and
signed with the application secret, and "Confirmer" posts it back. The server re-checks the
whole table against the database before writing, so nothing depends on the page being
honest, and the signature means only tables this server produced are ever decompressed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib

from fastapi import HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

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

# A form field is limited to 1 MB by the form parser: the carried table must fit below it.
MAX_PAYLOAD = 900 * 1024
TOO_LARGE = f"Le fichier est trop volumineux : {MAX_BYTES // (1024 * 1024)} Mo au maximum."
NO_FILE = "Choisissez un fichier CSV ou Excel (.xlsx) à importer."
EXPIRED = "Ce contrôle d'import est illisible ou a expiré : envoyez le fichier à nouveau."
EXPORT_FORMATS = {"csv": "CSV (UTF-8, virgules)", "csv-excel": "CSV pour Excel (points-virgules)",
                  "xlsx": "Excel (.xlsx)"}  # fmt: skip


class UploadProblem(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def upload_size_cap(request: Request) -> None:
    """Refuse an announced oversized upload before its body is parsed (runs before CSRF)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BYTES + 64 * 1024:
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
    if not body or not hmac.compare_digest(signature, _sign(secret, body.encode())):
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
