"""Portal pages of onboarding: upload a company's files, see every bad row in a table, fix and re-upload;
download the templates; export a project back to the same layout (a .zip of .xlsx files)."""
from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.errors import Problem, invalid
from core.onboarding.files import export_rows, sheet_bytes, tenant_toml
from core.onboarding.reading import RowError, load_upload
from core.onboarding.service import OnboardingInvalid, onboard
from core.onboarding.sheets import EXAMPLES, SHEETS, TENANT_TOML_EXAMPLE
from core.tables import Project, Tenant

MAX_UPLOAD = 50 * 1024 * 1024


async def _page(request: Request, status_code: int = 200, **context: Any) -> Template:
    from frontend.portal import page

    projects = await request.user.scope.select(Project, Project.id, Project.code, Project.name).order_by(Project.code)
    return await page(request, "onboarding/upload.html", status_code=status_code, nav="onboarding", projects=projects,
                      errors=context.get("errors"), report=context.get("report"))


def _files(value: Any) -> list[UploadFile]:
    items = value if isinstance(value, list) else [value]
    return [f for f in items if isinstance(f, UploadFile) and f.filename]


@get("/portal/onboarding")
async def onboarding_page(request: Request) -> Template:
    request.user.require("staff.manage")
    return await _page(request)


@post("/portal/onboarding")
async def onboarding_upload(request: Request,
                            data: dict[str, Any] = Body(media_type=RequestEncodingType.MULTI_PART)) -> Template:
    """Check every uploaded row; import all of them in one transaction only when none is wrong."""
    me = request.user
    me.require("staff.manage")
    tenant = await Tenant.select(Tenant.slug).where(Tenant.id == me.tenant_id).first()
    toml_files = _files(data.get("tenant_toml"))
    config_text = (await toml_files[0].read(MAX_UPLOAD)).decode("utf-8", "replace") if toml_files else \
        await tenant_toml(me.tenant_id)
    files: dict[str, bytes] = {}
    for f in _files(data.get("files")):
        content = await f.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise invalid("files", f"{f.filename} is larger than {MAX_UPLOAD} bytes")
        files[f.filename] = content
    if not files and not toml_files:
        raise invalid("files", "choose tenant.toml and/or the data files")
    bundle = load_upload(config_text, files)
    company = bundle.config.setdefault("company", {})
    if company.get("slug", tenant["slug"]) != tenant["slug"]:
        bundle.errors.append(RowError("tenant.toml", "", 0, f"this file is for company {company['slug']!r}, not yours",
                                      "company.slug"))
    company["slug"] = tenant["slug"]
    try:
        report = await onboard(bundle, as_of=date.today())
    except OnboardingInvalid as exc:
        return await _page(request, status_code=422, errors=[e.as_dict() for e in exc.errors])
    keys = sorted(set(report.created) | set(report.updated))
    return await _page(request, report={"what": keys, "created": report.created, "updated": report.updated,
                                        "passwords": sorted(report.passwords.items())})


def _zip(entries: dict[str, bytes], name: str) -> Response:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for filename, content in entries.items():
            z.writestr(filename, content)
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/portal/onboarding/template")
async def onboarding_template(request: Request) -> Response:
    request.user.require("staff.manage")
    entries = {"tenant.toml": TENANT_TOML_EXAMPLE.encode("utf-8")}
    entries.update({f"{s.name}.xlsx": sheet_bytes(s, EXAMPLES.get(s.name, [])) for s in SHEETS})
    return _zip(entries, "guanjia-onboarding-template.zip")


@get("/portal/onboarding/projects/{project_id:int}/export")
async def onboarding_export(request: Request, project_id: int) -> Response:
    """A project's data in the onboarding layout; another company's project is a 404."""
    me = request.user
    project = await me.scope.get(Project, project_id, what="project")  # another company's project: 404 first
    me.require("staff.manage")
    rows = await export_rows(me.tenant_id, project["code"])
    entries = {"tenant.toml": (await tenant_toml(me.tenant_id)).encode("utf-8")}
    entries.update({f"{s.name}.xlsx": sheet_bytes(s, rows[s.name]) for s in SHEETS})
    from core import audit

    await audit.record(me, "export.onboarding", object_type="project", object_id=project_id,  # raw phones and IDs
                       address=request.client.host if request.client else "",
                       data={"customers": len(rows["customers"]), "staff": len(rows["staff"])})
    return _zip(entries, f"{project['code']}.zip")


def _router() -> Router:
    from frontend import csrf
    from frontend.portal import portal_error
    from litestar.exceptions import HTTPException

    return Router(path="/", route_handlers=[onboarding_page, onboarding_upload, onboarding_template, onboarding_export],
                  guards=[csrf.csrf_guard], exception_handlers={Problem: portal_error, HTTPException: portal_error},
                  include_in_schema=False)


ONBOARDING_HANDLERS = [_router()]
