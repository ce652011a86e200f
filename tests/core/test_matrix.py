"""Cross-tenant matrix, generated from the app's route table (a new route joins automatically).

For every authenticated route with an int path parameter, every HTTP method and every role of company A,
the ids of company B's rows answer 404 with a problem+json body. List routes called by A with B's ids as
query filters return none of B's rows. Public routes (`exclude_from_auth`, or a path the auth middleware
skips) are left out: they resolve their tenant from the URL and are tested by their owners.

Both companies come from the demo seed (`core.demo.ensure_demo`, which calls every plugin's `seed_demo`),
so every table of the kernel and of the plugins has rows in each.
"""
from __future__ import annotations

import re
import typing
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute

from tests.conftest import PASSWORD, at

SKIPPED_METHODS = {"OPTIONS", "HEAD"}
PARAM = re.compile(r"\{(\w+):(\w+)\}")



# ---------------------------------------------------------------- the route table

@dataclass
class Endpoint:
    path: str
    method: str
    handler: Any
    int_params: list[str]
    other_params: list[str]

    @property
    def plugin(self) -> str | None:
        from core.plugins import get_registry

        name = self.handler.opt.get("plugin")
        if name:
            return name
        parts = self.path.split("/")
        if len(parts) > 3 and parts[1] == "api" and parts[3].replace("-", "_") in get_registry().metas:
            return parts[3].replace("-", "_")
        return None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def is_public(handler: Any, path: str) -> bool:
    from core.app import PUBLIC_PATHS

    return bool(handler.opt.get("exclude_from_auth")) or any(re.match(p, path) for p in PUBLIC_PATHS)


def endpoints(app) -> tuple[list[Endpoint], list[str]]:
    """(authenticated endpoints, public ones) of the app, one per route × method."""
    found, public = [], []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - SKIPPED_METHODS):
                if is_public(handler, route.path):
                    public.append(f"{method} {route.path}")
                    continue
                params = PARAM.findall(route.path)
                found.append(Endpoint(route.path, method, handler, [n for n, t in params if t == "int"],
                                      [n for n, t in params if t != "int"]))
    return found, public


def all_tables() -> dict[str, Any]:
    from piccolo.conf.apps import Finder
    from piccolo.table import Table

    tables = {t._meta.tablename: t for t in Finder().get_table_classes()}
    stack = list(Table.__subclasses__())
    while stack:
        t = stack.pop()
        stack.extend(t.__subclasses__())
        tables.setdefault(t._meta.tablename, t)
    return tables


def table_for(param: str, plugin: str | None, tables: dict[str, Any], *, by_foreign_key: bool = False,
              parent: str | None = None) -> Any:
    """`<thing>_id` → the table `<plugin>_<thing>` (the route's own plugin first) or `core_<thing>`.

    `parent` (the id before it in the path, e.g. ``ticket_id`` in ``/tickets/{ticket_id}/attachments/{attachment_id}``):
    a nested table ``<plugin>_<parent>_<thing>`` or ``core_<parent>_<thing>`` (``core_ticket_attachment``) comes first.

    `by_foreign_key` (query filters): else the table that every foreign key column of that name points to
    (``responsible_id`` → ``core_user``).
    """
    from core.plugins import get_registry
    from piccolo.columns import ForeignKey

    if not param.endswith("_id"):
        raise LookupError(f"parameter {param!r} is not named <thing>_id")
    thing = param[:-3]
    nested = [f"{prefix}_{parent[:-3]}_{thing}" for prefix in ([plugin] if plugin else []) + ["core"]] if parent else []
    for name in nested + ([f"{plugin}_{thing}"] if plugin else []) + [f"core_{thing}"]:
        if name in tables:
            return tables[name]
    matches = [tables[f"{p}_{thing}"] for p in get_registry().metas if f"{p}_{thing}" in tables]
    if len(matches) == 1:
        return matches[0]
    if by_foreign_key and not matches:
        targets = {c._foreign_key_meta.resolved_references for t in tables.values() for c in t._meta.columns
                   if isinstance(c, ForeignKey) and c._meta.name == param}
        if len(targets) == 1:
            return targets.pop()
    raise LookupError(f"parameter {param!r} maps to no table core_{thing} or <plugin>_{thing}"
                      + (f" (several: {[m._meta.tablename for m in matches]})" if matches else ""))


# ---------------------------------------------------------------- request bodies from the handler's Struct

def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _valid(value: Any, tp: Any) -> bool:
    try:
        msgspec.json.decode(msgspec.json.encode(value), type=tp)
        return True
    except (msgspec.ValidationError, TypeError, ValueError):
        return False


