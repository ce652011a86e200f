"""Ticket attachments: photos and PDFs checked by their bytes, limited to 10 MB, listed with thumbnails,
on the timeline, and seen only by staff who see the ticket (another company: 404)."""
from __future__ import annotations

import io

import pytest

from core import attachments, tickets


def png(width: int = 800, height: int = 600, color=(200, 60, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def webp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (100, 50), (10, 200, 10)).save(out, "WEBP")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
async def world():
    """One company for the module (each test makes its own ticket)."""
    from tests.conftest import make_world

    return await make_world()


@pytest.fixture(scope="module")
async def other_world():
    from tests.conftest import make_world

    return await make_world()


@pytest.fixture
async def ticket(world):
    desk = await world.principal("front_desk")
    return await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                              "title": "卫生间漏水", "unit_id": world.units[0]["id"]})


async def _upload(client, world, ticket_id, name, content, role="front_desk", content_type="application/octet-stream"):
    return await client.post(f"/api/v1/tickets/{ticket_id}/attachments", files={"file": (name, content, content_type)},
                             headers=world.headers(role))


async def test_photo_is_listed_with_a_thumbnail_downloadable_and_on_the_timeline(client, world, ticket):
    photo = png()
    r = await _upload(client, world, ticket["id"], "漏水.png", photo, content_type="image/png")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["filename"], body["content_type"], body["size"], body["duplicate"]) == ("漏水.png", "image/png",
                                                                                       len(photo), False)
    import hashlib

    assert body["sha256"] == hashlib.sha256(photo).hexdigest() and body["uploaded_by"] == world.staff["front_desk"]
    listed = (await client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=world.headers("butler"))).json()
    assert [(a["id"], a["is_image"]) for a in listed] == [(body["id"], True)]
    assert listed[0]["uploaded_by_name"].startswith("front_desk")
    got = await client.get(listed[0]["url"], headers=world.headers("butler"))
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline")
    thumb = await client.get(listed[0]["thumbnail_url"], headers=world.headers("butler"))
    from PIL import Image

    image = Image.open(io.BytesIO(thumb.content))
    assert thumb.headers["content-type"] == "image/jpeg" and image.format == "JPEG" and image.size == (320, 240)
    events = (await client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=world.headers("butler"))).json()
    uploaded = [e for e in events if e["kind"] == "attachment"]
    assert len(uploaded) == 1 and uploaded[0]["data"]["attachment_id"] == body["id"]
    assert uploaded[0]["actor_id"] == world.staff["front_desk"]


async def test_jpeg_webp_and_pdf_are_accepted_pdf_downloads_as_a_file(client, world, ticket):
    for name, content, kind in (("a.jpg", jpeg(), "image/jpeg"), ("b.webp", webp(), "image/webp"),
                                ("维修单.pdf", PDF, "application/pdf")):
        r = await _upload(client, world, ticket["id"], name, content, role="supervisor")
        assert r.status_code == 201, r.text
        assert r.json()["content_type"] == kind
    pdf = next(a for a in (await client.get(f"/api/v1/tickets/{ticket['id']}/attachments",
                                            headers=world.headers("supervisor"))).json() if a["content_type"] == "application/pdf")
    assert pdf["thumbnail_url"] is None
    got = await client.get(pdf["url"], headers=world.headers("supervisor"))
    assert got.content == PDF and got.headers["content-disposition"].startswith("attachment")
    assert "filename*=UTF-8''%E7%BB%B4%E4%BF%AE%E5%8D%95.pdf" in got.headers["content-disposition"]
    assert (await client.get(f"{pdf['url']}/thumbnail", headers=world.headers("supervisor"))).status_code == 404


async def test_type_is_read_from_the_bytes_not_the_name_or_declared_type(client, world, ticket):
    cases = [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),  # HTML dressed as a photo
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        ("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("x.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png"),  # a PNG header and nothing that decodes
        ("cut.pdf", b"%PDF-1.4\n1 0 obj <<", "application/pdf"),  # no end-of-file marker
    ]
    for name, content, declared in cases:
        r = await _upload(client, world, ticket["id"], name, content, content_type=declared)
        assert r.status_code == 422, (name, r.text)
        body = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert body["errors"][0]["field"] == "file", body
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=world.headers())).json() == []


