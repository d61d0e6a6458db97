"""The demo's Braze loop, one step: Currents purchase -> events -> the item leaves the user's
recommendations without retraining; a batch job -> profiles in the Braze emulator -> a rendered block."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.braze_sync.sync import SyncReport, run_braze_sync
from pipeline.currents.commands import run_currents_sync
from pipeline.currents.layout import build_key
from pipeline.currents.sample import braze_internal_id, write_avro
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ValidationFailedError

__all__ = ["LoopResult", "run_braze_loop"]

PURCHASE = "users.behaviors.Purchase"


@dataclass(frozen=True)
class LoopResult:
    user: str
    purchased_item: str
    gone_without_retraining: bool
    sync: SyncReport
    rendered: str


def _recommend(ctx: Context, user: str, filter_name: str) -> list[str]:
    campaign = ctx.output_map("campaign_arns", str(ctx.config["api"]["campaign"]))
    answer = ctx.runtime.get_recommendations(
        campaignArn=campaign, userId=user, numResults=10, filterArn=ctx.output_map("filter_arns", filter_name)
    )
    return [str(i["itemId"]) for i in answer["itemList"]]


def _purchase_file(ctx: Context, user: str, item: str, time: int) -> str:
    record = {
        "id": f"demo-purchase-{user}-{item}-{time}",
        "user_id": braze_internal_id(user),
        "external_user_id": user,
        "time": time,
        "product_id": item,
        "price": 1.0,
        "currency": "EUR",
        "properties": "{}",
    }
    hour = "2026-01-01-00"
    key = build_key(str(ctx.config["currents"]["prefix"]), PURCHASE, hour, integration_id="demo", offset=time)
    ctx.s3.put_object(Bucket=ctx.bucket, Key=key, Body=write_avro(PURCHASE, [record]))
    return key


def run_braze_loop(ctx: Context, user: str, batch_job: str, *, time: int = 1_767_225_600) -> LoopResult:
    from braze.render import TEMPLATE_DIR, render_template
    from pipeline.braze_sync.client import client_for

    before = _recommend(ctx, user, "exclude-purchased")
    if not before:
        raise ValidationFailedError(f"user {user}", "has no recommendations", "train and promote first")
    item = before[0]
    key = _purchase_file(ctx, user, item, time)
    ctx.progress.say(f"Currents: {user} bought {item} (s3://{ctx.bucket}/{key})")
    run_currents_sync(ctx)
    after = _recommend(ctx, user, "exclude-purchased")
    gone = item not in after
    ctx.progress.say(
        f"{item} {'left' if gone else 'is STILL in'} {user}'s recommendations, without retraining"
    )
    report = run_braze_sync(ctx, job=batch_job, campaign="weekly")
    client = client_for(ctx)
    profile = client.session.get(f"{client.endpoint}/_braze/users/{user}", timeout=5).json()
    rendered = render_template(
        TEMPLATE_DIR / "profile_recs_block.liquid", user=profile | {"user_id": user}, api_base="", api_key=""
    )
    text = f"(aborted: {rendered.abort_reason})" if rendered.aborted else rendered.text
    ctx.progress.plain(f"\n== Braze email block from {user}'s profile (recs_weekly)\n{text}\n")
    return LoopResult(user, item, gone, report, text)
