"""Fan-out of one update to 100 partner inboxes (issue 8): from the commit of the
publishing transaction until every one of 100 local test receivers (each its own server
on a loopback port, so no shared-inbox dedupe) has acknowledged the signed POST, with the
embedded job runner. Also the same 100 POSTs sent directly (signed, 20 at a time) as a
floor.

Run: ``python -m bench.federation_fanout`` (SQLite in a temporary folder); set
``FABCOM_BENCH_POSTGRES_URL`` to run on PostgreSQL too. ``BENCH_INBOXES`` (100),
``BENCH_ROUNDS`` (5)."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

INBOXES = int(os.environ.get("BENCH_INBOXES", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


async def run(url: str, var_dir: Path, concurrency: int) -> tuple[float, float]:
    from tortoise.transactions import in_transaction

    from fabcom import clock
    from fabcom.db import close_database, open_database
    from fabcom.federation import config, remote
    from fabcom.federation.keys import organization_key
    from fabcom.federation.models import Audience, RemoteActor
    from fabcom.federation.publish import publish
    from fabcom.jobs.embedded import EmbeddedRunner
    from fabcom.jobs.registry import load_jobs
    from fabcom.migrations_api import apply_migrations
    from fabcom.network.models import Partnership, PartnershipStatus
    from fabcom.orgs.models import Organization
    from fabcom.settings import Settings
    from fabcom.testing.receiver import WebhookReceiver

    settings = Settings(var_dir=var_dir, database_url=url, secret_key="bench", federation_allow_private_addresses=True)
    await apply_migrations(settings)
    await open_database(settings)
    config.use(settings)
    load_jobs()
    receivers = [WebhookReceiver() for _ in range(INBOXES)]
    for receiver in receivers:
        await receiver.__aenter__()
    try:
        org = await Organization.create(slug="bench-a", name="Bench A")
        for n, receiver in enumerate(receivers):
            uri = f"http://127.0.0.1:{receiver.port}/ap/o/p{n}"
            mirror = await Organization.create(slug=f"p{n}", name=f"P{n}", is_local=False, remote_uri=uri)
            await RemoteActor.create(
                uri=uri,
                host=f"127.0.0.1:{receiver.port}",
                organization=mirror,
                inbox=receiver.url,
                key_id=f"{uri}#main-key",
                fetched_at=clock.now(),
            )
            await Partnership.create(organization=org, partner=mirror, status=PartnershipStatus.ACCEPTED)
        key = await organization_key(org.id, org.slug)
        runner = EmbeddedRunner(settings, concurrency=concurrency)
        fabcom_times, floor_times = [], []
        for round_ in range(ROUNDS):
            for receiver in receivers:
                receiver.requests.clear()
            activity = {
                "id": f"{config.base_url()}/ap/activities/bench-{round_}-{time.time_ns()}",
                "type": "Update",
                "actor": config.org_actor_uri(org.slug),
                "object": {"id": f"{config.base_url()}/ap/items/1", "type": "Note", "name": "Chaise"},
            }
            start = time.perf_counter()
            async with in_transaction():
                await publish(org.id, activity, audience=Audience.PARTNERS)
            while not all(r.requests for r in receivers):
                await runner.run_due()
            fabcom_times.append(time.perf_counter() - start)

            for receiver in receivers:
                receiver.requests.clear()
            body = b'{"type":"Update"}'
            start = time.perf_counter()
            semaphore = asyncio.Semaphore(20)

            async def post(target: str, body: bytes = body, semaphore: asyncio.Semaphore = semaphore) -> None:
                async with semaphore:
                    await remote.signed_post(target, body, key)

            await asyncio.gather(*(post(r.url) for r in receivers))
            floor_times.append(time.perf_counter() - start)
        await runner.runtime.close()
        return statistics.median(fabcom_times) * 1000, statistics.median(floor_times) * 1000
    finally:
        for receiver in receivers:
            await receiver.__aexit__(None, None, None)
        await close_database()
        config.use(None)


async def main() -> None:
    from fabcom.testing.services import create_postgres_database, drop_postgres_database

    print(f"fan-out of one activity to {INBOXES} partner inboxes, median of {ROUNDS} rounds")
    print(
        "| database | runner concurrency | fabcom: publish → all acknowledged | floor: 100 signed POSTs, 20 at a time |"
    )
    print("| --- | ---: | ---: | ---: |")
    server = os.environ.get("FABCOM_BENCH_POSTGRES_URL")
    for concurrency in (4, 20):
        with tempfile.TemporaryDirectory() as tmp:
            ours, floor = await run("", Path(tmp), concurrency)
        print(f"| SQLite | {concurrency} | {ours:.0f} ms | {floor:.0f} ms |")
        if server:
            url = await create_postgres_database(server, "fabcom_bench_fanout")
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    ours, floor = await run(url, Path(tmp), concurrency)
            finally:
                await drop_postgres_database(url)
            print(f"| PostgreSQL | {concurrency} | {ours:.0f} ms | {floor:.0f} ms |")


if __name__ == "__main__":
    asyncio.run(main())
