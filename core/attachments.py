"""Ticket attachments: photos (JPEG, PNG, WebP) and PDFs on a ticket, seen by whoever may see the ticket.

The type is read from the bytes (magic numbers), never from the name or the declared type; an image
must also decode (a small JPEG thumbnail is made from it at upload). Size is limited (10 MiB unless
``GUANJIA_ATTACHMENT_MAX_BYTES`` says otherwise). Bytes are kept in ``core_ticket_attachment`` itself:
the web tier runs as stateless replicas without a shared disk, and the database is the one thing
backed up. Each upload writes an ``attachment`` event on the ticket's timeline.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import warnings
from datetime import datetime
from typing import Any

from core.db import transaction
from core.errors import Problem, conflict, invalid, not_found
from core.tables import TicketAttachment, TicketEvent
from core.tenancy import Principal

MAX_BYTES = int(os.environ.get("GUANJIA_ATTACHMENT_MAX_BYTES") or 10 * 1024 * 1024)
MAX_PER_TICKET = 30
MAX_PIXELS = 60_000_000  # larger images are refused before they are decoded (decompression bombs)
THUMB_PIXELS = 320
EXTENSIONS: dict[str, tuple[str, ...]] = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",),
                                          "image/webp": (".webp",), "application/pdf": (".pdf",)}
ACCEPT = ",".join(EXTENSIONS)
META_COLUMNS = (TicketAttachment.id, TicketAttachment.ticket_id, TicketAttachment.filename,
                TicketAttachment.content_type, TicketAttachment.size, TicketAttachment.sha256,
                TicketAttachment.uploaded_by, TicketAttachment.created_at)


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are (JPEG, PNG, WebP or PDF), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_filename(name: str, content_type: str) -> str:
    """The last path segment, without control characters, at most 200 characters, with an extension of its type."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip(" .")
    extensions = EXTENSIONS[content_type]
    stem, dot, given = name.rpartition(".")
    if dot and stem and f".{given.lower()}" in extensions:
        ext = f".{given.lower()}"
    else:
        stem, ext = name, extensions[0]
    return (stem or "attachment")[: 200 - len(ext)] + ext


