"""API of the monthly reports (JSON, Excel, PDF) and of the dashboard trends."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from core import reports
from core.errors import invalid


def _as_of(value: datetime | None) -> datetime:
    from core.tickets import utcnow

    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise invalid("as_of", "needs a time zone offset, e.g. 2026-11-01T00:00:00+08:00")
    return value or utcnow()


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @get("/monthly/{kind:str}")
    async def monthly(self, request: Request, kind: str, month: str = Parameter(max_length=20),
                      project_id: int | None = None,
                      fmt: str = Parameter(query="format", default="json", max_length=10),
                      as_of: datetime | None = None) -> Any:
        """A monthly report of one project (or every visible project): `repairs` (每月维修分类汇总),
        `calls` (来电来访月度分析) or `cs` (客服月报), for `month` (YYYY-MM, Beijing time), as JSON, `xlsx` or `pdf`.

        Figures are counted as of `as_of` (default now) when the month is still running."""
        from core import audit, report_files

        if fmt not in reports.FORMATS:
            raise invalid("format", "json, xlsx or pdf")
        report = await reports.monthly(request.user, kind, month, project_id=project_id, as_of=_as_of(as_of))
        if fmt == "json":
            return report
        content = report_files.xlsx(report) if fmt == "xlsx" else report_files.pdf(report)
        name = report_files.filename(report, fmt)
        await audit.record(request.user, "export.report", object_type="report", object_id=project_id,
                           address=request.client.host if request.client else "",
                           data={"kind": kind, "month": report["month"], "format": fmt})
        media_type = report_files.XLSX_TYPE if fmt == "xlsx" else "application/pdf"
        return Response(content=content, media_type=media_type, headers={
            "Content-Disposition": f"attachment; filename=\"report-{kind}-{report['month']}.{fmt}\"; "
                                   f"filename*=UTF-8''{quote(name)}", "Cache-Control": "private, no-store"})

    @get("/trends")
    async def trends(self, request: Request, project_id: int | None = None,
                     by: str = Parameter(default="week", max_length=10), steps: int = 12,
                     as_of: datetime | None = None) -> dict[str, Any]:
        """Per week (or day) over the last `steps`: tickets created and closed, SLA breaches by due time,
        average satisfaction of the return visits — of the tickets this staff member may see."""
        return await reports.trends(request.user, project_id=project_id, by=by, steps=steps, as_of=_as_of(as_of))


REPORT_CONTROLLERS: list = [ReportController]
