"""The test plugin's periodic job."""
from core import actor


@actor("dummy", "tick", queue="periodic")
async def tick(as_of: str) -> dict:
    return {"as_of": as_of}
