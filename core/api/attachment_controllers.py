"""API of ticket attachments: upload (multipart, field `file`), list, download, thumbnail."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post

from core import attachments
from core.tickets import get_ticket


def file_response(row: dict[str, Any], content: bytes, media_type: str, *, inline: bool, etag: str = "") -> Response:
    """The bytes with their sniffed type; never interpreted by the browser as anything else."""
    name = row["filename"]
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "attachment"
    disposition = "inline" if inline else "attachment"
    return Response(content=content, media_type=media_type, headers={
        "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400", "ETag": f'"{row["sha256"]}{etag}"'})


class TicketAttachmentController(Controller):
    path = "/api/v1/tickets/{ticket_id:int}/attachments"
    tags = ["tickets"]

    @post("/", status_code=201, request_max_body_size=attachments.MAX_BYTES + 256 * 1024)
    async def upload(self, request: Request, ticket_id: int) -> dict[str, Any]:
        """Attach a photo (JPEG, PNG, WebP) or a PDF of at most 10 MB: multipart/form-data, field `file`.

        The type is read from the bytes; anything else is a 422 problem naming `file`. Uploading the same
        bytes again returns the first attachment (`duplicate: true`). Writes an event on the timeline."""
        await get_ticket(request.user, ticket_id)  # another company's ticket: 404 before the body is read
        filename, content, _ = await attachments.read_upload(request)
        return await attachments.add(request.user, ticket_id, filename, content)

    @get("/")
    async def list_attachments(self, request: Request, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's attachments (metadata and URLs), oldest first."""
        return await attachments.list_for(request.user, ticket_id)

    @get("/{attachment_id:int}")
    async def download(self, request: Request, ticket_id: int, attachment_id: int) -> Response:
        """The file itself (photos shown inline, PDFs downloaded)."""
        row = await attachments.get(request.user, ticket_id, attachment_id)
        return file_response(row, row["bytes"], row["content_type"], inline=row["content_type"].startswith("image/"))

    @get("/{attachment_id:int}/thumbnail")
    async def thumbnail(self, request: Request, ticket_id: int, attachment_id: int) -> Response:
        """A JPEG of at most 320 × 320 pixels of a photo (404 for a PDF)."""
        row = await attachments.get(request.user, ticket_id, attachment_id, thumb=True)
        return file_response({**row, "filename": f"thumb-{row['filename']}.jpg"}, row["bytes"], "image/jpeg", inline=True,
                             etag="-thumb")


ATTACHMENT_CONTROLLERS: list = [TicketAttachmentController]
