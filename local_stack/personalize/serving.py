"""Campaigns, filters, event trackers, batch inference, tags, runtime and events."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from local_stack.personalize import runtime
from local_stack.personalize.core import (
    ACTIVE,
    DATASET_TYPE_KEYS,
    IN_PROGRESS,
    MAX_FILTERS_PER_DATASET_GROUP,
    PENDING,
    BackendCore,
    JobFailure,
    name_of,
    public_fields,
    summary_fields,
    utc_now,
)
from local_stack.personalize.errors import (
    InvalidInputException,
    LimitExceededException,
    PersonalizeError,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from local_stack.personalize.filtering import CompiledFilter, Interaction, compile_filter
from local_stack.personalize.promotions import promoted_list, resolve_promotion
from local_stack.personalize.s3io import S3AccessError, list_keys, read_object, write_object
from local_stack.personalize.store import DatasetGroupStore
from local_stack.personalize.trending import current_trends
from personalize_rules.ranking_influence import RankingInfluenceError, parse_ranking_influence

__all__ = ["ServingOps"]


def _scored_items(
    store: DatasetGroupStore, pairs: Sequence[tuple[str, float]], columns: Sequence[str]
) -> list[dict[str, Any]]:
    """Runtime items as the API writes them: id, score, and the requested metadata columns."""
    items = []
    for item, score in pairs:
        entry: dict[str, Any] = {"itemId": item, "score": round(float(score), 7)}
        if columns:
            entry["metadata"] = runtime.metadata_for(store, item, columns)
        items.append(entry)
    return items


def _check_ranking_influence(version: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """campaignConfig.rankingInfluence as Personalize accepts it for the version's recipe."""
    from local_stack.personalize.recipes import recipe_name_from_arn

    try:
        parse_ranking_influence(recipe_name_from_arn(version["recipeArn"]), config.get("rankingInfluence"))
    except RankingInfluenceError as exc:
        raise InvalidInputException(str(exc)) from exc


