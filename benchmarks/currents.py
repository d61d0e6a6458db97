"""Currents bridge benchmark: events per second through `currents-sync` on 1,000,000 Currents events.

Writes Purchase files in Braze's layout (100,000 events per file, Braze's largest; 5 % of the events
delivered a second time in the next file, as at-least-once delivery does) into an in-process S3 (moto),
then runs the bridge with an in-memory event tracker that accepts every PutEvents call. The baseline,
run side by side on the same files, is fastavro alone decoding them: the floor any Avro reader pays.

Last line: `currents: <n> events/s (<ratio> of fastavro's decode rate <m> events/s), <k> PutEvents calls`.
Knobs (env): BENCH_CURRENTS_EVENTS (1000000), BENCH_CURRENTS_USERS (100000).
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

import boto3
import fastavro
from moto import mock_aws

from pipeline.config import load_config
from pipeline.currents.bridge import Bridge, BridgeSettings
from pipeline.currents.layout import build_key
from pipeline.currents.sample import FILE_EVENT_LIMIT, write_avro
from pipeline.lifecycle.context import Progress

BUCKET = "bench-currents"
PER_FILE = 100_000  # Braze: "under heavy load, we may write larger data files with as many as 100,000 events"


class CountingTracker:
    def __init__(self) -> None:
        self.calls = 0
        self.events = 0

    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        self.events += len(kwargs["eventList"])
        return {}


def _records(start: int, count: int, users: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"evt-{n:09d}",
            "user_id": f"{n % users:024x}",
            "external_user_id": f"user-{n % users}",
            "time": 1_751_500_000 + n // 50,
            "product_id": f"i{(n * 7919) % 20_000}",
            "price": 9.5,
            "currency": "EUR",
            "properties": "{}",
        }
        for n in range(start, start + count)
    ]


def main() -> None:
    total = int(os.environ.get("BENCH_CURRENTS_EVENTS") or 1_000_000)
    users = int(os.environ.get("BENCH_CURRENTS_USERS") or 100_000)
    assert PER_FILE >= FILE_EVENT_LIMIT
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        files: list[bytes] = []
        for n, start in enumerate(range(0, total, PER_FILE)):
            records = _records(start, min(PER_FILE, total - start), users)
            if start:  # the tail of the previous file delivered again
                records = _records(start - PER_FILE // 20, PER_FILE // 20, users) + records
            body = write_avro("users.behaviors.Purchase", records)
            files.append(body)
            key = build_key(
                "currents/", "users.behaviors.Purchase", "2025-07-03-00", integration_id="b", offset=n
            )
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        delivered = sum(1 for body in files for _ in fastavro.reader(io.BytesIO(body)))

        started = time.perf_counter()
        for body in files:
            for _ in fastavro.reader(io.BytesIO(body)):
                pass
        decode_seconds = time.perf_counter() - started

        tracker = CountingTracker()
        settings = BridgeSettings.from_config(load_config()["currents"], bucket=BUCKET, tracking_id="bench")
        bridge = Bridge(settings, s3, tracker, progress=Progress(io.StringIO()))
        started = time.perf_counter()
        result = bridge.sync()
        seconds = time.perf_counter() - started
    assert tracker.events == total, (tracker.events, total)
    assert result.count("duplicates") == delivered - total
    rate, floor = delivered / seconds, delivered / decode_seconds
    print(f"delivered {delivered:,} events in {len(files)} files ({delivered - total:,} duplicates dropped)")
    print(f"bridge {seconds:.1f}s, fastavro decode alone {decode_seconds:.1f}s")
    print(
        f"currents: {rate:,.0f} events/s ({rate / floor:.2f} of fastavro's decode rate "
        f"{floor:,.0f} events/s), {tracker.calls:,} PutEvents calls"
    )


if __name__ == "__main__":
    main()
