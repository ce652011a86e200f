"""Helpers for the portal tests: log in through the form, post forms with the page's CSRF token."""
from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD, World

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries no CSRF field"
    return found.group(1)


async def portal_login(client: Any, world: World, role: str = "front_desk") -> str:
    """Log in through the portal's form; returns the CSRF token of the session's pages."""
    page = await client.get("/portal/login")
    token = csrf_of(page.text)
    response = await client.post("/portal/login", data={"login": f"{world.tenant['slug']}-{role}", "password": PASSWORD,
                                                        "_csrf": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return token


async def post_form(client: Any, url: str, token: str, **fields: Any):
    return await client.post(url, data={"_csrf": token, **{k: str(v) for k, v in fields.items()}}, follow_redirects=False)