async def test_size_over_10_mb_empty_or_missing_file_is_a_problem_naming_the_field(client, world, ticket):
    assert attachments.MAX_BYTES == 10 * 1024 * 1024
    big = b"\xff\xd8\xff\xe0" + b"\x00" * attachments.MAX_BYTES  # one byte over 10 MB
    r = await _upload(client, world, ticket["id"], "big.jpg", big)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert "10485760" in r.json()["detail"]
    huge = b"\xff\xd8\xff\xe0" + b"\x00" * (attachments.MAX_BYTES + 2 * 1024 * 1024)  # larger than the request limit
    r = await _upload(client, world, ticket["id"], "huge.jpg", huge)
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "file"
    r = await _upload(client, world, ticket["id"], "empty.png", b"")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(f"/api/v1/tickets/{ticket['id']}/attachments", data={"note": "x"}, headers=world.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


async def test_decompression_bomb_is_refused(client, world, ticket):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # tiny file, 81 million pixels
    r = await _upload(client, world, ticket["id"], "bomb.png", out.getvalue())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


async def test_another_company_gets_404_for_the_ticket_its_files_and_uploads(client, world, other_world, ticket):
    r = await _upload(client, world, ticket["id"], "p.png", png())
    url = r.json()["url"]
    for role in ("company_cs", "front_desk", "technician"):
        h = other_world.headers(role)
        for path in (f"/api/v1/tickets/{ticket['id']}/attachments", url, f"{url}/thumbnail"):
            got = await client.get(path, headers=h)
            assert got.status_code == 404 and got.headers["content-type"].startswith("application/problem+json"), path
        got = await _upload(client, other_world, ticket["id"], "p2.png", png(color=(1, 2, 3)), role=role)
        assert got.status_code == 404
    # an id of this company's attachment under another ticket is a 404 too
    desk = await world.principal("front_desk")
    other_ticket = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "inquiry",
                                                      "channel": "hotline", "title": "咨询"})
    got = await client.get(url.replace(f"/tickets/{ticket['id']}/", f"/tickets/{other_ticket['id']}/"),
                           headers=world.headers("company_cs"))
    assert got.status_code == 404


async def test_staff_who_cannot_see_the_ticket_get_404_and_finance_may_not_upload(client, world, ticket):
    r = await _upload(client, world, ticket["id"], "p.png", png())
    url = r.json()["url"]
    assert (await client.get(url, headers=world.headers("technician"))).status_code == 404  # not its ticket
    assert (await client.get(url, headers=world.headers("finance"))).status_code == 200
    r = await _upload(client, world, ticket["id"], "f.png", png(color=(9, 9, 9)), role="finance")
    assert r.status_code == 403


async def test_same_bytes_twice_give_the_first_attachment_and_one_event(client, world, ticket):
    photo = jpeg()
    first = (await _upload(client, world, ticket["id"], "a.jpg", photo)).json()
    again = await _upload(client, world, ticket["id"], "again.jpg", photo)
    assert again.status_code == 201 and again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    events = await tickets.events(await world.principal("company_cs"), ticket["id"])
    assert sum(1 for e in events if e["kind"] == "attachment") == 1


async def test_file_names_lose_their_path_and_get_the_extension_of_their_type(client, world, ticket):
    r = await _upload(client, world, ticket["id"], "../../etc/passwd", png())
    assert r.json()["filename"] == "passwd.png"
    assert attachments.clean_filename("C:\\photos\\现场.JPEG", "image/jpeg") == "现场.jpeg"
    assert attachments.clean_filename("报告.png", "application/pdf") == "报告.png.pdf"


async def test_demo_company_has_photos_on_its_repairs():
    from core.demo import ensure_demo
    from core.tables import TicketAttachment
    from core.tenancy import TenantScope
    from tests.conftest import PASSWORD, at

    import uuid

    result = await ensure_demo(PASSWORD, buildings=1, tickets=12, slug=f"att-{uuid.uuid4().hex[:8]}",
                               plugins=["residential_grids"], as_of=at("2026-09-30 17:00"))
    rows = await TenantScope(result["tenant"]["id"]).select(TicketAttachment, TicketAttachment.content_type)
    types = sorted(r["content_type"] for r in rows)
    assert types.count("image/jpeg") >= 1 and "application/pdf" in types
