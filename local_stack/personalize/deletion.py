"""Data deletion jobs: every reference to the listed users leaves a dataset group.

Documented behaviour imitated (Amazon Personalize API reference, "CreateDataDeletionJob"):
- the input is a CSV file in S3 with a single USER_ID column; `roleArn` must be able to read it;
- statuses go PENDING > IN_PROGRESS > COMPLETED or FAILED, with `failureReason` when FAILED;
- `numDeleted` is "the number of records deleted by a COMPLETED job";
- after the job completes, Personalize no longer trains on the users' data. Models trained before
  keep what they learnt until the next training (AWS: "Until the job completes, Amazon Personalize
  continues to use the data when training"), which is what the emulator does too.
Here the users' imported interactions, real-time events (PutEvents) and Users rows are removed.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from local_stack.personalize.core import BackendCore, JobFailure, public_fields, step_seconds, utc_now
from local_stack.personalize.errors import (
    InvalidInputException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from local_stack.personalize.s3io import S3AccessError, read_object
from local_stack.personalize.store import DatasetGroupStore

__all__ = ["DataDeletionOps", "read_user_ids", "remove_users"]

KIND = "data-deletion-job"
_SUMMARY: tuple[str, ...] = ("dataDeletionJobArn", "datasetGroupArn", "jobName", "status")
_SUMMARY += ("creationDateTime", "lastUpdatedDateTime", "failureReason")


def read_user_ids(data: bytes, where: str) -> list[str]:
    """The USER_ID column of a deletion CSV: it must be the file's single column."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = [h.strip() for h in next(reader, [])]
    if header != ["USER_ID"]:
        raise JobFailure(f"Input CSV {where} must have a single USER_ID column (header: {','.join(header)}).")
    return [row[0].strip() for row in reader if row and row[0].strip()]


def remove_users(store: DatasetGroupStore, user_ids: set[str]) -> int:
    """Drop the users' interactions, events and Users rows; returns how many records went."""
    with store._lock:
        removed = 0
        table = store.interactions
        if table is not None and table.num_rows:
            users = pa.array(sorted(user_ids), type=pa.string())
            keep = pc.invert(pc.is_in(table.column("USER_ID").cast(pa.string()), value_set=users))
            kept = table.filter(keep)
            removed += table.num_rows - kept.num_rows
            store.interactions = kept
            store._index = None
        for user in user_ids:
            removed += len(store.events.pop(user, []))
            removed += 1 if store.users.pop(user, None) is not None else 0
        # event_rows are the same PutEvents as `events` (counted above), kept for the next training.
        store.event_rows = [r for r in store.event_rows if str(r.get("USER_ID")) not in user_ids]
        return removed


class DataDeletionOps(BackendCore):
    """CreateDataDeletionJob, DescribeDataDeletionJob, ListDataDeletionJobs."""

    def _deletion_jobs(self) -> dict[str, dict[str, Any]]:
        # setdefault: state pickled before this kind existed still loads.
        return self.resources.setdefault(KIND, {})

    def op_CreateDataDeletionJob(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            group = p["datasetGroupArn"]
            self._get("dataset-group", group)
            if not p["dataSource"].get("dataLocation"):
                raise InvalidInputException("dataSource.dataLocation is required.")
            arn = self.arn(KIND, p["jobName"])
            jobs = self._deletion_jobs()
            if arn in jobs:
                raise ResourceAlreadyExistsException(f"Another resource with Arn {arn} already exists.")
            now = utc_now()
            record: dict[str, Any] = {
                "jobName": p["jobName"],
                "dataDeletionJobArn": arn,
                "datasetGroupArn": group,
                "dataSource": {"dataLocation": p["dataSource"]["dataLocation"]},
                "roleArn": p["roleArn"],
                "status": "PENDING",
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
            }
            jobs[arn] = record
            if p.get("tags"):
                self.tags[arn] = list(p["tags"])
        threading.Thread(
            target=self._delete, args=(record,), name=f"personalize-{p['jobName']}", daemon=True
        ).start()
        return {"dataDeletionJobArn": arn}

    def _delete(self, record: dict[str, Any]) -> None:
        time.sleep(step_seconds())
        self._set(record, status="IN_PROGRESS")
        try:
            location = record["dataSource"]["dataLocation"]
            try:
                data = read_object(self.account_id, location)
            except S3AccessError as exc:
                raise JobFailure(f"Failed to read input data from {exc.uri}: {exc.why}.") from exc
            users = set(read_user_ids(data, location))
            removed = remove_users(self.store_for(record["datasetGroupArn"]), users)
            time.sleep(step_seconds())
            self._set(record, status="COMPLETED", numDeleted=removed)
        except JobFailure as exc:
            self._set(record, status="FAILED", failureReason=str(exc))
        except Exception as exc:
            self._set(record, status="FAILED", failureReason=f"Internal error: {exc}")

    def op_DescribeDataDeletionJob(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self._deletion_jobs().get(p["dataDeletionJobArn"])
        if record is None:
            raise ResourceNotFoundException(
                f"Could not find the data deletion job with ARN {p['dataDeletionJobArn']}."
            )
        return {"dataDeletionJob": public_fields(record)}

    def op_ListDataDeletionJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        self._deletion_jobs()
        return self._list(
            KIND, p, "dataDeletionJobs", _SUMMARY, parent=("datasetGroupArn", "datasetGroupArn")
        )
