"""`GET /crm/v3/pipelines/deals`: pipelines with ordered stages; stage metadata values are
strings (`{"isClosed": "false", "probability": "0.2"}`), as the v3 API returns them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sandbox.hubspot.catalog import PIPELINES
from sandbox.hubspot.generate import iso
from sandbox.world import ShopProfile, World


def pipelines_payload(world: World, shop: ShopProfile) -> dict[str, Any]:
    created = iso(datetime.combine(world.history_start(shop), time(0), UTC))
    results = []
    for pipeline in PIPELINES:
        stages = [
            {
                "label": stage.label,
                "displayOrder": order,
                "metadata": {
                    "isClosed": str(stage.closed).lower(),
                    "probability": stage.probability,
                },
                "id": stage.id,
                "createdAt": created,
                "updatedAt": created,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for order, stage in enumerate(pipeline.stages)
        ]
        results.append(
            {
                "label": pipeline.label,
                "displayOrder": pipeline.display_order,
                "id": pipeline.id,
                "stages": stages,
                "createdAt": created,
                "updatedAt": created,
                "archived": False,
            }
        )
    return {"results": results}
