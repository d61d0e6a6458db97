"""`promote`: create or update each configured campaign to a solution version, never to a worse one.

Idempotency: a campaign already serving the wanted version with the configured minProvisionedTPS,
enableMetadata and rankingInfluence is left alone (no UpdateCampaign call). "best" means the ACTIVE
version of the campaign's solution with the highest NDCG@10 (the newest on a tie).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from personalize_rules.ranking_influence import (
    RANKING_INFLUENCE_KEYS,
    RankingInfluenceError,
    parse_ranking_influence,
)
from pipeline.lifecycle.aws import creation_time, paginate
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ConfigCheckError, NotFoundError, WorseVersionError
from pipeline.lifecycle.waiting import IN_PROGRESS_STATES, wait_for

if TYPE_CHECKING:
    from mypy_boto3_personalize.type_defs import CampaignConfigTypeDef

__all__ = ["PromoteResult", "best_version", "find_campaign", "ndcg10", "ranking_influence_of", "run_promote"]

NDCG10 = "normalized_discounted_cumulative_gain_at_10"


@dataclass(frozen=True)
class PromoteResult:
    campaign: str
    campaign_arn: str
    solution_version_arn: str
    action: str  # "created" | "updated" | "unchanged"
    ndcg_at_10: float


def ndcg10(ctx: Context, version_arn: str) -> float:
    metrics = ctx.personalize.get_solution_metrics(solutionVersionArn=version_arn).get("metrics", {})
    return float(metrics.get(NDCG10, 0.0))


def best_version(ctx: Context, solution_name: str) -> tuple[str, float]:
    """The ACTIVE version of a solution with the highest NDCG@10; NotFoundError when none is ACTIVE."""
    arn = ctx.output_map("solution_arns", solution_name)
    versions = [
        v
        for v in paginate(ctx.personalize.list_solution_versions, "solutionVersions", solutionArn=arn)
        if v.get("status") == "ACTIVE"
    ]
    if not versions:
        raise NotFoundError(
            f"solution {solution_name}", "has no ACTIVE version", f"run `make train ENV={ctx.env}`"
        )
    scored = [
        (ndcg10(ctx, v["solutionVersionArn"]), creation_time(v), str(v["solutionVersionArn"]))
        for v in versions
    ]
    score, _, best = max(scored)
    return best, score


def find_campaign(ctx: Context, name: str) -> dict[str, Any] | None:
    """The described campaign called `name`, or None."""
    for summary in paginate(ctx.personalize.list_campaigns, "campaigns"):
        if summary.get("name") == name:
            return dict(ctx.personalize.describe_campaign(campaignArn=summary["campaignArn"])["campaign"])
    return None


def _targets(ctx: Context, version: str, campaign: str | None) -> list[Mapping[str, Any]]:
    campaigns: list[Mapping[str, Any]] = list(ctx.config["campaigns"])
    if campaign:
        campaigns = [c for c in campaigns if c["name"] == campaign]
        if not campaigns:
            known = ", ".join(c["name"] for c in ctx.config["campaigns"])
            raise ConfigCheckError(
                "--campaign", f"no campaign named {campaign!r} in the config (known: {known})"
            )
    if version != "best":
        described = ctx.personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
        solution_arn = described.get("solutionArn")
        campaigns = [c for c in campaigns if ctx.output_map("solution_arns", c["solution"]) == solution_arn]
        if not campaigns:
            raise ConfigCheckError(
                "--version", f"{version} belongs to {solution_arn}, which no configured campaign serves"
            )
    return campaigns


def ranking_influence_of(ctx: Context, spec: Mapping[str, Any]) -> dict[str, float]:
    """The campaign's `ranking_influence` with the documented 0.0 defaults, checked against its
    solution's recipe before any call; {} when unset."""
    recipe = ctx.solution(spec["solution"])["recipe"]
    try:
        return parse_ranking_influence(recipe, spec.get("ranking_influence"))
    except RankingInfluenceError as exc:
        raise ConfigCheckError(
            f"campaigns/{spec['name']}/ranking_influence", exc.why, "fix config/project.yaml"
        ) from None


