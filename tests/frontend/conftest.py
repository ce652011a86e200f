"""Portal tests log in through the form, so their companies need no API tokens (each costs a password hash)."""
from __future__ import annotations

import pytest

from tests.conftest import World, make_world


@pytest.fixture
async def world() -> World:
    return await make_world(login=False)


@pytest.fixture
async def other_world() -> World:
    return await make_world(login=False)