def sample_value(tp: Any, name: str, own_ids: dict[str, int]) -> Any:
    """A JSON value the type accepts (an id of company A's own row for `<thing>_id` fields)."""
    base = _strip(tp)
    origin = typing.get_origin(base)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        options = [a for a in typing.get_args(base) if a not in (type(None), msgspec.UnsetType)]
        for option in options:
            value = sample_value(option, name, own_ids)
            if _valid(value, tp):
                return value
        return None
    if origin is typing.Literal:
        return typing.get_args(base)[0]
    if origin in (list, tuple, set, frozenset) or base in (list, tuple, set, frozenset):
        item = (typing.get_args(base) or (str,))[0]
        return [] if _valid([], tp) else [sample_value(item, name, own_ids)]
    if origin is dict or base is dict:
        key, value = typing.get_args(base) or (str, str)
        return {} if _valid({}, tp) else {sample_value(key, "key", own_ids): sample_value(value, name, own_ids)}
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return sample_body(base, own_ids)
    if base is bool:
        candidates: list[Any] = [False]
    elif base is int:
        candidates = ([own_ids[name]] if name in own_ids else []) + ([2026] if "year" in name else []) + [1, 5, 0, 100]
    elif base in (float, Decimal):
        candidates = ["1", 1, "1.00", 0]
    elif base is datetime:
        candidates = ["2026-09-30T17:00:00+08:00"]
    elif base is date:
        candidates = ["2026-09-30"]
    elif base is time:
        candidates = ["09:00:00"]
    elif base is str:
        candidates = ["x1", "abc", "A1", "13800000000", "1", "2026-09-30", "2026-09", "09:00", "a-1",
                      "x@example.com", "粤B12345", "x" * 20]
    else:
        candidates = ["x1", 1, {}, []]
    for value in candidates:
        if _valid(value, tp):
            return value
    return candidates[0]


def sample_body(struct: type[msgspec.Struct], own_ids: dict[str, int]) -> dict[str, Any]:
    """The required fields of a request Struct, filled with values it accepts."""
    return {f.encode_name: sample_value(f.type, f.name, own_ids)
            for f in msgspec.structs.fields(struct) if f.required}