def _influence(value: Mapping[str, Any] | None) -> dict[str, float]:
    """A rankingInfluence compared with its 0.0 defaults filled in (unset == all zero)."""
    out = dict.fromkeys(RANKING_INFLUENCE_KEYS, 0.0)
    out.update({k: float(v) for k, v in (value or {}).items()})
    return out


def _wait_campaign(ctx: Context, name: str, arn: str) -> dict[str, Any]:
    def describe() -> dict[str, Any]:
        campaign: dict[str, Any] = dict(ctx.personalize.describe_campaign(campaignArn=arn)["campaign"])
        update = campaign.get("latestCampaignUpdate") or {}
        if campaign.get("status") == "ACTIVE" and update.get("status") in IN_PROGRESS_STATES | {
            "UPDATE FAILED"
        }:
            return {**campaign, "status": update["status"], "failureReason": update.get("failureReason")}
        return campaign

    return wait_for(ctx, f"campaign {name}", describe)


def _promote_one(ctx: Context, spec: Mapping[str, Any], version: str, force: bool) -> PromoteResult:
    name = ctx.campaign_name(spec)
    if version == "best":
        target, score = best_version(ctx, spec["solution"])
    else:
        target, score = version, ndcg10(ctx, version)
    tps = int(spec.get("min_provisioned_tps", 1))
    config: CampaignConfigTypeDef = {
        "enableMetadataWithRecommendations": bool(spec.get("enable_metadata", False))
    }
    influence = ranking_influence_of(ctx, spec)
    if influence:
        config["rankingInfluence"] = influence  # type: ignore[typeddict-item]
    existing = find_campaign(ctx, name)
    if existing is None:
        arn = ctx.personalize.create_campaign(
            name=name, solutionVersionArn=target, minProvisionedTPS=tps, campaignConfig=config
        )["campaignArn"]
        ctx.progress.say(f"campaign {name}: creating with {target.rsplit('/', 1)[-1]} (NDCG@10 {score:.4f})")
        _wait_campaign(ctx, name, arn)
        return PromoteResult(name, arn, target, "created", score)
    arn = str(existing["campaignArn"])
    existing = _wait_campaign(ctx, name, arn)
    live = str(existing.get("solutionVersionArn", ""))
    live_config = existing.get("campaignConfig") or {}
    same_settings = (
        int(existing.get("minProvisionedTPS", 1)) == tps
        and bool(live_config.get("enableMetadataWithRecommendations", False))
        == bool(config["enableMetadataWithRecommendations"])
        and _influence(live_config.get("rankingInfluence")) == _influence(influence)
    )
    if live == target and same_settings:
        ctx.progress.say(f"campaign {name}: already serves {target.rsplit('/', 1)[-1]}; nothing to do")
        return PromoteResult(name, arn, target, "unchanged", score)
    if live != target:
        live_score = ndcg10(ctx, live) if live else 0.0
        if score < live_score and not force:
            raise WorseVersionError(
                f"campaign {name}",
                f"{target.rsplit('/', 1)[-1]} has NDCG@10 {score:.4f}, below the live "
                f"{live.rsplit('/', 1)[-1]} at {live_score:.4f}",
                "keep the live version, or promote anyway with FORCE=1 (--force)",
            )
    ctx.personalize.update_campaign(
        campaignArn=arn, solutionVersionArn=target, minProvisionedTPS=tps, campaignConfig=config
    )
    ctx.progress.say(f"campaign {name}: updating to {target.rsplit('/', 1)[-1]} (NDCG@10 {score:.4f})")
    _wait_campaign(ctx, name, arn)
    return PromoteResult(name, arn, target, "updated", score)


def run_promote(
    ctx: Context, version: str = "best", *, campaign: str | None = None, force: bool = False
) -> list[PromoteResult]:
    """Promote `version` (an ARN, or "best" per campaign) to every configured campaign it belongs to."""
    targets = _targets(ctx, version, campaign)
    for spec in targets:  # every config check before the first change
        ranking_influence_of(ctx, spec)
    results = [_promote_one(ctx, spec, version, force) for spec in targets]
    for result in results:
        ctx.progress.say(
            f"campaign {result.campaign}: {result.action}, serving {result.solution_version_arn}"
        )
    return results
