"""Fleet budgets (storeline/worker/kit/budget.py): two pools stand for two worker processes; the
schedule they reserve in is one, so together they keep one source's limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from storeline.worker.kit.budget import FleetBudget

# The schedule is computed in Postgres from clock_timestamp(); successive statements run
# milliseconds apart, so reserved waits are compared with this much slack.
SLACK = 0.05


@pytest.fixture
async def other_pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    other = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    assert other is not None
    yield other
    await other.close()


async def test_two_processes_reserve_in_one_schedule(
    pool: asyncpg.Pool, other_pool: asyncpg.Pool
) -> None:
    """10 requests a second with a burst of 3: the first three go at once, every next one a
    tenth of a second after the one before, whichever process asks."""
    a = FleetBudget(pool, "test:portal", interval=0.1, burst=3)
    b = FleetBudget(other_pool, "test:portal", interval=0.1, burst=3)
    waits = [await (a if i % 2 else b).take() for i in range(8)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    for n, wait in enumerate(waits[3:], start=1):
        assert abs(wait - 0.1 * n) < SLACK, waits


async def test_a_pause_one_process_hears_holds_back_the_other(
    pool: asyncpg.Pool, other_pool: asyncpg.Pool
) -> None:
    heard = FleetBudget(pool, "meta:app:x")
    other = FleetBudget(other_pool, "meta:app:x")
    assert await other.take() == 0.0
    await heard.signal(pause=30.0)
    assert 30.0 - SLACK < await other.take() <= 30.0
    assert await FleetBudget(other_pool, "meta:app:y").take() == 0.0  # another app: not held


async def test_a_spacing_signal_applies_to_every_process_until_lowered(
    pool: asyncpg.Pool, other_pool: asyncpg.Pool
) -> None:
    heard = FleetBudget(pool, "ga4:client:property")
    other = FleetBudget(other_pool, "ga4:client:property")
    await heard.signal(floor=2.0)
    first, second = await other.take(), await other.take()
    assert first < SLACK
    assert abs(second - 2.0) < SLACK
    await heard.signal(floor=0.0)
    assert abs(await other.take() - 4.0) < SLACK  # slots already reserved stay reserved
    assert heard.last_signal == (0.0, 0.0)
