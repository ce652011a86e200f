"""A company without bearer logins for the service-level tests (hashing eight logins is the slow part)."""
from __future__ import annotations

import pytest

from tests.conftest import make_world


@pytest.fixture
async def company():
    return await make_world(login=False)
