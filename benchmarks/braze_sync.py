"""braze-sync benchmark: users per second onto Braze profiles, 10,000 users, against the Braze emulator.

The emulator (local_stack/braze) serves on loopback over real HTTP with Braze's default /users/track limit;
the sync state lives in an in-process S3 (moto). Side by side, the baseline posts the same 75-object
requests with the same client but keeps no state (no change detection, no resume journal): the ratio is
what resumability costs. Both are set against the ceiling of Braze's default limit (3,000 requests per
3 s × 75 objects = 75,000 users/s).

Last line: `braze-sync: <n> users/s (<r> of the stateless baseline <b> users/s; <c> of the ceiling)`.
Knob (env): BENCH_BRAZE_USERS (10000).
"""

from __future__ import annotations

import logging
import os
import threading
import time

import boto3
from moto import mock_aws
from werkzeug.serving import make_server

from local_stack.braze.app import BrazeApp
from local_stack.braze.workspace import Workspace
from pipeline.braze_sync.client import MAX_TRACK_OBJECTS, BrazeClient
from pipeline.braze_sync.sync import TRACK_CEILING_USERS_PER_SECOND, SyncState, sync_users

KEY = "bench-key"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    users = int(os.environ.get("BENCH_BRAZE_USERS") or 10_000)
    values = {
        f"user-{n:06d}": [{"id": f"i{(n + k) % 500}", "name": f"Item {k}"} for k in range(5)]
        for n in range(users)
    }
    workspace = Workspace.from_env()
    workspace.api_keys = frozenset({KEY})
    server = make_server("127.0.0.1", 0, BrazeApp(workspace), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        client = BrazeClient(url, KEY)
        names = sorted(values)
        started = time.perf_counter()
        for start in range(0, users, MAX_TRACK_OBJECTS):
            client.track(
                [
                    {"external_id": u, "recs_weekly": values[u]}
                    for u in names[start : start + MAX_TRACK_OBJECTS]
                ]
            )
        baseline = users / (time.perf_counter() - started)
        workspace.reset()
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="bench-braze")
            state = SyncState(s3, "bench-braze", "braze-sync/recs_weekly/").load()
            report = sync_users(BrazeClient(url, KEY), state, values, attribute="recs_weekly", job="bench")
    finally:
        server.shutdown()
    assert report.sent == users and len(workspace.profiles) == users
    rate = report.users_per_second
    print(report.format())
    print(
        f"braze-sync: {rate:,.0f} users/s ({rate / baseline:.2f} of the stateless baseline {baseline:,.0f} "
        f"users/s; {rate / TRACK_CEILING_USERS_PER_SECOND:.3f} of the 75,000 users/s ceiling)"
    )


if __name__ == "__main__":
    main()
