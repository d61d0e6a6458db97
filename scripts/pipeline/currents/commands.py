"""`currents-sync` and `currents-sample`: the bridge run locally over new objects, and sample files."""

from __future__ import annotations

from pathlib import Path

from pipeline.currents.bridge import Bridge, BridgeSettings, SyncResult
from pipeline.currents.sample import currents_records, read_interactions, sample_files
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ConfigCheckError

__all__ = ["bridge_for", "run_currents_sample", "run_currents_sync"]


def _currents(ctx: Context) -> dict[str, object]:
    section = ctx.config.get("currents")
    if not section:
        raise ConfigCheckError("config currents", "missing", "add a currents: section to config/project.yaml")
    return dict(section)


def bridge_for(ctx: Context) -> Bridge:
    """The same bridge the Lambda runs, with this environment's bucket, tracker and forget flow."""
    from pipeline.forget import forget_flow

    settings = BridgeSettings.from_config(
        _currents(ctx), bucket=ctx.bucket, tracking_id=str(ctx.output("tracking_id"))
    )
    return Bridge(
        settings,
        ctx.s3,
        ctx.events_client,
        forget=forget_flow(ctx),
        progress=ctx.progress,
        sleep=ctx.sleep,
    )


def run_currents_sync(ctx: Context) -> SyncResult:
    return bridge_for(ctx).sync()


def run_currents_sample(
    ctx: Context, interactions: Path, *, last: int | None = 2_000, out_dir: Path | None = None
) -> list[str]:
    """Write Currents files made from the newest `last` interactions: to `out_dir`, or under the prefix."""
    prefix = str(_currents(ctx)["prefix"])
    files = sample_files(currents_records(read_interactions(interactions, last=last)), prefix)
    for key, body in files.items():
        if out_dir is not None:
            target = out_dir / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        else:
            ctx.s3.put_object(Bucket=ctx.bucket, Key=key, Body=body)
    where = str(out_dir) if out_dir is not None else f"s3://{ctx.bucket}/{prefix}"
    ctx.progress.say(f"wrote {len(files)} Currents file(s) to {where}")
    return sorted(files)
