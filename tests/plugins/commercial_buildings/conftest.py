"""Fixtures of the commercial buildings tests: companies whose first project is a commercial complex."""
from __future__ import annotations

import pytest

from tests.conftest import make_world


@pytest.fixture
async def cworld():
    return await make_world(plugins=["commercial_buildings"], kind="commercial")


@pytest.fixture
async def other_cworld():
    return await make_world(plugins=["commercial_buildings"], kind="commercial")
