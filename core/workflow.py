"""The ticket state machine. Every status change goes through `check_transition`.

received → dispatched → in_progress → resolved → visited (return visit done) → closed,
plus reopened, on_hold (with a reason; resumes to where it was) and cancelled (with a reason).
"""
from __future__ import annotations

from core.errors import Problem

STATUSES: tuple[str, ...] = (
    "received", "dispatched", "in_progress", "on_hold", "resolved", "visited", "closed", "reopened", "cancelled",
)
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "received": ("已受理", "Received"),
    "dispatched": ("已派工", "Dispatched"),
    "in_progress": ("处理中", "In progress"),
    "on_hold": ("挂起", "On hold"),
    "resolved": ("已处理", "Resolved"),
    "visited": ("已回访", "Return visit done"),
    "closed": ("已关闭", "Closed"),
    "reopened": ("重新打开", "Reopened"),
    "cancelled": ("已取消", "Cancelled"),
}
OPEN_STATUSES: tuple[str, ...] = ("received", "dispatched", "in_progress", "on_hold", "reopened")
DONE_STATUSES: tuple[str, ...] = ("resolved", "visited", "closed", "cancelled")
FINAL_STATUSES: tuple[str, ...] = ("closed", "cancelled")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("dispatched", "in_progress", "resolved", "on_hold", "cancelled"),
    "dispatched": ("in_progress", "resolved", "on_hold", "cancelled"),
    "in_progress": ("resolved", "on_hold", "cancelled"),
    "on_hold": (),  # resumes to the status it was put on hold from, or is cancelled
    "reopened": ("dispatched", "in_progress", "resolved", "on_hold", "cancelled"),
    "resolved": ("visited", "closed", "reopened"),
    "visited": ("closed", "reopened"),
    "closed": ("reopened",),
    "cancelled": (),
}
NEEDS_REASON: frozenset[str] = frozenset({"on_hold", "cancelled", "reopened"})


def allowed_from(status: str, hold_from: str | None = None) -> tuple[str, ...]:
    if status == "on_hold":
        return tuple(s for s in (hold_from or "received", "cancelled"))
    return TRANSITIONS.get(status, ())


def check_transition(status: str, to: str, *, reason: str = "", hold_from: str | None = None,
                     requires_return_visit: bool = False, return_visited: bool = False) -> None:
    """Raise a 409 problem naming the allowed targets when `status → to` is not a legal move."""
    if to not in STATUSES:
        raise Problem(422, "Invalid input", f"to: unknown status {to!r}", field="to",
                      extra={"allowed": list(allowed_from(status, hold_from))})
    allowed = allowed_from(status, hold_from)
    if to not in allowed:
        raise Problem(409, "Illegal transition",
                      f"A ticket that is {status} cannot become {to}; allowed: {', '.join(allowed) or 'none'}.",
                      extra={"from": status, "to": to, "allowed": list(allowed)})
    if to in NEEDS_REASON and not reason.strip():
        raise Problem(422, "Invalid input", f"reason: a reason is required to make a ticket {to}", field="reason")
    if to == "closed" and requires_return_visit and not return_visited:
        raise Problem(409, "Return visit required",
                      "This kind of ticket closes only after its return visit is recorded (回访).",
                      extra={"from": status, "to": to, "allowed": ["visited"] if status == "resolved" else list(allowed)})
