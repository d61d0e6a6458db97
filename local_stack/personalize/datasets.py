"""Schemas, dataset groups, datasets and dataset import jobs."""

from __future__ import annotations

import json
from typing import Any

from local_stack.personalize.core import (
    DATASET_TYPE_KEYS,
    IN_PROGRESS,
    MAX_DATASET_GROUPS,
    PENDING,
    BackendCore,
    JobFailure,
    public_fields,
)
from local_stack.personalize.errors import (
    InvalidInputException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
)
from local_stack.personalize.s3io import S3AccessError, list_keys, read_object
from local_stack.personalize.store import DatasetGroupStore, StoreError
from personalize_rules.dataset_schemas import PersonalizeSchemaError, check_schema

__all__ = ["DatasetOps"]


class DatasetOps(BackendCore):
    """Schemas, dataset groups, datasets and dataset import jobs."""

    # ================================================================== schemas
    def op_CreateSchema(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            schema = json.loads(p["schema"])
        except ValueError as exc:
            raise InvalidInputException(f"Schema is not valid JSON: {exc}") from exc
        if (
            not isinstance(schema, dict)
            or schema.get("type") != "record"
            or not isinstance(schema.get("fields"), list)
        ):
            raise InvalidInputException("Schema must be an Avro record with a list of fields.")
        with self._lock:
            arn = self.arn("schema", p["name"])
            record = {"name": p["name"], "schemaArn": arn, "schema": p["schema"]}
            if p.get("domain"):
                record["domain"] = p["domain"]
            self._new("schema", arn, record, None)
        return {"schemaArn": arn}

    def op_DescribeSchema(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"schema": public_fields(self._get("schema", p["schemaArn"]))}

    def op_ListSchemas(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._list(
            "schema", p, "schemas", ("name", "schemaArn", "creationDateTime", "lastUpdatedDateTime", "domain")
        )

    def op_DeleteSchema(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._get("schema", p["schemaArn"])
            users = self._children("dataset", "schemaArn", p["schemaArn"])
            if users:
                raise ResourceInUseException(
                    f"Schema {p['schemaArn']} is used by dataset(s): {', '.join(users)}."
                )
            del self.resources["schema"][p["schemaArn"]]
        return {}

    # ================================================================== dataset groups
    def op_CreateDatasetGroup(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if len(self.resources["dataset-group"]) >= MAX_DATASET_GROUPS:
                raise LimitExceededException(
                    f"You have reached the maximum number of dataset groups ({MAX_DATASET_GROUPS})."
                )
            arn = self.arn("dataset-group", p["name"])
            record: dict[str, Any] = {"name": p["name"], "datasetGroupArn": arn}
            for key in ("roleArn", "kmsKeyArn", "domain"):
                if p.get(key):
                    record[key] = p[key]
            self._new("dataset-group", arn, record, p.get("tags"))
            self.stores[arn] = DatasetGroupStore()
            self._run_async(record)
        out = {"datasetGroupArn": arn}
        if p.get("domain"):
            out["domain"] = p["domain"]
        return out

    def op_DescribeDatasetGroup(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"datasetGroup": public_fields(self._get("dataset-group", p["datasetGroupArn"]))}

    def op_ListDatasetGroups(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = (
            "name",
            "datasetGroupArn",
            "status",
            "creationDateTime",
            "lastUpdatedDateTime",
            "failureReason",
            "domain",
        )
        return self._list("dataset-group", p, "datasetGroups", fields)

    def op_DeleteDatasetGroup(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["datasetGroupArn"]
        with self._lock:
            self._get("dataset-group", arn)
            children = [
                c
                for kind in ("dataset", "solution", "filter", "event-tracker")
                for c in self._children(kind, "datasetGroupArn", arn)
            ]
            if children:
                raise ResourceInUseException(
                    f"Dataset group {arn} still has child resources; delete them first: "
                    f"{', '.join(children)}."
                )
            del self.resources["dataset-group"][arn]
            self.stores.pop(arn, None)
            self.tags.pop(arn, None)
        return {}

    # ================================================================== datasets
    def op_CreateDataset(self, p: dict[str, Any]) -> dict[str, Any]:
        dtype = p["datasetType"]
        key = DATASET_TYPE_KEYS.get(dtype)
        if key is None:
            raise InvalidInputException(
                f"Dataset type {dtype} is not supported by the local emulator (Interactions, Items, Users)."
            )
        with self._lock:
            group = self._require_active("dataset-group", p["datasetGroupArn"])
            schema_record = self._get("schema", p["schemaArn"])
            schema = json.loads(schema_record["schema"])
            try:
                check_schema(key, schema)
            except PersonalizeSchemaError as exc:
                raise InvalidInputException(
                    f"Schema {p['schemaArn']} is not valid for {dtype}: {exc}"
                ) from exc
            arn = self.arn("dataset", f"{group['name']}/{dtype.upper()}")
            if arn in self.resources["dataset"]:
                raise ResourceAlreadyExistsException(
                    f"Dataset group {p['datasetGroupArn']} already has a dataset of type {dtype}."
                )
            record = {
                "name": p["name"],
                "datasetArn": arn,
                "datasetGroupArn": p["datasetGroupArn"],
                "datasetType": dtype,
                "schemaArn": p["schemaArn"],
            }
            self._new("dataset", arn, record, p.get("tags"))
            self.store_for(p["datasetGroupArn"]).schemas[key] = schema
            self._run_async(record)
        return {"datasetArn": arn}

    def op_DescribeDataset(self, p: dict[str, Any]) -> dict[str, Any]:
        record = public_fields(self._get("dataset", p["datasetArn"]))
        if record["datasetType"] == "Interactions":
            tracker = next(
                (
                    t
                    for t in self.resources["event-tracker"].values()
                    if t["datasetGroupArn"] == record["datasetGroupArn"]
                ),
                None,
            )
            if tracker is not None:
                record["trackingId"] = tracker["trackingId"]
        return {"dataset": record}

    def op_ListDatasets(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = ("name", "datasetArn", "datasetType", "status", "creationDateTime", "lastUpdatedDateTime")
        return self._list("dataset", p, "datasets", fields, ("datasetGroupArn", "datasetGroupArn"))

    def op_DeleteDataset(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["datasetArn"]
        with self._lock:
            record = self._get("dataset", arn)
            running = [
                a
                for a in self._children("dataset-import-job", "datasetArn", arn)
                if self.resources["dataset-import-job"][a]["status"] in (PENDING, IN_PROGRESS)
            ]
            if running:
                raise ResourceInUseException(
                    f"Dataset {arn} has import jobs in progress: {', '.join(running)}."
                )
            del self.resources["dataset"][arn]
            key = DATASET_TYPE_KEYS[record["datasetType"]]
            store = self.stores.get(record["datasetGroupArn"])
            if store is not None:
                store.schemas.pop(key, None)
        return {}

    # ================================================================== dataset import jobs
    def op_CreateDatasetImportJob(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            dataset = self._require_active("dataset", p["datasetArn"])
            for other in self._children("dataset-import-job", "datasetArn", p["datasetArn"]):
                if self.resources["dataset-import-job"][other]["status"] in (PENDING, IN_PROGRESS):
                    raise ResourceInUseException(
                        f"Dataset {p['datasetArn']} already has an import job in progress: {other}."
                    )
            location = p["dataSource"].get("dataLocation", "")
            if not location.startswith("s3://"):
                raise InvalidInputException(f"dataLocation must be an s3:// path, got {location!r}.")
            arn = self.arn("dataset-import-job", p["jobName"])
            record = {
                "jobName": p["jobName"],
                "datasetImportJobArn": arn,
                "datasetArn": p["datasetArn"],
                "dataSource": {"dataLocation": location},
                "roleArn": p.get("roleArn"),
                "importMode": p.get("importMode", "FULL"),
                "publishAttributionMetricsToS3": bool(p.get("publishAttributionMetricsToS3", False)),
            }
            self._new("dataset-import-job", arn, record, p.get("tags"))
            group_arn = dataset["datasetGroupArn"]
            key = DATASET_TYPE_KEYS[dataset["datasetType"]]
            self._run_async(record, lambda: self._import(group_arn, key, location, record["importMode"]))
        return {"datasetImportJobArn": arn}

    def _import(self, group_arn: str, key: str, location: str, mode: str) -> None:
        try:
            uris = [location]
            if location.endswith("/"):
                bucket_prefix = location[len("s3://") :].split("/", 1)
                keys = [k for k in list_keys(self.account_id, location) if k.lower().endswith(".csv")]
                uris = [f"s3://{bucket_prefix[0]}/{k}" for k in keys]
                if not uris:
                    raise JobFailure(f"Input data location {location} does not contain any CSV files.")
            blobs = [read_object(self.account_id, uri) for uri in uris]
        except S3AccessError as exc:
            raise JobFailure(f"Failed to read input data from {exc.uri}: {exc.why}.") from exc
        store = self.store_for(group_arn)
        tables = []
        for uri, blob in zip(uris, blobs, strict=True):
            # one parse per file, checked with the validator's rules (personalize_rules.dataset_files)
            try:
                tables.append(store.parse_csv(key, blob, uri.rsplit("/", 1)[-1]))
            except StoreError as exc:
                raise JobFailure(f"Input CSV {uri} is {exc.why}") from exc
        for i, table in enumerate(tables):
            store.import_table(key, table, incremental=(mode == "INCREMENTAL" or i > 0))

    def op_DescribeDatasetImportJob(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"datasetImportJob": public_fields(self._get("dataset-import-job", p["datasetImportJobArn"]))}

    def op_ListDatasetImportJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = (
            "datasetImportJobArn",
            "jobName",
            "status",
            "creationDateTime",
            "lastUpdatedDateTime",
            "failureReason",
            "importMode",
        )
        return self._list("dataset-import-job", p, "datasetImportJobs", fields, ("datasetArn", "datasetArn"))
