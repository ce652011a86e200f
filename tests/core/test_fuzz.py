"""Schemathesis over the app's own OpenAPI: every operation, authenticated as each role, against a real
`guanjia serve` on the test database. No answer is a 5xx; every error is a problem-details body.

Examples per operation: `GUANJIA_FUZZ_EXAMPLES` for the company CS department (default 3) and one for
each other role; the run prints operations fuzzed and requests sent."""
from __future__ import annotations

import os

import pytest

from tests.deploy.procs import Proc, free_port, wait_ready

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (test extra) fuzzes the API")

EXAMPLES = int(os.environ.get("GUANJIA_FUZZ_EXAMPLES", "3"))


def _problem_or_success(response) -> str | None:
    """Why this response breaks the contract, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}: {response.text[:300]}"
    if status >= 400:
        ctype = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        if not ctype.startswith("application/problem+json"):
            return f"{status} without problem details: {ctype} {response.text[:200]}"
        body = response.json()
        if body.get("status") != status or not body.get("title"):
            return f"{status} with an incomplete problem body: {body}"
    return None


async def test_fuzz_every_operation_as_every_role_gives_no_5xx_and_problem_details(world, tmp_path):
    from hypothesis import HealthCheck, Phase, given, settings

    port = free_port()
    web = Proc("fuzz-web", ["serve", "--port", str(port)], tmp_path)
    try:
        wait_ready(port, web)
        base = f"http://127.0.0.1:{port}"
        schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) > 50
        failures: list[str] = []
        sent = {"n": 0}
        for role in world.tokens:
            examples = EXAMPLES if role == "company_cs" else 1
            headers = world.headers(role)
            for op in operations:
                @given(case=op.as_strategy())
                @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
                def fuzz(case) -> None:
                    try:
                        response = case.call(base_url=base, headers=headers, timeout=30)
                    except Exception as exc:  # noqa: BLE001 - a dropped connection is a failure too
                        failures.append(f"{role} {op.method.upper()} {op.path}: {type(exc).__name__}: {exc}")
                        return
                    sent["n"] += 1
                    why = _problem_or_success(response)
                    if why:
                        failures.append(f"{role} {op.method.upper()} {op.path} {case.path_parameters or ''} "
                                        f"{case.query or ''}: {why}")

                fuzz()
        print(f"\nfuzz: {len(operations)} operations × {len(world.tokens)} roles, {sent['n']} requests, "
              f"{len(failures)} failures")
        assert not failures, "\n".join(failures[:40])
    finally:
        web.stop()
