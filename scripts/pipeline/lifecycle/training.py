"""`train`: check hyperparameters and HPO, set auto-training, create (or reuse) a solution version, wait.

Idempotency rule: a new solution version is created only when the newest ACTIVE version is older than the
newest ACTIVE dataset import (the data changed since it was trained), when none exists, or when asked
(`--new-version`, or `--mode UPDATE`). A version already training is waited for, never duplicated.
Streamed events (`events`) do not count as a data change: retrain with `--new-version` or `--mode UPDATE`.
Auto-training is updated only when the solution's setting differs from the config.
Train writes no API artifact: the API's catalog, in popularity order, is written by `import` from the same
interactions a version trains on (pipeline.lifecycle.importing.write_catalog).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from personalize_rules.auto_training import DEFAULT_SCHEDULE, AutoTrainingError, check_scheduling_expression
from personalize_rules.events_config import EventsConfigError, parse_events_config
from personalize_rules.metric_names import METRIC_NAMES
from personalize_rules.recipe_specs import RECIPE_HYPERPARAMETERS, RecipeError, resolve_hyperparameters
from pipeline.lifecycle.aws import creation_time, paginate, sort_newest_first
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ConfigCheckError, JobFailedError
from pipeline.lifecycle.waiting import IN_PROGRESS_STATES, wait_for

__all__ = [
    "TRAINING_MODES",
    "TrainResult",
    "apply_auto_training",
    "check_solution_config",
    "events_config_of",
    "run_train",
]

TRAINING_MODES = ("FULL", "UPDATE")


@dataclass
class TrainResult:
    solution: str
    solution_version_arn: str
    created: bool
    auto_training_updated: bool
    metrics: dict[str, float] = field(default_factory=dict)


def _check_ranges(name: str, recipe: str, hpo: Mapping[str, Any]) -> None:
    specs = RECIPE_HYPERPARAMETERS[recipe]
    allowed_kinds = {
        "integer_ranges": ("integer",),
        "continuous_ranges": ("continuous",),
        "categorical_ranges": ("categorical", "boolean"),
    }
    for group, kinds in allowed_kinds.items():
        for i, spec_range in enumerate(hpo.get(group, [])):
            where = f"solutions/{name}/hpo/{group}/{i}"
            spec = specs.get(spec_range["name"])
            if spec is None or not spec.tunable:
                tunable = ", ".join(sorted(n for n, s in specs.items() if s.tunable)) or "none"
                raise ConfigCheckError(
                    where, f"{spec_range['name']!r} is not tunable for {recipe} (tunable: {tunable})"
                )
            if spec.kind not in kinds:
                raise ConfigCheckError(where, f"{spec.name} is {spec.kind}; it cannot go in {group}")
            if "min" in spec_range:
                if spec_range["min"] > spec_range["max"]:
                    raise ConfigCheckError(where, f"min {spec_range['min']} is above max {spec_range['max']}")
                for bound in ("min", "max"):
                    try:
                        spec.parse(str(spec_range[bound]))
                    except RecipeError as exc:
                        raise ConfigCheckError(where, exc.message) from None
            else:
                for value in spec_range["values"]:
                    try:
                        spec.parse(value)
                    except RecipeError as exc:
                        raise ConfigCheckError(where, exc.message) from None


def check_solution_config(solution: Mapping[str, Any]) -> None:
    """Hyperparameters and HPO settings of one configured solution, checked before any AWS call."""
    name, recipe = solution["name"], solution["recipe"]
    try:
        resolve_hyperparameters(recipe, solution.get("hyperparameters") or {})
    except RecipeError as exc:
        raise ConfigCheckError(
            f"solutions/{name}/hyperparameters", exc.message, "fix config/project.yaml"
        ) from None
    try:
        parse_events_config(recipe, events_config_of(solution))
    except EventsConfigError as exc:
        raise ConfigCheckError(
            f"solutions/{name}/events_config", exc.why, "fix config/project.yaml"
        ) from None
    try:
        check_scheduling_expression(solution.get("scheduling_expression", DEFAULT_SCHEDULE))
    except AutoTrainingError as exc:
        raise ConfigCheckError(
            f"solutions/{name}/scheduling_expression", exc.why, "fix config/project.yaml"
        ) from None
    hpo = solution.get("hpo") or {}
    if hpo and not solution.get("perform_hpo", False):
        raise ConfigCheckError(
            f"solutions/{name}/hpo",
            "HPO ranges are set but perform_hpo is false",
            "set perform_hpo: true or drop hpo",
        )
    if hpo:
        _check_ranges(name, recipe, hpo)
        jobs = hpo.get("max_number_of_training_jobs")
        parallel = hpo.get("max_parallel_training_jobs")
        if jobs is not None and parallel is not None and parallel > jobs:
            raise ConfigCheckError(
                f"solutions/{name}/hpo",
                f"max_parallel_training_jobs {parallel} exceeds max_number_of_training_jobs {jobs}",
            )
        metric = hpo.get("objective_metric")
        if metric is not None and metric not in METRIC_NAMES:
            supported = ", ".join(METRIC_NAMES)
            raise ConfigCheckError(
                f"solutions/{name}/hpo/objective_metric", f"{metric!r} is not one of {supported}"
            )


def _check_deployed(ctx: Context, solution: Mapping[str, Any], described: Mapping[str, Any]) -> None:
    """The solution's immutable settings must match the config; otherwise Terraform has to replace it."""
    deployed = described.get("solutionConfig", {}).get("algorithmHyperParameters") or {}
    for key, value in (solution.get("hyperparameters") or {}).items():
        if key in deployed and str(deployed[key]) != str(value):
            raise ConfigCheckError(
                f"solution {solution['name']}",
                f"was created with {key}={deployed[key]} but the config says {value}",
                f"run `make apply ENV={ctx.env}` to recreate the solution with the new hyperparameters",
            )
    if "performHPO" in described and bool(described["performHPO"]) != bool(
        solution.get("perform_hpo", False)
    ):
        raise ConfigCheckError(
            f"solution {solution['name']}",
            f"performHPO is {described['performHPO']}, the config says {solution.get('perform_hpo', False)}",
            f"run `make apply ENV={ctx.env}`",
        )


