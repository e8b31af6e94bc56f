"""Async insights report runs (AdReportRun): created by POST …/insights, polled by GET /{id}.

A run snapshots the sandbox time it was created at, so its pages are stable however the clock
moves later. Its status advances one step per poll — Job Not Started → Job Started → Job Running
(rising percent; more steps for bigger reports) → Job Completed, or Job Failed when a
`bulk_failed` fault was injected for the shop; a run still unfinished a sandbox day after its
creation is Job Skipped. Ids are 16-digit numbers like Meta's; a run
expires 30 sandbox days after creation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.meta.params import InsightsQuery

EXPIRY = timedelta(days=30)
STALE = timedelta(days=1)  # a run nobody polled to completion within a day is skipped
ID_BASE = 1_571_860_060_000_000


@dataclass
class ReportRun:
    id: str
    shop_id: str
    account_number: str
    query: InsightsQuery
    as_of: datetime
    steps: list[tuple[str, int]]
    polls: int = 0

    @property
    def status(self) -> str:
        return self._step()[0]

    @property
    def percent(self) -> int:
        return self._step()[1]

    def _step(self) -> tuple[str, int]:
        return self.steps[min(self.polls, len(self.steps)) - 1] if self.polls else self.steps[0]

    def poll(self, now: datetime) -> None:
        if self.status not in ("Job Completed", "Job Failed") and now - self.as_of > STALE:
            self.steps = [("Job Skipped", 0)]
            self.polls = 1
            return
        self.polls += 1

    def node(self, fields: list[str]) -> dict[str, Any]:
        time_ref = int(self.as_of.timestamp())
        done = self.status in ("Job Completed", "Job Failed", "Job Skipped")
        out: dict[str, Any] = {
            "id": self.id,
            "account_id": self.account_number,
            "time_ref": time_ref,
            "async_status": self.status,
            "async_percent_completion": self.percent,
            "date_start": self.query.since.isoformat(),
            "date_stop": self.query.until.isoformat(),
            "is_running": not done,
        }
        if done:
            out["time_completed"] = time_ref + 7 * len(self.steps)
        if self.status == "Job Failed":
            out |= {
                "error_code": -2,
                "error_subcode": 2490547,
                "error_message": "Generating the report failed. Try again later.",
                "error_user_title": "Report Failed",
                "error_user_msg": "Generating the report failed. Try again later.",
            }
        if fields:
            out = {k: v for k, v in out.items() if k in fields or k == "id"}
        return out


def plan(cells: int, fail: bool) -> list[tuple[str, int]]:
    """The statuses successive polls will see: bigger reports take more Running polls."""
    running = 1 + min(4, cells // 5000)
    steps = [("Job Not Started", 0), ("Job Started", 0)]
    steps += [("Job Running", min(99, (i + 1) * 100 // (running + 1))) for i in range(running)]
    if fail:
        steps.append(("Job Failed", steps[-1][1]))
    else:
        steps.append(("Job Completed", 100))
    return steps


@dataclass
class ReportRegistry:
    _runs: dict[str, ReportRun] = field(default_factory=dict)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(
        self,
        shop_id: str,
        account_number: str,
        query: InsightsQuery,
        as_of: datetime,
        cells: int,
        fail: bool,
    ) -> ReportRun:
        with self._lock:
            self._next += 1
            run = ReportRun(
                id=str(ID_BASE + self._next * 7919),
                shop_id=shop_id,
                account_number=account_number,
                query=query,
                as_of=as_of,
                steps=plan(cells, fail),
            )
            self._runs[run.id] = run
            return run

    def get(self, run_id: str, now: datetime) -> ReportRun | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and now - run.as_of > EXPIRY:
                del self._runs[run_id]
                return None
            return run