def request_body(handler: Any, own_ids: dict[str, int]) -> tuple[str, Any] | None:
    """("json" | "form", body) for a handler that takes `data`, or None."""
    param = handler.parsed_fn_signature.parameters.get("data")
    if param is None:
        return None
    tp = _strip(param.annotation)
    definition = getattr(param, "kwarg_definition", None)
    if definition is not None and getattr(definition, "media_type", None) in (
            RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        return "form", {}
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return "json", sample_body(tp, own_ids)
    return "json", sample_value(tp, "data", own_ids)


def required_query(handler: Any, path_params: set[str], own_ids: dict[str, int]) -> dict[str, Any]:
    """Required query parameters of a handler, filled with values they accept, so the lookup runs."""
    from litestar.types import Empty

    skip = {"data", "request", "socket", "state", "scope", "headers", "cookies", "query", "body"}
    out: dict[str, Any] = {}
    for name, param in handler.parsed_fn_signature.parameters.items():
        if name in skip or name in path_params or param.default is not Empty:
            continue
        definition = getattr(param, "kwarg_definition", None)
        if definition is not None and getattr(definition, "default", Empty) is not Empty:
            continue
        if typing.get_origin(param.annotation) in (typing.Union,) and type(None) in typing.get_args(param.annotation):
            continue
        value = sample_value(param.annotation, name, own_ids)
        out[getattr(definition, "query", None) or name] = value
    return out


# ---------------------------------------------------------------- two demo companies

@dataclass
class Company:
    tenant_id: int
    tokens: dict[str, str]
    first_ids: dict[str, int]  # tablename → id of one of its rows

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def _demo_company(tables: dict[str, Any]) -> Company:
    from core import auth
    from core.demo import ensure_demo
    from core.roles import ALL_ROLES
    from core.tables import Membership
    from core.tenancy import TenantScope

    slug = f"mx-{uuid.uuid4().hex[:10]}"
    result = await ensure_demo(PASSWORD, buildings=1, tickets=12, slug=slug, as_of=at("2026-09-30 17:00"))
    tenant_id = result["tenant"]["id"]
    scope = TenantScope(tenant_id)
    first: dict[str, int] = {}
    for name, table in tables.items():
        if "tenant_id" in {c._meta.name for c in table._meta.columns}:
            row = await scope.select(table, table._meta.primary_key).order_by(table._meta.primary_key).first()
            if row is not None:
                first[name] = row["id"]
    member = await scope.select(Membership, Membership.user_id).order_by(Membership.id).first()
    first["core_user"] = member["user_id"]
    first["core_tenant"] = tenant_id
    tokens = {role: (await auth.login(result["logins"][role], PASSWORD, slug))["token"] for role in ALL_ROLES}
    return Company(tenant_id, tokens, first)


@pytest.fixture(scope="module")
async def companies():
    tables = all_tables()
    a = await _demo_company(tables)
    b = await _demo_company(tables)
    return a, b, tables


def _ids_for(ep: Endpoint, company: Company, tables: dict[str, Any], problems: list[str]) -> dict[str, int] | None:
    ids = {}
    for i, param in enumerate(ep.int_params):
        try:
            table = table_for(param, ep.plugin, tables, parent=ep.int_params[i - 1] if i else None)
        except LookupError as exc:
            problems.append(f"{ep}: {exc}")
            return None
        if table._meta.tablename not in company.first_ids:
            problems.append(f"{ep}: the demo company has no row in {table._meta.tablename} "
                            f"(its plugin's seed_demo must create one)")
            return None
        ids[param] = company.first_ids[table._meta.tablename]
    return ids


def _url(ep: Endpoint, ids: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(ids.get(m.group(1), "x")), ep.path)


def _own_body_ids(company: Company, tables: dict[str, Any], plugin: str | None) -> dict[str, int]:
    """Field name `<thing>_id` → an id of the company's own row, for request bodies."""
    out = {}
    for name in tables:
        thing = name.split("_", 1)[1] if name.startswith("core_") else None
        if plugin and name.startswith(f"{plugin}_"):
            thing = name[len(plugin) + 1:]
        if thing and name in company.first_ids:
            out.setdefault(f"{thing}_id", company.first_ids[name])
    return out


async def _send(client, ep: Endpoint, url: str, headers: dict[str, str], body: tuple[str, Any] | None, **kw):
    kw.setdefault("follow_redirects", False)  # a page that redirects instead of answering 404 is reported as such
    if body is None:
        return await client.request(ep.method, url, headers=headers, **kw)
    kind, payload = body
    if kind == "form":
        return await client.request(ep.method, url, headers=headers, data=payload, **kw)
    return await client.request(ep.method, url, headers=headers, json=payload, **kw)


def _is_problem_404(ep: Endpoint, response) -> str | None:
    """None when the answer is a proper 404, else what is wrong with it."""
    if response.status_code != 404:
        return f"answered {response.status_code}: {response.text[:200]}"
    if ep.path.startswith("/portal"):
        return None  # pages may render their own not-found page
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"404 without a problem+json body ({response.headers.get('content-type')})"
    if response.json().get("status") != 404:
        return f"404 body is not a problem: {response.text[:200]}"
    return None


# ---------------------------------------------------------------- the tests

async def test_route_table_is_covered(app):
    """The matrix sees the kernel's row routes, a plugin's route, and no public route."""
    found, public = endpoints(app)
    paths = {str(e) for e in found if e.int_params}
    for expected in ("GET /api/v1/tickets/{ticket_id:int}", "POST /api/v1/tickets/{ticket_id:int}/transitions",
                     "POST /api/v1/customers/{customer_id:int}/units/{occupancy_id:int}/end",
                     "DELETE /api/v1/units/{unit_id:int}", "GET /api/v1/dummy/tickets/{ticket_id:int}",
                     "GET /api/v1/tickets/{ticket_id:int}/attachments/{attachment_id:int}"):
        assert expected in paths
    # a nested id finds its nested table first (not another plugin's `<plugin>_attachment`)
    assert table_for("attachment_id", None, all_tables(), parent="ticket_id")._meta.tablename == "core_ticket_attachment"
    assert "POST /api/v1/auth/login" in public and "GET /healthz" in public
    assert not any(str(e) in public for e in found)


async def test_other_company_rows_are_404_for_every_route_method_and_role(app, client, companies):
    """Every route with a row id × every method × 8 roles of company A × company B's row → 404 problem.

    Routes with several ids are also called with one of B's ids beside A's own ids, so a handler that
    checks only the first id is caught too.
    """
    from core.roles import ALL_ROLES

    a, b, tables = companies
    found, _ = endpoints(app)
    problems: list[str] = []
    calls = 0
    for ep in (e for e in found if e.int_params):
        theirs = _ids_for(ep, b, tables, problems)
        ours = _ids_for(ep, a, tables, problems) if theirs is not None else None
        if theirs is None or ours is None:
            continue
        variants = [theirs]
        if len(ep.int_params) > 1:
            variants += [{**ours, p: theirs[p]} for p in ep.int_params]
        body = request_body(ep.handler, _own_body_ids(a, tables, ep.plugin))
        if body is not None and body[0] == "json":
            struct = _strip(ep.handler.parsed_fn_signature.parameters["data"].annotation)
            if isinstance(struct, type) and issubclass(struct, msgspec.Struct) and not _valid(body[1], struct):
                problems.append(f"{ep}: could not build a valid {struct.__name__} body ({body[1]!r})")
                continue
        params = required_query(ep.handler, set(ep.int_params), _own_body_ids(a, tables, ep.plugin))
        for ids in variants:
            url = _url(ep, ids)
            for role in ALL_ROLES:
                calls += 1
                response = await _send(client, ep, url, a.headers(role), body, params=params)
                wrong = _is_problem_404(ep, response)
                if wrong:
                    problems.append(f"{ep.method} {url} as {role} ({ids}): {wrong}")
    assert calls > 0
    assert not problems, f"{len(problems)} of {calls} cross-tenant calls leaked or failed:\n" + "\n".join(problems)


async def test_own_rows_answer_on_single_id_get_routes_so_the_matrix_is_not_vacuous(app, client, companies):
    """The company's own row answers (not 404) to the company CS department on every `GET …/{thing_id}` route."""
    a, b, tables = companies
    found, _ = endpoints(app)
    problems = []
    for ep in (e for e in found if e.method == "GET" and len(e.int_params) == 1 and not e.other_params
               and e.path.endswith(":int}")):
        ids = _ids_for(ep, a, tables, problems)
        if ids is None:
            continue
        response = await client.get(_url(ep, ids), headers=a.headers("company_cs"))
        if response.status_code == 404:
            problems.append(f"{ep} with own id {ids}: 404 {response.text[:200]}")
    assert not problems, "\n".join(problems)


def _rows_of(payload: Any) -> list[Any] | None:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    return None


def _mentions_tenant(payload: Any, tenant_id: int) -> bool:
    if isinstance(payload, dict):
        return payload.get("tenant_id") == tenant_id or any(_mentions_tenant(v, tenant_id) for v in payload.values())
    if isinstance(payload, list):
        return any(_mentions_tenant(v, tenant_id) for v in payload)
    return False


async def test_list_routes_filtered_by_other_company_ids_return_none_of_its_rows(app, client, companies):
    """GET list routes × every `<thing>_id` query filter × 8 roles of A, filtering by B's ids → no rows of B."""
    from core.roles import ALL_ROLES

    a, b, tables = companies
    found, _ = endpoints(app)
    problems: list[str] = []
    calls = 0
    for ep in (e for e in found if e.method == "GET" and not e.int_params and not e.other_params):
        if not ep.path.startswith("/api/"):
            continue
        for name, param in ep.handler.parsed_fn_signature.parameters.items():
            if not name.endswith("_id") or _strip(param.annotation) not in (int, int | None, typing.Optional[int]):
                continue
            try:
                table = table_for(name, ep.plugin, tables, by_foreign_key=True)
            except LookupError as exc:
                problems.append(f"{ep} ?{name}=: {exc}")
                continue
            if table._meta.tablename not in b.first_ids:
                problems.append(f"{ep} ?{name}=: the demo company has no row in {table._meta.tablename}")
                continue
            for role in ALL_ROLES:
                calls += 1
                response = await client.get(ep.path, params={name: b.first_ids[table._meta.tablename]},
                                            headers=a.headers(role))
                if response.status_code in (403, 404, 422):
                    if not response.headers.get("content-type", "").startswith("application/problem+json"):
                        problems.append(f"{ep} ?{name}= as {role}: {response.status_code} without problem+json")
                    continue
                if response.status_code != 200:
                    problems.append(f"{ep} ?{name}= as {role}: {response.status_code} {response.text[:200]}")
                    continue
                payload = response.json()
                rows = _rows_of(payload)
                if rows:
                    problems.append(f"{ep} ?{name}={b.first_ids[table._meta.tablename]} as {role}: "
                                    f"{len(rows)} row(s) of another company's filter")
                elif _mentions_tenant(payload, b.tenant_id):
                    problems.append(f"{ep} ?{name}= as {role}: the answer carries company B's rows")
    assert calls > 0
    assert not problems, f"{len(problems)} of {calls} filtered list calls leaked:\n" + "\n".join(problems)
