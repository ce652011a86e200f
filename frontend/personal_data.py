"""Portal pages for customers' personal data (PIPL): erase a customer from the customer file, and the
company's retention periods with the log of exports and erasures (company CS department)."""
from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from core import personal_data
from core.api.schemas import clean_text
from core.errors import Problem
from core.tables import AuditLog
from frontend import csrf
from frontend.portal import FORM, _errors_of, _form, page, portal_error

LOG_ACTIONS = ("customer.personal_data_export", "customer.erased", "retention.changed", "retention.applied")


async def _customer_page(request: Request, customer_id: int, *, status_code: int = 200, **extra: Any) -> Template:
    from core.places import customer_file

    return await page(request, "portal/customer.html", status_code=status_code, nav="",
                      file=await customer_file(request.user, customer_id), **extra)


@post("/portal/customers/{customer_id:int}/erase", include_in_schema=False)
async def erase_customer(request: Request, customer_id: int, data: dict[str, Any] = FORM) -> Any:
    """Anonymise the customer (company CS department, with a reason); errors come back on the file page."""
    form = _form(data)
    try:
        await personal_data.erase(request.user, customer_id, clean_text(form.get("reason", "")),
                                  keep_records=form.get("delete_optional") != "1",
                                  address=request.client.host if request.client else "")
    except Problem as exc:
        if exc.status not in (409, 422):
            raise
        return await _customer_page(request, customer_id, status_code=exc.status, errors=_errors_of(exc), form=form)
    return Redirect(f"/portal/customers/{customer_id}?erased=1", status_code=303)


async def _settings_page(request: Request, *, status_code: int = 200, errors: dict[str, str] | None = None,
                         form: dict[str, str] | None = None, saved: bool = False) -> Template:
    me = request.user
    settings = await personal_data.retention_settings(me)
    log = await (me.scope.select(AuditLog, AuditLog.id, AuditLog.at, AuditLog.action, AuditLog.object_id,
                                 AuditLog.data, AuditLog.user_id.name.as_alias("staff"))
                 .where(AuditLog.action.is_in(list(LOG_ACTIONS))).order_by(AuditLog.id, ascending=False).limit(50))
    from core.db import json_value

    for row in log:
        row["data"] = json_value(row["data"]) or {}
    return await page(request, "portal/personal_data.html", status_code=status_code, nav="personal_data",
                      settings=settings, log=log, errors=errors or {}, form=form or {}, saved=saved)


@get("/portal/personal-data", include_in_schema=False)
async def personal_data_page(request: Request, saved: int | None = None) -> Template:
    """Retention periods and the log of exports and erasures (company CS department)."""
    return await _settings_page(request, saved=bool(saved))


@post("/portal/personal-data/retention", include_in_schema=False)
async def save_retention(request: Request, data: dict[str, Any] = FORM) -> Any:
    form = _form(data)
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key in personal_data.RETENTION_DEFAULTS:
        text = form.get(key, "").strip()
        if not text.isdigit():
            errors[key] = "请填写天数 / a number of days"
        else:
            values[key] = int(text)
    if not errors:
        try:
            await personal_data.set_retention(request.user, values)
        except Problem as exc:
            if exc.status != 422:
                raise
            errors = _errors_of(exc)
    if errors:
        request.user.require(personal_data.PERMISSION)
        return await _settings_page(request, status_code=422, errors=errors, form=form)
    return Redirect("/portal/personal-data?saved=1", status_code=303)


PERSONAL_DATA_HANDLERS = [Router(
    path="/", route_handlers=[erase_customer, personal_data_page, save_retention], guards=[csrf.csrf_guard],
    exception_handlers={Problem: portal_error, HTTPException: portal_error}, include_in_schema=False)]
