"""HTTP of the elevator ledger: the API under /api/v1/elevator-ledger and the portal page /portal/elevator-ledger."""
from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from elevator_ledger import services
from elevator_ledger.schemas import ElevatorIn, RecordIn

API = "/api/v1/elevator-ledger"


@get(f"{API}/elevators")
async def list_elevators(request: Request) -> list[dict[str, Any]]:
    return await services.list_elevators(request.user)


@post(f"{API}/elevators")
async def create_elevator(request: Request, data: ElevatorIn) -> dict[str, Any]:
    return await services.create_elevator(request.user, data)


@get(f"{API}/elevators/{{elevator_id:int}}")
async def get_elevator(request: Request, elevator_id: int) -> dict[str, Any]:
    return await services.get_elevator(request.user, elevator_id)


@post(f"{API}/records")
async def create_record(request: Request, data: RecordIn) -> dict[str, Any]:
    return await services.create_record(request.user, data)


@get(f"{API}/accuracy")
async def accuracy(request: Request, project_id: int, month: str) -> dict[str, Any]:
    return await services.project_accuracy(request.user, project_id, month)


@get("/portal/elevator-ledger", include_in_schema=False)
async def portal_index(request: Request) -> Template:
    return Template("elevator_ledger/index.html",
                    context={"me": request.user, "elevators": await services.list_elevators(request.user)})


ROUTES = [list_elevators, create_elevator, get_elevator, create_record, accuracy, portal_index]
