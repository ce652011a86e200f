"""Customer-service KPIs of the seeds (000, 001), computed in SQL per project or per staff member.

Every figure is for a period ``[start, end)`` (aware datetimes; the API takes Beijing dates) and comes
back with its target. Cancelled tickets count nowhere. Definitions:

* **Immediate closure rate** (即时结案率, target ≥ 95 %, seed 000/001): of the inquiries *received*
  in the period, the share resolved within ``IMMEDIATE_MINUTES`` (10) minutes of being received —
  answered during the same call or visit, which prepared answers (答客问) make possible.
* **Return-visit rate** (回访率, target 100 %, seed 000/004): of the tickets of a kind that needs a
  return visit (repairs, complaints and plugin kinds so marked) *resolved* in the period, the share
  whose return visit is recorded.
* **Complaint tracking rate** (投诉跟踪率, target 100 %, seed 000/001): of the complaints *received* in
  the period, the share that have a designated handler (responsible person) and at least one
  follow-up by staff on their timeline after they were received (a status change or a comment).
* **On-time rate by kind** (及时处理率, target 100 %, seed 002/004): of the tickets *resolved* in the
  period that had a resolution due (the policy's clock, or the time promised to the customer), the
  share resolved by it; and of the tickets *first responded to* in the period that had a response
  due (emergency repair on site within 10 minutes, park repair within 30), the share responded to by it.
* **Own-fault complaints** (有效投诉, target 0, seed 000): complaints *resolved* in the period whose
  handler recorded that the company was at fault (``own_fault``).

"Per staff member" means per responsible person (负责人), who answers for the ticket. Each figure
set is one GROUP BY query over ``core_ticket``; no ticket is loaded into Python.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.db import fetch, is_postgres
from core.errors import forbidden, invalid, not_found

IMMEDIATE_MINUTES = 10
TARGETS: dict[str, float] = {
    "immediate_closure": 0.95, "return_visit": 1.0, "complaint_tracking": 1.0, "on_time": 1.0,
    "own_fault_complaints": 0,
}
GROUPINGS: tuple[str, ...] = ("project", "staff")


class _Sql:
    """The few expressions that differ between PostgreSQL and SQLite. Each call that takes a value
    appends it to `args`, so expressions must be built in the order they appear in the query text."""

    def __init__(self) -> None:
        self.pg = is_postgres()
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "{}"

    def t(self, expr: str) -> str:
        """A timestamp expression that compares correctly on both engines."""
        return expr if self.pg else f"julianday({expr})"

    def within(self, start: str, end: str, seconds: int) -> str:
        """`end` is no more than `seconds` after `start` (in whole seconds)."""
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({end} - {start})) <= {int(seconds)}"
        return f"ROUND((julianday({end}) - julianday({start})) * 86400) <= {int(seconds)}"

    def by(self, column: str, due: str) -> str:
        """`column` is at or before `due`."""
        return f"{self.t(column)} <= {self.t(due)}"

    def during(self, column: str, start: datetime, end: datetime) -> str:
        return f"({self.t(column)} >= {self.t(self.arg(start))} AND {self.t(column)} < {self.t(self.arg(end))})"

    def among(self, column: str, values: list[Any]) -> str:
        return f"{column} IN ({', '.join(self.arg(v) for v in values)})"

    def scope(self, principal: Any, project_id: int | None) -> str:
        """The tenant and the projects this staff member may see."""
        where = f"t.tenant_id = {self.arg(principal.tenant_id)} AND t.status <> 'cancelled'"
        if project_id is not None:
            where += f" AND t.project_id = {self.arg(project_id)}"
        if principal.project_ids is not None:
            where += " AND " + self.among("t.project_id", list(principal.project_ids) or [-1])
        return where


def _grouping(by: str) -> tuple[str, str, str]:
    """(key columns, join, group by) of a grouping."""
    if by == "staff":
        return ("t.responsible_id AS key_id, u.name AS key_name",
                "LEFT JOIN core_user u ON u.id = t.responsible_id", "t.responsible_id, u.name")
    return ("t.project_id AS key_id, p.name AS key_name",
            "JOIN core_project p ON p.id = t.project_id AND p.tenant_id = t.tenant_id", "t.project_id, p.name")


def _return_visit_kinds() -> list[str]:
    from core.tickets import ticket_kinds

    return sorted(name for name, (_, kind) in ticket_kinds().items() if kind.requires_return_visit) or ["-"]


async def _service_figures(principal: Any, start: datetime, end: datetime, by: str,
                           project_id: int | None) -> list[dict[str, Any]]:
    """Immediate closure, return visits, complaint tracking and own-fault complaints, one row per key."""
    s = _Sql()
    cols, join, group = _grouping(by)
    rv = _return_visit_kinds()
    query = f"""
        SELECT {cols},
          SUM(CASE WHEN t.kind = 'inquiry' AND {s.during('t.created_at', start, end)} THEN 1 ELSE 0 END) AS inquiries,
          SUM(CASE WHEN t.kind = 'inquiry' AND {s.during('t.created_at', start, end)} AND t.resolved_at IS NOT NULL
                   AND {s.within('t.created_at', 't.resolved_at', IMMEDIATE_MINUTES * 60)}
              THEN 1 ELSE 0 END) AS inquiries_at_once,
          SUM(CASE WHEN {s.among('t.kind', rv)} AND {s.during('t.resolved_at', start, end)}
              THEN 1 ELSE 0 END) AS visits_due,
          SUM(CASE WHEN {s.among('t.kind', rv)} AND {s.during('t.resolved_at', start, end)}
                   AND t.return_visited_at IS NOT NULL THEN 1 ELSE 0 END) AS visits_done,
          SUM(CASE WHEN t.kind = 'complaint' AND {s.during('t.created_at', start, end)} THEN 1 ELSE 0 END) AS complaints,
          SUM(CASE WHEN t.kind = 'complaint' AND {s.during('t.created_at', start, end)}
                   AND t.responsible_id IS NOT NULL AND EXISTS (
                     SELECT 1 FROM core_ticket_event e
                     WHERE e.tenant_id = t.tenant_id AND e.ticket_id = t.id AND e.actor_id IS NOT NULL
                       AND e.kind IN ('status', 'comment'))
              THEN 1 ELSE 0 END) AS complaints_tracked,
          SUM(CASE WHEN t.kind = 'complaint' AND {s.during('t.resolved_at', start, end)} AND t.own_fault = {s.arg(True)}
              THEN 1 ELSE 0 END) AS own_fault
        FROM core_ticket t {join}
        WHERE {s.scope(principal, project_id)}
          AND ({s.during('t.created_at', start, end)} OR {s.during('t.resolved_at', start, end)})
        GROUP BY {group}
    """
    return await fetch(query, *s.args)


async def _on_time_figures(principal: Any, start: datetime, end: datetime, by: str,
                           project_id: int | None) -> list[dict[str, Any]]:
    """Resolution and response on time, one row per key and kind."""
    s = _Sql()
    cols, join, group = _grouping(by)
    query = f"""
        SELECT {cols}, t.kind AS kind,
          SUM(CASE WHEN t.resolution_due_at IS NOT NULL AND {s.during('t.resolved_at', start, end)}
              THEN 1 ELSE 0 END) AS resolved,
          SUM(CASE WHEN t.resolution_due_at IS NOT NULL AND {s.during('t.resolved_at', start, end)}
                   AND {s.by('t.resolved_at', 't.resolution_due_at')} THEN 1 ELSE 0 END) AS resolved_on_time,
          SUM(CASE WHEN t.response_due_at IS NOT NULL AND {s.during('t.responded_at', start, end)}
              THEN 1 ELSE 0 END) AS responded,
          SUM(CASE WHEN t.response_due_at IS NOT NULL AND {s.during('t.responded_at', start, end)}
                   AND {s.by('t.responded_at', 't.response_due_at')} THEN 1 ELSE 0 END) AS responded_on_time
        FROM core_ticket t {join}
        WHERE {s.scope(principal, project_id)}
          AND (t.resolution_due_at IS NOT NULL OR t.response_due_at IS NOT NULL)
          AND ({s.during('t.resolved_at', start, end)} OR {s.during('t.responded_at', start, end)})
        GROUP BY {group}, t.kind
    """
    return await fetch(query, *s.args)


def _rate(count: int, of: int, target: float) -> dict[str, Any]:
    rate = count / of if of else None
    return {"count": count, "of": of, "rate": rate, "percent": None if rate is None else round(rate * 100, 2),
            "target": target, "met": None if rate is None else rate >= target}


def _present(service: dict[str, int], on_time: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        "immediate_closure": _rate(service["inquiries_at_once"], service["inquiries"], TARGETS["immediate_closure"]),
        "return_visit": _rate(service["visits_done"], service["visits_due"], TARGETS["return_visit"]),
        "complaint_tracking": _rate(service["complaints_tracked"], service["complaints"], TARGETS["complaint_tracking"]),
        "own_fault_complaints": {"count": service["own_fault"], "target": TARGETS["own_fault_complaints"],
                                 "met": service["own_fault"] <= TARGETS["own_fault_complaints"]},
        "on_time": {kind: {"resolution": _rate(c["resolved_on_time"], c["resolved"], TARGETS["on_time"]),
                           "response": _rate(c["responded_on_time"], c["responded"], TARGETS["on_time"])}
                    for kind, c in sorted(on_time.items())},
    }


SERVICE_COUNTS = ("inquiries", "inquiries_at_once", "visits_due", "visits_done", "complaints", "complaints_tracked",
                  "own_fault")
ON_TIME_COUNTS = ("resolved", "resolved_on_time", "responded", "responded_on_time")


async def kpis(principal: Any, start: datetime, end: datetime, *, by: str = "project",
               project_id: int | None = None) -> dict[str, Any]:
    """The KPIs of the period ``[start, end)`` per project (``by="project"``) or per responsible staff
    member (``by="staff"``), with the total over every row and the targets beside each figure."""
    principal.require("kpi.read")
    if by not in GROUPINGS:
        raise invalid("by", "project or staff")
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise invalid(name, "needs a time zone")
    if end <= start:
        raise invalid("to", "must be after from")
    if project_id is not None:
        from core.tables import Project

        if not principal.sees_project(project_id) or await principal.scope.get_or_none(Project, project_id, Project.id) is None:
            raise not_found("project")
    service_rows = await _service_figures(principal, start, end, by, project_id)
    on_time_rows = await _on_time_figures(principal, start, end, by, project_id)
    keys: dict[Any, dict[str, Any]] = {}

    def entry(row: dict[str, Any]) -> dict[str, Any]:
        return keys.setdefault(row["key_id"], {"name": row["key_name"], "service": dict.fromkeys(SERVICE_COUNTS, 0),
                                               "on_time": {}})

    for row in service_rows:
        e = entry(row)
        for c in SERVICE_COUNTS:
            e["service"][c] += int(row[c] or 0)
    for row in on_time_rows:
        e = entry(row)
        counts = e["on_time"].setdefault(row["kind"], dict.fromkeys(ON_TIME_COUNTS, 0))
        for c in ON_TIME_COUNTS:
            counts[c] += int(row[c] or 0)
    total_service = dict.fromkeys(SERVICE_COUNTS, 0)
    total_on_time: dict[str, dict[str, int]] = {}
    rows = []
    key_name = "project_id" if by == "project" else "staff_id"
    for key_id, e in sorted(keys.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        for c in SERVICE_COUNTS:
            total_service[c] += e["service"][c]
        for kind, counts in e["on_time"].items():
            total = total_on_time.setdefault(kind, dict.fromkeys(ON_TIME_COUNTS, 0))
            for c in ON_TIME_COUNTS:
                total[c] += counts[c]
        rows.append({key_name: key_id, "name": e["name"], **_present(e["service"], e["on_time"])})
    return {"from": start.isoformat(), "to": end.isoformat(), "by": by, "project_id": project_id,
            "immediate_minutes": IMMEDIATE_MINUTES, "targets": TARGETS,
            "total": _present(total_service, total_on_time), "rows": rows}
