"""`python -m sandbox`: every source server on loopback, its URLs and each shop's credentials.

Ports are `--port-base` + the server's position in APP_FACTORIES (shopify, meta, ga4, hubspot,
admin), or free ports when no base is given. A platform whose package does not import yet is
skipped with a note, so one unfinished source never blocks the others.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

from sandbox import server
from sandbox.world import SIZES, World


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", choices=sorted(SIZES), default="demo")
    parser.add_argument(
        "--anchor",
        default=None,
        help="'now' or an ISO timestamp; default: the fixed reproducible anchor",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-base", type=int, default=None)
    return parser.parse_args(argv)


def parse_anchor(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def importable_platforms() -> tuple[list[str], dict[str, str]]:
    ok: list[str] = []
    skipped: dict[str, str] = {}
    for name in server.APP_FACTORIES:
        try:
            server.load_factory(name)
        except (ImportError, AttributeError) as exc:
            skipped[name] = f"{type(exc).__name__}: {exc}"
        else:
            ok.append(name)
    return ok, skipped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("sandbox: refusing to bind anything but loopback", file=sys.stderr)
        return 2
    try:
        anchor = parse_anchor(args.anchor)
    except ValueError:
        print(
            f"sandbox: --anchor must be 'now' or an ISO timestamp, not {args.anchor!r}",
            file=sys.stderr,
        )
        return 2
    world = World.build(seed=args.seed, size=args.size, anchor=anchor)
    names, skipped = importable_platforms()
    ports = None
    if args.port_base is not None:
        order = list(server.APP_FACTORIES)
        ports = {name: args.port_base + order.index(name) for name in names}
    running = server.start(world, platforms=names, host=args.host, ports=ports)
    print(f"sandbox world: seed={world.seed} size={args.size} now={world.now().isoformat()}")
    for name, url in running.urls.items():
        print(f"  {name:<8} {url}")
    for name, reason in skipped.items():
        print(f"  {name:<8} not started ({reason})")
    shopify = running.urls.get("shopify")
    for shop in world.shops.values():
        print(f"\n{shop.name} ({shop.shop_id}, {shop.currency}, {shop.timezone})")
        if shopify:
            print(
                f"  shopify  {shopify}/shops/{shop.handle}  X-Shopify-Access-Token: "
                f"{shop.shopify_token}"
            )
        print(f"  meta     {shop.meta_ad_account_id}  token {shop.meta_token}")
        print(
            f"  ga4      property {shop.ga4_property_id}  client {shop.ga4_client_id} "
            f"secret {shop.ga4_client_secret} refresh {shop.ga4_refresh_token}"
        )
        print(f"  hubspot  portal {shop.hubspot_portal_id}  token {shop.hubspot_token}")
    sys.stdout.flush()

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