class ServingOps(BackendCore):
    """Campaigns, filters, event trackers, batch inference, tags, runtime and events."""

    # ================================================================== campaigns
    def op_CreateCampaign(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            version = self._require_active("solution-version", p["solutionVersionArn"])
            arn = self.arn("campaign", p["name"])
            config = dict(p.get("campaignConfig") or {})
            _check_ranking_influence(version, config)
            config.setdefault("enableMetadataWithRecommendations", False)
            record: dict[str, Any] = {
                "name": p["name"],
                "campaignArn": arn,
                "solutionVersionArn": version["solutionVersionArn"],
                "minProvisionedTPS": int(p.get("minProvisionedTPS", 1)),
                "campaignConfig": config,
            }
            self._new("campaign", arn, record, p.get("tags"))
            self._run_async(record)
        return {"campaignArn": arn}

    def op_UpdateCampaign(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self._require_active("campaign", p["campaignArn"])
            update = record.get("latestCampaignUpdate")
            if update is not None and update.get("status") in (PENDING, IN_PROGRESS):
                raise ResourceInUseException(f"Campaign {p['campaignArn']} has an update in progress.")
            version_arn = p.get("solutionVersionArn") or record["solutionVersionArn"]
            self._require_active("solution-version", version_arn)
            config = dict(record["campaignConfig"])
            config.update(p.get("campaignConfig") or {})
            _check_ranking_influence(self.resources["solution-version"][version_arn], config)
            tps = int(p.get("minProvisionedTPS", record["minProvisionedTPS"]))
            now = utc_now()
            update = {
                "solutionVersionArn": version_arn,
                "minProvisionedTPS": tps,
                "campaignConfig": config,
                "creationDateTime": now,
                "lastUpdatedDateTime": now,
            }
            record["latestCampaignUpdate"] = update

            def apply() -> None:
                # The campaign keeps serving the old version until the update is ACTIVE.
                record.update(solutionVersionArn=version_arn, minProvisionedTPS=tps, campaignConfig=config)

            self._run_async(update, on_active=apply)
        return {"campaignArn": p["campaignArn"]}

    def op_DescribeCampaign(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"campaign": public_fields(self._get("campaign", p["campaignArn"]))}

    def op_ListCampaigns(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = ("name", "campaignArn", "status", "creationDateTime", "lastUpdatedDateTime", "failureReason")
        records = list(self.resources["campaign"].values())
        if p.get("solutionArn"):
            records = [r for r in records if r["solutionVersionArn"].startswith(p["solutionArn"] + "/")]
        records.sort(key=lambda r: r["creationDateTime"], reverse=True)
        return self._page([summary_fields(r, fields) for r in records], p, "campaigns")

    def op_DeleteCampaign(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._get("campaign", p["campaignArn"])
            del self.resources["campaign"][p["campaignArn"]]
            self.tags.pop(p["campaignArn"], None)
        return {}

    # ================================================================== filters
    def _dataset_schemas(self, group_arn: str) -> dict[str, dict[str, Any]]:
        return dict(self.store_for(group_arn).schemas)

    def op_CreateFilter(self, p: dict[str, Any]) -> dict[str, Any]:
        from personalize_rules.filter_expression import FilterExpressionError

        with self._lock:
            group = self._require_active("dataset-group", p["datasetGroupArn"])
            if (
                len(self._children("filter", "datasetGroupArn", p["datasetGroupArn"]))
                >= MAX_FILTERS_PER_DATASET_GROUP
            ):
                raise LimitExceededException(
                    f"Dataset group {p['datasetGroupArn']} already has "
                    f"{MAX_FILTERS_PER_DATASET_GROUP} filters."
                )
            expression = p["filterExpression"]
            try:
                compiled = compile_filter(expression, self._dataset_schemas(group["datasetGroupArn"]))
            except FilterExpressionError as exc:
                raise InvalidInputException(
                    f"Invalid filter expression at position {exc.position}: {exc}"
                ) from exc
            arn = self.arn("filter", p["name"])
            record = {
                "name": p["name"],
                "filterArn": arn,
                "datasetGroupArn": p["datasetGroupArn"],
                "filterExpression": expression,
            }
            self._new("filter", arn, record, p.get("tags"))
            self._compiled[arn] = compiled
            self._run_async(record)
        return {"filterArn": arn}

    def op_DescribeFilter(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"filter": public_fields(self._get("filter", p["filterArn"]))}

    def op_ListFilters(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = (
            "name",
            "filterArn",
            "creationDateTime",
            "lastUpdatedDateTime",
            "datasetGroupArn",
            "failureReason",
            "status",
        )
        return self._list("filter", p, "Filters", fields, ("datasetGroupArn", "datasetGroupArn"))

    def op_DeleteFilter(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._get("filter", p["filterArn"])
            del self.resources["filter"][p["filterArn"]]
            self._compiled.pop(p["filterArn"], None)
            self.tags.pop(p["filterArn"], None)
        return {}

    def compiled_filter(self, filter_arn: str, group_arn: str) -> CompiledFilter:
        record = self._get("filter", filter_arn)
        if record["datasetGroupArn"] != group_arn:
            raise InvalidInputException(f"Filter {filter_arn} belongs to another dataset group.")
        if record["status"] != ACTIVE:
            raise InvalidInputException(f"Filter {filter_arn} is not ACTIVE (status: {record['status']}).")
        compiled = self._compiled.get(filter_arn)
        if compiled is None:
            compiled = compile_filter(record["filterExpression"], self._dataset_schemas(group_arn))
            self._compiled[filter_arn] = compiled
        return compiled

    # ================================================================== event trackers
    def op_CreateEventTracker(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._require_active("dataset-group", p["datasetGroupArn"])
            if self._children("event-tracker", "datasetGroupArn", p["datasetGroupArn"]):
                raise ResourceAlreadyExistsException(
                    f"Dataset group {p['datasetGroupArn']} already has an event tracker; only one is allowed."
                )
            tracking_id = str(uuid.uuid4())
            arn = self.arn("event-tracker", uuid.uuid4().hex[:24])
            record = {
                "name": p["name"],
                "eventTrackerArn": arn,
                "accountId": self.account_id,
                "trackingId": tracking_id,
                "datasetGroupArn": p["datasetGroupArn"],
            }
            self._new("event-tracker", arn, record, p.get("tags"))
            self.tracking_ids[tracking_id] = arn
            self._run_async(record)
        return {"eventTrackerArn": arn, "trackingId": tracking_id}

    def op_DescribeEventTracker(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"eventTracker": public_fields(self._get("event-tracker", p["eventTrackerArn"]))}

    def op_ListEventTrackers(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = ("name", "eventTrackerArn", "status", "creationDateTime", "lastUpdatedDateTime")
        return self._list("event-tracker", p, "eventTrackers", fields, ("datasetGroupArn", "datasetGroupArn"))

    def op_DeleteEventTracker(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self._get("event-tracker", p["eventTrackerArn"])
            del self.resources["event-tracker"][p["eventTrackerArn"]]
            self.tracking_ids.pop(record["trackingId"], None)
        return {}

    # ================================================================== batch inference
    def op_CreateBatchInferenceJob(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            version = self._require_active("solution-version", p["solutionVersionArn"])
            if name_of(version["recipeArn"]) in runtime.NO_BATCH_RECIPES:
                # "You can't get batch recommendations with the Trending-Now recipe" (its recipe page).
                raise InvalidInputException(
                    f"Batch inference is not supported for {name_of(version['recipeArn'])} solution versions."
                )
            if p.get("filterArn"):
                self.compiled_filter(p["filterArn"], version["datasetGroupArn"])
            arn = self.arn("batch-inference-job", p["jobName"])
            record: dict[str, Any] = {
                "jobName": p["jobName"],
                "batchInferenceJobArn": arn,
                "solutionVersionArn": p["solutionVersionArn"],
                "numResults": int(p.get("numResults", 25)),
                "jobInput": p["jobInput"],
                "jobOutput": p["jobOutput"],
                "roleArn": p["roleArn"],
                "batchInferenceJobMode": p.get("batchInferenceJobMode", "BATCH_INFERENCE"),
            }
            for key in ("filterArn", "batchInferenceJobConfig"):
                if p.get(key):
                    record[key] = p[key]
            self._new("batch-inference-job", arn, record, p.get("tags"))
            self._run_async(record, lambda: self._batch(record, version))
        return {"batchInferenceJobArn": arn}

    def _batch(self, record: dict[str, Any], version: dict[str, Any]) -> None:
        from local_stack.personalize.recipes import recipe_name_from_arn

        in_path = record["jobInput"]["s3DataSource"]["path"]
        out_path = record["jobOutput"]["s3DataDestination"]["path"]
        try:
            if in_path.endswith("/"):
                bucket = in_path[len("s3://") :].split("/", 1)[0]
                inputs = [f"s3://{bucket}/{k}" for k in list_keys(self.account_id, in_path)]
            else:
                inputs = [in_path]
            if not inputs:
                raise JobFailure(f"No input files found at {in_path}.")
            blobs = [(uri, read_object(self.account_id, uri)) for uri in inputs]
        except S3AccessError as exc:
            raise JobFailure(f"Failed to read batch input from {exc.uri}: {exc.why}.") from exc
        model = self.models[record["solutionVersionArn"]]
        store = self.store_for(version["datasetGroupArn"])
        recipe = recipe_name_from_arn(version["recipeArn"])
        compiled = (
            self.compiled_filter(record["filterArn"], version["datasetGroupArn"])
            if record.get("filterArn")
            else None
        )
        n = record["numResults"]
        for uri, blob in blobs:
            lines: list[str] = []
            for raw in blob.decode("utf-8", errors="replace").splitlines():
                if not raw.strip():
                    continue
                lines.append(json.dumps(self._batch_line(raw, model, store, recipe, compiled, n)))
            target = out_path if out_path.endswith("/") else out_path + "/"
            try:
                write_object(
                    self.account_id,
                    target + uri.rsplit("/", 1)[-1] + ".out",
                    ("\n".join(lines) + "\n").encode(),
                )
            except S3AccessError as exc:
                raise JobFailure(f"Failed to write batch output to {exc.uri}: {exc.why}.") from exc

    @staticmethod
    def _batch_line(
        raw: str, model: Any, store: DatasetGroupStore, recipe: str, compiled: CompiledFilter | None, n: int
    ) -> dict[str, Any]:
        try:
            entry = json.loads(raw)
        except ValueError:
            return {"input": raw, "output": None, "error": "Input line is not valid JSON."}
        if not isinstance(entry, dict):
            return {"input": entry, "output": None, "error": "Input line must be a JSON object."}
        try:
            if recipe in runtime.RANKING_RECIPES:
                if "userId" not in entry or not isinstance(entry.get("itemList"), list):
                    raise InvalidInputException("Ranking input needs userId and itemList.")
                pairs = runtime.rank_items(
                    model,
                    store,
                    user_id=str(entry["userId"]),
                    items=[str(i) for i in entry["itemList"]],
                    compiled=compiled,
                    filter_values={},
                )
            elif recipe in runtime.RELATED_ITEMS_RECIPES:
                if "itemId" not in entry:
                    raise InvalidInputException("Input for a related-items recipe needs itemId.")
                pairs = runtime.recommend(
                    model,
                    store,
                    user_id=None,
                    item_id=str(entry["itemId"]),
                    num_results=n,
                    compiled=compiled,
                    filter_values={},
                )
            else:
                if "userId" not in entry:
                    raise InvalidInputException("Input for a user-personalization recipe needs userId.")
                pairs = runtime.recommend(
                    model,
                    store,
                    user_id=str(entry["userId"]),
                    item_id=None,
                    num_results=n,
                    compiled=compiled,
                    filter_values={},
                )
        except PersonalizeError as exc:
            return {"input": entry, "output": None, "error": exc.message}
        return {
            "input": entry,
            "output": {"recommendedItems": [i for i, _ in pairs], "scores": [round(s, 6) for _, s in pairs]},
            "error": None,
        }

    def op_DescribeBatchInferenceJob(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchInferenceJob": public_fields(self._get("batch-inference-job", p["batchInferenceJobArn"]))
        }

    def op_ListBatchInferenceJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = (
            "batchInferenceJobArn",
            "jobName",
            "status",
            "creationDateTime",
            "lastUpdatedDateTime",
            "failureReason",
            "solutionVersionArn",
            "batchInferenceJobMode",
        )
        return self._list(
            "batch-inference-job",
            p,
            "batchInferenceJobs",
            fields,
            ("solutionVersionArn", "solutionVersionArn"),
        )

    # ================================================================== tags
    def _any(self, arn: str) -> dict[str, Any]:
        for records in self.resources.values():
            if arn in records:
                return records[arn]
        raise ResourceNotFoundException(f"Could not find the resource with ARN {arn}.")

    def op_TagResource(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._any(p["resourceArn"])
            tags = {t["tagKey"]: t["tagValue"] for t in self.tags.get(p["resourceArn"], [])}
            tags.update({t["tagKey"]: t["tagValue"] for t in p["tags"]})
            self.tags[p["resourceArn"]] = [{"tagKey": k, "tagValue": v} for k, v in tags.items()]
        return {}

    def op_UntagResource(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._any(p["resourceArn"])
            drop = set(p["tagKeys"])
            self.tags[p["resourceArn"]] = [
                t for t in self.tags.get(p["resourceArn"], []) if t["tagKey"] not in drop
            ]
        return {}

    def op_ListTagsForResource(self, p: dict[str, Any]) -> dict[str, Any]:
        self._any(p["resourceArn"])
        return {"tags": list(self.tags.get(p["resourceArn"], []))}

    # ================================================================== runtime
    def _campaign_model(self, campaign_arn: str) -> tuple[dict[str, Any], dict[str, Any], Any, str]:
        from local_stack.personalize.recipes import recipe_name_from_arn

        campaign = self.resources["campaign"].get(campaign_arn)
        if campaign is None:
            raise ResourceNotFoundException(f"Campaign {campaign_arn} does not exist.")
        if campaign.get("status") != ACTIVE:
            raise ResourceNotFoundException(
                f"Campaign {campaign_arn} is not ACTIVE (status: {campaign['status']})."
            )
        version = self.resources["solution-version"].get(campaign["solutionVersionArn"])
        model = self.models.get(campaign["solutionVersionArn"])
        if version is None or model is None:
            raise ResourceNotFoundException(
                f"The solution version of campaign {campaign_arn} no longer exists."
            )
        return campaign, version, model, recipe_name_from_arn(version["recipeArn"])

    def _metadata_columns(
        self, campaign: dict[str, Any], p: Mapping[str, Any], size: tuple[str, int]
    ) -> list[str]:
        """The requested Items columns, checked as Personalize checks them (personalize_rules.metadata_rules);
        `size` is the list-size member and its value (numResults, or inputList's length)."""
        from personalize_rules.metadata_rules import (
            MAX_RESULTS_WITH_METADATA,
            MetadataColumnsError,
            check_metadata_columns,
        )

        columns = p.get("metadataColumns") or {}
        if not columns:
            return []
        if not campaign["campaignConfig"].get("enableMetadataWithRecommendations"):
            raise InvalidInputException(
                f"Campaign {campaign['campaignArn']} does not have metadata in recommendations enabled "
                "(campaignConfig.enableMetadataWithRecommendations)."
            )
        version = self.resources["solution-version"][campaign["solutionVersionArn"]]
        schema = self.store_for(version["datasetGroupArn"]).schemas.get(DATASET_TYPE_KEYS["Items"])
        try:
            wanted = check_metadata_columns(columns, [f["name"] for f in (schema or {}).get("fields", [])])
        except MetadataColumnsError as exc:
            raise InvalidInputException(f"Invalid metadataColumns: {exc}") from exc
        member, count = size
        if wanted and count > MAX_RESULTS_WITH_METADATA:
            raise InvalidInputException(
                f"{member} must be at most {MAX_RESULTS_WITH_METADATA} when metadataColumns are "
                f"requested, got {count}."
            )
        return wanted

    def op_GetRecommendations(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("campaignArn"):
            if p.get("recommenderArn"):
                raise InvalidInputException("Recommenders are not supported by the local emulator.")
            raise InvalidInputException("campaignArn is required.")
        campaign, version, model, recipe = self._campaign_model(p["campaignArn"])
        n = int(p.get("numResults", 25))
        if n < 1 or n > 500:
            raise InvalidInputException(f"numResults must be between 1 and 500, got {n}.")
        if recipe in runtime.RANKING_RECIPES:
            raise InvalidInputException(
                f"GetRecommendations is not supported for {recipe} campaigns; use GetPersonalizedRanking."
            )
        related = recipe in runtime.RELATED_ITEMS_RECIPES
        if related and not p.get("itemId"):
            raise InvalidInputException(f"itemId is required for {recipe} campaigns.")
        # Trending-Now answers the same trending items to everyone: "Only pass a userId in your request if
        # you apply a filter that requires it" (Trending-Now recipe, Personalize developer guide).
        if not related and not p.get("userId") and recipe not in runtime.USER_OPTIONAL_RECIPES:
            raise InvalidInputException(f"userId is required for {recipe} campaigns.")
        columns = self._metadata_columns(campaign, p, ("numResults", n))
        group_arn = version["datasetGroupArn"]
        store = self.store_for(group_arn)
        fresh = current_trends(model, store, version)
        if fresh is not model:
            with self._lock:
                self.models[version["solutionVersionArn"]] = model = fresh
        compiled = self.compiled_filter(p["filterArn"], group_arn) if p.get("filterArn") else None
        influence = parse_ranking_influence(recipe, campaign["campaignConfig"].get("rankingInfluence"))
        promotion = resolve_promotion(
            p.get("promotions"), recipe, lambda arn: self.compiled_filter(arn, group_arn)
        )
        ranked = promoted_list(
            model,
            store,
            user_id=p.get("userId"),
            item_id=p.get("itemId") if related else None,
            num_results=n,
            compiled=compiled,
            filter_values=p.get("filterValues") or {},
            promotion=promotion,
            ranking_influence=influence,
        )
        items = _scored_items(store, [(item, score) for item, score, _ in ranked], columns)
        for entry, (_, _, name) in zip(items, ranked, strict=True):
            if name is not None:
                entry["promotionName"] = name
        return {"itemList": items, "recommendationId": f"RID-{uuid.uuid4()}"}

    def op_GetPersonalizedRanking(self, p: dict[str, Any]) -> dict[str, Any]:
        campaign, version, model, recipe = self._campaign_model(p["campaignArn"])
        if recipe not in runtime.RANKING_RECIPES:
            raise InvalidInputException(
                f"GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe; "
                f"{p['campaignArn']} uses {recipe}."
            )
        columns = self._metadata_columns(campaign, p, ("inputList", len(p["inputList"])))
        store = self.store_for(version["datasetGroupArn"])
        compiled = (
            self.compiled_filter(p["filterArn"], version["datasetGroupArn"]) if p.get("filterArn") else None
        )
        pairs = runtime.rank_items(
            model,
            store,
            user_id=p["userId"],
            items=p["inputList"],
            compiled=compiled,
            filter_values=p.get("filterValues") or {},
        )
        return {
            "personalizedRanking": _scored_items(store, pairs, columns),
            "recommendationId": f"RID-{uuid.uuid4()}",
        }

    # ================================================================== events
    def op_PutEvents(self, p: dict[str, Any]) -> dict[str, Any]:
        tracker_arn = self.tracking_ids.get(p["trackingId"])
        if tracker_arn is None:
            raise InvalidInputException(
                f"Tracking ID {p['trackingId']} does not belong to any event tracker."
            )
        tracker = self.resources["event-tracker"][tracker_arn]
        if tracker.get("status") != ACTIVE:
            raise InvalidInputException(f"Event tracker {tracker_arn} is not ACTIVE.")
        user_id = p.get("userId") or p["sessionId"]
        events: list[Interaction] = []
        rows: list[dict[str, Any]] = []
        for event in p["eventList"]:
            sent: dt.datetime = event["sentAt"]
            value = event.get("eventValue")
            item = event.get("itemId")
            if not item:
                continue
            events.append(Interaction(item, event["eventType"], sent.timestamp(), value))
            row = {
                "USER_ID": user_id,
                "ITEM_ID": item,
                "TIMESTAMP": int(sent.timestamp()),
                "EVENT_TYPE": event["eventType"],
            }
            if value is not None:
                row["EVENT_VALUE"] = float(value)
            rows.append(row)
        self.store_for(tracker["datasetGroupArn"]).put_events(user_id, events, rows)
        return {}

    def _put_rows(self, p: dict[str, Any], dtype: str, list_key: str, id_key: str) -> dict[str, Any]:
        dataset = self.resources["dataset"].get(p["datasetArn"])
        if dataset is None:
            raise ResourceNotFoundException(f"Dataset {p['datasetArn']} does not exist.")
        if dataset["datasetType"] != dtype:
            raise InvalidInputException(f"Dataset {p['datasetArn']} is not a {dtype} dataset.")
        store = self.store_for(dataset["datasetGroupArn"])
        key = DATASET_TYPE_KEYS[dtype]
        fields = {
            re.sub(r"[^a-z0-9]", "", f["name"].lower()): f["name"] for f in store.schemas[key]["fields"]
        }
        id_field = "ITEM_ID" if dtype == "Items" else "USER_ID"
        rows = []
        for entry in p[list_key]:
            row: dict[str, Any] = {id_field: entry[id_key]}
            if entry.get("properties"):
                try:
                    props = json.loads(entry["properties"])
                except ValueError as exc:
                    raise InvalidInputException(f"properties of {entry[id_key]} is not valid JSON.") from exc
                for name, value in props.items():
                    field = fields.get(re.sub(r"[^a-z0-9]", "", name.lower()))
                    if field is None:
                        raise InvalidInputException(f"Property {name} is not a field of the {dtype} schema.")
                    row[field] = value
            rows.append(row)
        store.put_rows(key, rows)
        return {}

    def op_PutItems(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._put_rows(p, "Items", "items", "itemId")

    def op_PutUsers(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._put_rows(p, "Users", "users", "userId")