def thumbnail(content: bytes) -> bytes:
    """A JPEG of at most 320 × 320 pixels; a 422 problem on `file` when the image does not decode."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as img:
                if img.format not in ("JPEG", "PNG", "WEBP"):
                    raise invalid("file", "the image could not be read")
                if img.width * img.height > MAX_PIXELS:
                    raise invalid("file", f"the image has {img.width} × {img.height} pixels; at most {MAX_PIXELS} are accepted")
                img.draft("RGB", (THUMB_PIXELS * 2, THUMB_PIXELS * 2))
                small = ImageOps.exif_transpose(img)
                small.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
                if small.mode in ("RGBA", "LA", "P"):
                    rgba = small.convert("RGBA")
                    small = Image.new("RGB", rgba.size, (255, 255, 255))
                    small.paste(rgba, mask=rgba.split()[-1])
                elif small.mode != "RGB":
                    small = small.convert("RGB")
                out = io.BytesIO()
                small.save(out, "JPEG", quality=80, optimize=True)
                return out.getvalue()
    except Problem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, SyntaxError, ValueError,
            Image.UnidentifiedImageError) as exc:
        raise invalid("file", "the image could not be read (damaged or not really an image)") from exc


def check(content: bytes, *, max_bytes: int = MAX_BYTES) -> tuple[str, bytes | None]:
    """(content type, thumbnail) of acceptable bytes, else a 422 problem naming the field `file`."""
    if not content:
        raise invalid("file", "is empty")
    if len(content) > max_bytes:
        raise invalid("file", f"is {len(content)} bytes; at most {max_bytes} bytes ({max_bytes // (1024 * 1024)} MB) are accepted")
    content_type = sniff(content)
    if content_type is None:
        raise invalid("file", "only JPEG, PNG or WebP photos and PDF files are accepted (the content is none of them)")
    if content_type == "application/pdf":
        if b"%%EOF" not in content[-2048:]:
            raise invalid("file", "the PDF is incomplete (no end-of-file marker)")
        return content_type, None
    return content_type, thumbnail(content)


async def add(principal: Principal, ticket_id: int, filename: str, content: bytes, *,
              now: datetime | None = None) -> dict[str, Any]:
    """Attach a file to a ticket the principal may see and edit; the same bytes twice give the first row back."""
    from core.tickets import get_ticket, utcnow

    await get_ticket(principal, ticket_id)  # 404 before anything else
    principal.require("ticket.update")
    content_type, thumb = check(content)
    digest = hashlib.sha256(content).hexdigest()
    scope = principal.scope
    same = await scope.select(TicketAttachment, *META_COLUMNS).where(
        (TicketAttachment.ticket_id == ticket_id) & (TicketAttachment.sha256 == digest)).first()
    if same is not None:
        return {**present(same), "duplicate": True}
    if await scope.count(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id) >= MAX_PER_TICKET:
        raise conflict(f"A ticket holds at most {MAX_PER_TICKET} attachments.")
    now = now or utcnow()
    name = clean_filename(filename, content_type)
    async with transaction():
        row = await scope.insert(TicketAttachment, ticket_id=ticket_id, filename=name, content_type=content_type,
                                 size=len(content), sha256=digest, uploaded_by=principal.user_id, created_at=now,
                                 content=content, thumbnail=thumb)
        await scope.insert(TicketEvent, ticket_id=ticket_id, at=now, actor_id=principal.user_id, kind="attachment",
                           reason=name, data={"attachment_id": row["id"], "filename": name,
                                              "content_type": content_type, "size": len(content)})
    return {**present({k: row[k] for k in ("id", "ticket_id", "filename", "content_type", "size", "sha256",
                                           "uploaded_by", "created_at")}), "duplicate": False}


def present(row: dict[str, Any]) -> dict[str, Any]:
    """An attachment's metadata with the URLs of its file and thumbnail."""
    base = f"/api/v1/tickets/{row['ticket_id']}/attachments/{row['id']}"
    image = str(row["content_type"]).startswith("image/")
    return {**row, "is_image": image, "url": base, "thumbnail_url": f"{base}/thumbnail" if image else None}


async def list_for(principal: Principal, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's attachments, oldest first (metadata only)."""
    from core.tickets import get_ticket

    await get_ticket(principal, ticket_id)
    rows = await principal.scope.select(
        TicketAttachment, *META_COLUMNS, TicketAttachment.uploaded_by.name.as_alias("uploaded_by_name")).where(
        TicketAttachment.ticket_id == ticket_id).order_by(TicketAttachment.id)
    return [present(r) for r in rows]


async def get(principal: Principal, ticket_id: int, attachment_id: int, *, thumb: bool = False) -> dict[str, Any]:
    """One attachment with its bytes (or its thumbnail's); another ticket's or tenant's is a 404."""
    from core.tickets import get_ticket

    await get_ticket(principal, ticket_id)
    column = TicketAttachment.thumbnail if thumb else TicketAttachment.content
    row = await principal.scope.select(TicketAttachment, *META_COLUMNS, column.as_alias("bytes")).where(
        (TicketAttachment.id == attachment_id) & (TicketAttachment.ticket_id == ticket_id)).first()
    if row is None or row["bytes"] is None:
        raise not_found("attachment")
    return row


async def read_upload(request: Any, field: str = "file") -> tuple[str, bytes, dict[str, Any]]:
    """(file name, bytes, other form fields) of a multipart request; problems name `field` when it is missing or too large."""
    from litestar.datastructures import UploadFile
    from litestar.exceptions import ClientException

    try:
        form = await request.form()
    except ClientException as exc:
        if exc.status_code == 413:
            raise Problem(413, "Payload too large", f"{field}: at most {MAX_BYTES} bytes "
                          f"({MAX_BYTES // (1024 * 1024)} MB) are accepted", field=field) from exc
        raise invalid(field, f"send the file as multipart/form-data in the field `{field}`") from exc
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise invalid(field, f"send the file as multipart/form-data in the field `{field}`")
    content = await upload.read(MAX_BYTES + 1)
    others = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
    return upload.filename or "", content, others
