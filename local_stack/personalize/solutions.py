"""Recipes, solutions, solution versions (training) and their metrics."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from typing import Any

from local_stack.personalize import runtime
from local_stack.personalize.core import (
    ACTIVE,
    IN_PROGRESS,
    MIN_INTERACTIONS_ENV,
    PENDING,
    STOPPING,
    BackendCore,
    JobFailure,
    name_of,
    public_fields,
    summary_fields,
    utc_now,
)
from local_stack.personalize.errors import (
    InvalidInputException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from local_stack.personalize.store import StoreError
from personalize_rules.auto_training import AutoTrainingError, check_scheduling_expression
from personalize_rules.events_config import EventsConfigError, parse_events_config
from personalize_rules.metric_names import SELECTED_CANDIDATE_KEY, SELECTED_SCORE_KEY
from personalize_rules.recipe_specs import MAX_CATALOG_ITEMS

__all__ = ["SolutionOps"]

# A solution version as DescribeSolution's latestSolutionVersion and ListSolutionVersions summarise it.
_VERSION_SUMMARY_FIELDS = (
    "solutionVersionArn",
    "status",
    "trainingMode",
    "trainingType",
    "creationDateTime",
    "lastUpdatedDateTime",
    "failureReason",
)


def _check_solution_config(recipe: str, config: dict[str, Any]) -> None:
    """What CreateSolution's solutionConfig and UpdateSolution's solutionUpdateConfig may hold for this
    recipe: an eventsConfig only on the v2 recipes, within its limits; a rate(1..30 days) schedule."""
    try:
        parse_events_config(recipe, config.get("eventsConfig"))
        schedule = (config.get("autoTrainingConfig") or {}).get("schedulingExpression")
        if schedule is not None:
            check_scheduling_expression(schedule)
    except (EventsConfigError, AutoTrainingError) as exc:
        raise InvalidInputException(str(exc)) from exc


class SolutionOps(BackendCore):
    """Recipes, solutions, solution versions (training) and their metrics."""

    # ================================================================== recipes
    def op_ListRecipes(self, p: dict[str, Any]) -> dict[str, Any]:
        from local_stack.personalize.recipes import RECIPE_NAMES

        epoch = dt.datetime(2019, 6, 10, tzinfo=dt.UTC)
        items = [
            {
                "name": name,
                "recipeArn": f"arn:aws:personalize:::recipe/{name}",
                "status": ACTIVE,
                "creationDateTime": epoch,
                "lastUpdatedDateTime": epoch,
            }
            for name in RECIPE_NAMES
        ]
        return self._page(items, p, "recipes")

    def op_DescribeRecipe(self, p: dict[str, Any]) -> dict[str, Any]:
        from local_stack.personalize.recipes import RECIPE_NAMES

        name = name_of(p["recipeArn"])
        if name not in RECIPE_NAMES:
            raise ResourceNotFoundException(f"Could not find the recipe with ARN {p['recipeArn']}.")
        epoch = dt.datetime(2019, 6, 10, tzinfo=dt.UTC)
        if name in runtime.RELATED_ITEMS_RECIPES:
            kind = "RELATED_ITEMS"
        elif name in runtime.RANKING_RECIPES:
            kind = "PERSONALIZED_RANKING"
        else:
            kind = "USER_PERSONALIZATION"
        return {
            "recipe": {
                "name": name,
                "recipeArn": p["recipeArn"],
                "algorithmArn": f"arn:aws:personalize:::algorithm/{name}",
                "status": ACTIVE,
                "description": f"{name} (local emulator)",
                "recipeType": kind,
                "creationDateTime": epoch,
                "lastUpdatedDateTime": epoch,
            }
        }

    # ================================================================== solutions
    def op_CreateSolution(self, p: dict[str, Any]) -> dict[str, Any]:
        from local_stack.personalize.recipes import RecipeError, recipe_name_from_arn

        with self._lock:
            group = self._require_active("dataset-group", p["datasetGroupArn"])
            if p.get("performAutoML"):
                raise InvalidInputException("performAutoML is not supported; choose a recipe with recipeArn.")
            recipe_arn = p.get("recipeArn")
            if not recipe_arn:
                raise InvalidInputException("recipeArn is required when performAutoML is false.")
            try:
                recipe = recipe_name_from_arn(recipe_arn)
            except RecipeError as exc:
                raise InvalidInputException(str(exc)) from exc
            _check_solution_config(recipe, p.get("solutionConfig") or {})
            arn = self.arn("solution", p["name"])
            record: dict[str, Any] = {
                "name": p["name"],
                "solutionArn": arn,
                "performHPO": bool(p.get("performHPO", False)),
                "performAutoML": False,
                # AWS's default for performAutoTraining is true (a new version every 7 days).
                "performAutoTraining": bool(p.get("performAutoTraining", True)),
                "recipeArn": recipe_arn,
                "datasetGroupArn": group["datasetGroupArn"],
                "solutionConfig": dict(p.get("solutionConfig") or {}),
            }
            if p.get("performIncrementalUpdate") is not None:
                record["performIncrementalUpdate"] = bool(p["performIncrementalUpdate"])
            if record["performAutoTraining"]:
                config = record["solutionConfig"]
                config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
            if p.get("eventType"):
                record["eventType"] = p["eventType"]
            self._new("solution", arn, record, p.get("tags"))
            self._run_async(record)
        return {"solutionArn": arn}

    def op_UpdateSolution(self, p: dict[str, Any]) -> dict[str, Any]:
        # UpdateSolution (Personalize API reference): changes auto-training, incremental updates and the
        # events configuration of an ACTIVE solution. The change is asynchronous: DescribeSolution's
        # latestSolutionUpdate goes CREATE PENDING > CREATE IN_PROGRESS > ACTIVE (or CREATE FAILED), and
        # the solution's own fields change once it is ACTIVE. One update at a time.
        from local_stack.personalize.recipes import recipe_name_from_arn

        with self._lock:
            record = self._require_active("solution", p["solutionArn"])
            running = record.get("latestSolutionUpdate") or {}
            if running.get("status") in (PENDING, IN_PROGRESS):
                raise ResourceInUseException(f"Solution {p['solutionArn']} has an update in progress.")
            _check_solution_config(
                recipe_name_from_arn(record["recipeArn"]), p.get("solutionUpdateConfig") or {}
            )
            update: dict[str, Any] = {"creationDateTime": utc_now(), "lastUpdatedDateTime": utc_now()}
            if "performAutoTraining" in p:
                update["performAutoTraining"] = p["performAutoTraining"]
            if "performIncrementalUpdate" in p:
                update["performIncrementalUpdate"] = p["performIncrementalUpdate"]
            config = p.get("solutionUpdateConfig") or {}
            if config:
                update["solutionUpdateConfig"] = config
            record["latestSolutionUpdate"] = update

            def apply() -> None:
                if "performAutoTraining" in p:
                    record["performAutoTraining"] = p["performAutoTraining"]
                if "performIncrementalUpdate" in p:
                    record["performIncrementalUpdate"] = p["performIncrementalUpdate"]
                # A new dict: versions trained before keep the config they were trained with.
                changed = {k: config[k] for k in ("autoTrainingConfig", "eventsConfig") if k in config}
                record["solutionConfig"] = {**record["solutionConfig"], **changed}

            self._run_async(update, on_active=apply)
        return {"solutionArn": p["solutionArn"]}

    def op_DescribeSolution(self, p: dict[str, Any]) -> dict[str, Any]:
        record = public_fields(self._get("solution", p["solutionArn"]))
        versions = [
            v for v in self.resources["solution-version"].values() if v["solutionArn"] == p["solutionArn"]
        ]
        if versions:
            latest = max(versions, key=lambda v: v["creationDateTime"])
            record["latestSolutionVersion"] = summary_fields(latest, _VERSION_SUMMARY_FIELDS)
        return {"solution": record}

    def op_ListSolutions(self, p: dict[str, Any]) -> dict[str, Any]:
        fields = ("name", "solutionArn", "status", "creationDateTime", "lastUpdatedDateTime", "recipeArn")
        return self._list("solution", p, "solutions", fields, ("datasetGroupArn", "datasetGroupArn"))

    def op_DeleteSolution(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["solutionArn"]
        with self._lock:
            self._get("solution", arn)
            versions = set(self._children("solution-version", "solutionArn", arn))
            campaigns = [
                a for a, c in self.resources["campaign"].items() if c["solutionVersionArn"] in versions
            ]
            if campaigns:
                raise ResourceInUseException(
                    f"Solution {arn} is used by campaign(s): {', '.join(campaigns)}. Delete them first."
                )
            training = [
                v
                for v in versions
                if self.resources["solution-version"][v]["status"] in (PENDING, IN_PROGRESS)
            ]
            if training:
                raise ResourceInUseException(
                    f"Solution {arn} has a solution version in training: {training[0]}."
                )
            for v in versions:
                del self.resources["solution-version"][v]
                self.models.pop(v, None)
            del self.resources["solution"][arn]
            self.tags.pop(arn, None)
        return {}

    # ================================================================== solution versions
    def op_CreateSolutionVersion(self, p: dict[str, Any]) -> dict[str, Any]:
        from local_stack.personalize.recipes import recipe_name_from_arn

        with self._lock:
            solution = self._require_active("solution", p["solutionArn"])
            mode = p.get("trainingMode", "FULL")
            recipe = recipe_name_from_arn(solution["recipeArn"])
            versions = [
                self.resources["solution-version"][a]
                for a in self._children("solution-version", "solutionArn", p["solutionArn"])
            ]
            if any(v["status"] in (PENDING, IN_PROGRESS) for v in versions):
                raise ResourceInUseException(
                    f"Solution {p['solutionArn']} already has a solution version in training."
                )
            base: dict[str, Any] | None = None
            if mode in ("UPDATE", "AUTOTRAIN") and mode == "UPDATE":
                if recipe not in ("aws-user-personalization", "aws-hrnn-coldstart"):
                    raise InvalidInputException(
                        f"trainingMode UPDATE is only supported for aws-user-personalization, not {recipe}."
                    )
                full = [v for v in versions if v["status"] == ACTIVE and v["trainingMode"] == "FULL"]
                if not full:
                    raise InvalidInputException(
                        "trainingMode UPDATE needs an ACTIVE solution version trained with trainingMode FULL."
                    )
                base = max(full, key=lambda v: v["creationDateTime"])
            version_id = uuid.uuid4().hex[:8]
            arn = f"{p['solutionArn']}/{version_id}"
            record: dict[str, Any] = {
                "solutionVersionArn": arn,
                "solutionArn": p["solutionArn"],
                "performHPO": solution["performHPO"],
                "performAutoML": False,
                "recipeArn": solution["recipeArn"],
                "datasetGroupArn": solution["datasetGroupArn"],
                "solutionConfig": dict(solution["solutionConfig"]),
                "trainingMode": mode,
                "trainingType": "MANUAL",
            }
            if p.get("name"):
                record["name"] = p["name"]
            if solution.get("eventType"):
                record["eventType"] = solution["eventType"]
            self._new("solution-version", arn, record, p.get("tags"))
            tuned = dict(base.get("_tuned", {})) if base else None
            self._run_async(
                record,
                lambda: self._train(record, recipe, tuned),
                on_active=lambda: self._sync_campaigns(record),
            )
        return {"solutionVersionArn": arn}

    def _train(self, record: dict[str, Any], recipe: str, tuned: dict[str, str] | None) -> None:
        from local_stack.personalize.recipes import RecipeError, TrendingModel, train

        started = time.monotonic()
        store = self.store_for(record["datasetGroupArn"])
        data_key = store.interactions_key()  # before reading: later events make trending refresh
        try:
            data = store.training_data()
        except StoreError as exc:
            raise JobFailure(
                f"There are no interactions in dataset group {record['datasetGroupArn']}."
            ) from exc
        minimum = int(os.environ.get(MIN_INTERACTIONS_ENV, "1000"))
        if data.interactions.num_rows < minimum:
            raise JobFailure(
                f"Insufficient data: there are {data.interactions.num_rows} interactions; "
                f"at least {minimum} are required to train a solution version."
            )
        config = record["solutionConfig"]
        hyperparameters = dict(config.get("algorithmHyperParameters") or {})
        perform_hpo = bool(record["performHPO"])
        if tuned is not None:
            # UPDATE keeps the hyperparameters the FULL version chose and does not search again.
            hyperparameters.update(tuned)
            perform_hpo = False
        limit = MAX_CATALOG_ITEMS.get(recipe)
        if limit is not None and data.items is not None and data.items.num_rows > limit:
            raise JobFailure(
                f"{recipe} trains on at most {limit} items; the Items dataset has {data.items.num_rows}."
            )
        try:
            model = train(
                recipe,
                data,
                hyperparameters=hyperparameters,
                event_type=record.get("eventType"),
                event_value_threshold=config.get("eventValueThreshold"),
                events=parse_events_config(recipe, config.get("eventsConfig")),
                perform_hpo=perform_hpo,
                hpo_config=config.get("hpoConfig"),
            )
        except RecipeError as exc:
            raise JobFailure(str(exc)) from exc
        if isinstance(model, TrendingModel):
            model.data_key = data_key
        with self._lock:
            self.models[record["solutionVersionArn"]] = model
            record["_tuned"] = dict(model.tuned_hyperparameters)
            # tunedHPOParams holds "the hyperparameter values of the best performing model" (SolutionVersion
            # in the Personalize API reference). The emulator's model selection is its HPO: the candidate
            # chosen and its validation NDCG@10 travel there, beside any tuned hyperparameters.
            chosen = dict(model.tuned_hyperparameters)
            if model.candidate:
                chosen[SELECTED_CANDIDATE_KEY] = model.candidate
            if model.candidate in model.validation_scores:
                chosen[SELECTED_SCORE_KEY] = f"{model.validation_scores[model.candidate]:.4f}"
            if chosen:
                record["tunedHPOParams"] = {"algorithmHyperParameters": chosen}
            record["trainingHours"] = round((time.monotonic() - started) / 3600.0, 6)

    def _sync_campaigns(self, version: dict[str, Any]) -> None:
        """Campaigns with syncWithLatestSolutionVersion move to the solution's newest ACTIVE version."""
        prefix = version["solutionArn"] + "/"
        for campaign in self.resources["campaign"].values():
            config = campaign.get("campaignConfig") or {}
            if config.get("syncWithLatestSolutionVersion") and campaign["solutionVersionArn"].startswith(
                prefix
            ):
                campaign["solutionVersionArn"] = version["solutionVersionArn"]
                campaign["lastUpdatedDateTime"] = utc_now()

    def op_DescribeSolutionVersion(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"solutionVersion": public_fields(self._get("solution-version", p["solutionVersionArn"]))}

    def op_ListSolutionVersions(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("solutionArn"):
            self._get("solution", p["solutionArn"])
        return self._list(
            "solution-version", p, "solutionVersions", _VERSION_SUMMARY_FIELDS, ("solutionArn", "solutionArn")
        )

    def op_GetSolutionMetrics(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["solutionVersionArn"]
        self._require_active("solution-version", arn)
        model = self.models.get(arn)
        metrics = {k: float(v) for k, v in (model.metrics if model is not None else {}).items()}
        return {"solutionVersionArn": arn, "metrics": metrics}

    def op_StopSolutionVersionCreation(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self._get("solution-version", p["solutionVersionArn"])
        if record["status"] not in (PENDING, IN_PROGRESS):
            raise ResourceInUseException(f"Solution version {p['solutionVersionArn']} is not being created.")
        # Training itself cannot be interrupted; the version ends CREATE STOPPED instead of ACTIVE.
        self._set(record, status=STOPPING)
        return {}