def events_config_of(solution: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config's `events_config` in the API's EventsConfig shape, or None when unset."""
    entries = solution.get("events_config")
    if not entries:
        return None
    params: list[dict[str, Any]] = []
    for entry in entries:
        param: dict[str, Any] = {"eventType": entry["event_type"], "weight": float(entry["weight"])}
        if entry.get("event_value_threshold") is not None:
            param["eventValueThreshold"] = float(entry["event_value_threshold"])
        params.append(param)
    return {"eventParametersList": params}


def _same_events(live: Mapping[str, Any] | None, desired: Mapping[str, Any] | None) -> bool:
    def key(config: Mapping[str, Any] | None) -> list[tuple[str, float, float | None]]:
        return sorted(
            (
                str(p.get("eventType")),
                float(p.get("weight", 0.0)),
                None if p.get("eventValueThreshold") is None else float(p["eventValueThreshold"]),
            )
            for p in (config or {}).get("eventParametersList") or []
        )

    return key(live) == key(desired)


def _auto_training(ctx: Context, arn: str, solution: Mapping[str, Any]) -> bool:
    """Set performAutoTraining (and the schedule) and the eventsConfig to the config's values with one
    UpdateSolution; True when an update was made. CloudFormation's Solution has neither property, and
    UpdateSolution's solutionUpdateConfig carries both (UpdateSolution, Personalize API reference)."""
    what = f"solution {solution['name']} update"

    def latest_update() -> dict[str, Any]:
        described = ctx.personalize.describe_solution(solutionArn=arn)["solution"]
        return dict(described.get("latestSolutionUpdate") or {"status": "ACTIVE"})

    described: dict[str, Any] = dict(ctx.personalize.describe_solution(solutionArn=arn)["solution"])
    update: dict[str, Any] = dict(described.get("latestSolutionUpdate") or {})
    if update.get("status") in IN_PROGRESS_STATES:
        wait_for(ctx, what, latest_update)
        described = dict(ctx.personalize.describe_solution(solutionArn=arn)["solution"])
        update = dict(described.get("latestSolutionUpdate") or {})
    # The newest ACTIVE update wins over the creation settings; an update may carry only some fields.
    current = bool(described.get("performAutoTraining", True))
    config: dict[str, Any] = dict(described.get("solutionConfig") or {})
    if update.get("status") == "ACTIVE":
        current = bool(update.get("performAutoTraining", current))
        config = {**config, **dict(update.get("solutionUpdateConfig") or {})}
    schedule = config.get("autoTrainingConfig", {}).get("schedulingExpression") or DEFAULT_SCHEDULE
    desired = bool(solution.get("auto_training", False))
    desired_schedule = solution.get("scheduling_expression", DEFAULT_SCHEDULE)
    desired_events = events_config_of(solution)
    same_training = current == desired and (not desired or schedule == desired_schedule)
    same_events = _same_events(config.get("eventsConfig"), desired_events)
    if same_training and same_events:
        ctx.progress.say(f"solution {solution['name']}: auto-training already {'on' if desired else 'off'}")
        return False
    update_config: dict[str, Any] = {}
    if desired:
        update_config["autoTrainingConfig"] = {"schedulingExpression": desired_schedule}
    if not same_events:
        # An empty list clears a configuration removed from the config.
        update_config["eventsConfig"] = desired_events or {"eventParametersList": []}
    request: dict[str, Any] = {"solutionArn": arn, "performAutoTraining": desired}
    if update_config:
        request["solutionUpdateConfig"] = update_config
    ctx.personalize.update_solution(**request)
    ctx.progress.say(
        f"solution {solution['name']}: auto-training set to {'on' if desired else 'off'}"
        + ("" if same_events else ", events configuration updated")
    )
    wait_for(ctx, what, latest_update)
    return True


def apply_auto_training(ctx: Context) -> list[str]:
    """Set every configured solution's auto-training as the config says; the names that changed."""
    changed = []
    for solution in ctx.config["solutions"]:
        arn = ctx.output_map("solution_arns", solution["name"])
        if _auto_training(ctx, arn, solution):
            changed.append(solution["name"])
    return changed


def _latest_import(ctx: Context) -> datetime | None:
    """When the dataset group's data last changed: the newest ACTIVE import job of any dataset."""
    newest: datetime | None = None
    for dataset_arn in dict(ctx.outputs.get("dataset_arns") or {}).values():
        for job in paginate(
            ctx.personalize.list_dataset_import_jobs, "datasetImportJobs", datasetArn=dataset_arn
        ):
            if job.get("status") != "ACTIVE":
                continue
            moment = job.get("lastUpdatedDateTime") or job.get("creationDateTime")
            if isinstance(moment, datetime):
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                newest = moment if newest is None or moment > newest else newest
    return newest


def _version(
    ctx: Context, arn: str, solution: Mapping[str, Any], mode: str, new_version: bool
) -> tuple[str, bool]:
    versions = sort_newest_first(
        list(paginate(ctx.personalize.list_solution_versions, "solutionVersions", solutionArn=arn))
    )
    running = [v for v in versions if v.get("status") in IN_PROGRESS_STATES]
    if running:
        ctx.progress.say(f"solution {solution['name']}: a version is already training; waiting for it")
        return str(running[0]["solutionVersionArn"]), False
    active = [v for v in versions if v.get("status") == "ACTIVE"]
    if mode == "UPDATE":
        if solution["recipe"] != "aws-user-personalization":
            raise ConfigCheckError(
                f"solution {solution['name']}",
                f"trainingMode UPDATE needs the aws-user-personalization recipe, not {solution['recipe']}",
                "train with MODE=FULL",
            )
        if not any(v.get("trainingMode", "FULL") == "FULL" for v in active):
            raise ConfigCheckError(
                f"solution {solution['name']}",
                "UPDATE needs an ACTIVE version trained with FULL",
                "run `make train` first",
            )
    elif active and not new_version:
        data_changed = _latest_import(ctx)
        if data_changed is None or creation_time(active[0]) >= data_changed:
            ctx.progress.say(
                f"solution {solution['name']}: newest version is up to date with the data; not retraining "
                "(use --new-version to force)"
            )
            return str(active[0]["solutionVersionArn"]), False
    name = f"{solution['name']}-{datetime.now(UTC):%Y%m%d%H%M%S}"
    created = ctx.personalize.create_solution_version(
        solutionArn=arn,
        trainingMode=mode,  # type: ignore[arg-type]
        name=name,
    )["solutionVersionArn"]
    ctx.progress.say(f"solution {solution['name']}: training {mode} version {created.rsplit('/', 1)[-1]}")
    return str(created), True


def _print_metrics(ctx: Context, name: str, metrics: Mapping[str, float]) -> None:
    for key in METRIC_NAMES:
        if key in metrics:
            ctx.progress.plain(f"    {name:<24} {key:<46} {float(metrics[key]):.4f}")


def run_train(
    ctx: Context,
    solution_name: str | None = None,
    *,
    mode: str = "FULL",
    new_version: bool = False,
) -> list[TrainResult]:
    """Train one configured solution (or every one), wait, print metrics."""
    if mode not in TRAINING_MODES:
        raise ConfigCheckError("--mode", f"{mode!r} is not one of {', '.join(TRAINING_MODES)}")
    solutions = [ctx.solution(solution_name)] if solution_name else list(ctx.config["solutions"])
    for solution in solutions:  # every check before the first call
        check_solution_config(solution)
    results = []
    for solution in solutions:
        arn = ctx.output_map("solution_arns", solution["name"])
        described = wait_for(
            ctx,
            f"solution {solution['name']}",
            lambda arn=arn: ctx.personalize.describe_solution(solutionArn=arn)["solution"],  # type: ignore[misc]
        )
        _check_deployed(ctx, solution, described)
        updated = _auto_training(ctx, arn, solution)
        version_arn, created = _version(ctx, arn, solution, mode, new_version)
        results.append(TrainResult(solution["name"], version_arn, created, updated))
    failures: list[JobFailedError] = []
    for result in results:  # versions train in parallel; wait for each, and report every failure
        try:
            wait_for(
                ctx,
                f"solution version {result.solution_version_arn.rsplit('/', 1)[-1]} ({result.solution})",
                lambda arn=result.solution_version_arn: ctx.personalize.describe_solution_version(  # type: ignore[misc]
                    solutionVersionArn=arn
                )["solutionVersion"],
            )
        except JobFailedError as exc:
            ctx.progress.say(f"FAILED {exc.where}: {exc.why}")
            failures.append(exc)
            continue
        metrics = ctx.personalize.get_solution_metrics(solutionVersionArn=result.solution_version_arn)
        result.metrics = {k: float(v) for k, v in metrics.get("metrics", {}).items()}
    ctx.progress.plain("metrics:")
    for result in results:
        _print_metrics(ctx, result.solution, result.metrics)
    if failures:
        raise failures[0]
    return results
