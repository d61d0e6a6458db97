"""One CLI for the ML lifecycle: `python -m pipeline <command> --env local|aws ...` (make calls it).

Every command is idempotent and ends with a clear result, or with an error that says what to do
(printed without a traceback, exit code 1). Usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from chalicelib.errors import ApiBaseError
from local_stack.errors import LocalStackError
from personalize_rules.errors import RulesError
from pipeline.errors import PipelineError
from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.errors import ValidationFailedError

__all__ = ["build_parser", "main"]

# Domain errors, known by their package's base, are printed without a traceback (chalicelib's: the
# API settings that `serve` and `deploy` render).
_DOMAIN_ERRORS: tuple[type[Exception], ...] = (PipelineError, RulesError, LocalStackError, ApiBaseError)
_TERRAFORM_ACTIONS = {
    "plan": "terraform plan of the environment",
    "apply": "terraform apply, then each solution's auto-training as the config says",
    "destroy": "terraform destroy of the environment",
    "outputs": "print the Terraform outputs the scripts and the API use (JSON)",
    "bootstrap": "create the S3 state bucket of an AWS stage and write its backend config",
}


def _env(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=os.environ.get("ENV", "local"), help="local (default) or aws")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for action, text in _TERRAFORM_ACTIONS.items():
        p = sub.add_parser(action, help=text)
        _env(p)
        p.add_argument(
            "--stage", default=os.environ.get("STAGE") or None, help="with --env aws: staging or production"
        )
        if action in ("plan", "apply"):
            p.add_argument("--plan-file", type=Path, help="plan: save the plan here; apply: apply exactly it")
        if action in ("apply", "bootstrap"):
            p.add_argument("--auto-approve", action="store_true", help="apply without asking (CI)")
        if action == "destroy":
            p.add_argument("--confirm", help="the environment's name (local, staging or production)")
            p.add_argument(
                "--unprotect", action="store_true", help="release the protected data bucket and key too"
            )

    p = sub.add_parser("import", help="validate, upload and import a data directory")
    _env(p)
    p.add_argument(
        "--data", type=Path, required=True, help="directory with interactions.csv [users.csv items.csv]"
    )
    p.add_argument("--mode", default="FULL", choices=("FULL", "INCREMENTAL"))
    p.add_argument(
        "--event-type", help="validate minimums as a solution trained on this event type sees them"
    )

    p = sub.add_parser("train", help="set auto-training, create (or reuse) solution versions, print metrics")
    _env(p)
    p.add_argument("--solution", help="one configured solution (default: every one)")
    p.add_argument("--mode", default="FULL", choices=("FULL", "UPDATE"))
    p.add_argument("--new-version", action="store_true", help="train even when the data has not changed")

    p = sub.add_parser("evaluate", help="metrics table of every solution version; report under reports/")
    _env(p)
    p.add_argument("--out", type=Path, help="report directory (default reports/)")

    p = sub.add_parser(
        "experiment-report", help="conversion per experiment variant and the lift over the control"
    )
    _env(p)
    p.add_argument("--experiment", help="one configured experiment (default: every one)")
    p.add_argument("--out", type=Path, help="report directory (default reports/)")

    p = sub.add_parser("promote", help="create or update campaigns to a version (arn or best)")
    _env(p)
    p.add_argument("--version", default="best", help="a solution version ARN, or best (default)")
    p.add_argument("--campaign", help="one configured campaign (default: every one the version fits)")
    p.add_argument("--force", action="store_true", help="accept a version scoring below the live one")

    p = sub.add_parser("batch", help="batch recommendations for a users file")
    _env(p)
    p.add_argument("--users", type=Path, required=True, help="one user id per line, or a CSV with USER_ID")
    p.add_argument("--filter", dest="filter_name", help="a configured filter name")
    p.add_argument(
        "--solution", help="use this solution's best version (default: the API campaign's live one)"
    )
    p.add_argument("--version", help="a solution version ARN")
    p.add_argument("--num-results", type=int, default=25)
    p.add_argument("--out", type=Path, help="download directory (default data/batch/<job>)")

    p = sub.add_parser("events", help="stream interactions from a CSV through the event tracker")
    _env(p)
    p.add_argument("--file", type=Path, required=True)

    p = sub.add_parser("currents-sync", help="run the Currents bridge over new objects under the prefix")
    _env(p)

    p = sub.add_parser(
        "currents-sample", help="write Currents Avro files in Braze's layout from interactions"
    )
    _env(p)
    p.add_argument("--data", type=Path, required=True, help="an interactions.csv, or a directory holding one")
    p.add_argument("--last", type=int, default=2000, help="the newest N interactions (default 2000)")
    p.add_argument("--out", type=Path, help="write to this directory instead of the bucket")

    p = sub.add_parser("forget", help="delete users from Personalize, our S3 copies and (--braze) Braze")
    _env(p)
    p.add_argument("--users", type=Path, required=True, help="one external user id per line, or USER_ID CSV")
    p.add_argument("--braze", action="store_true", help="also call Braze's /users/delete")

    p = sub.add_parser("braze-sync", help="batch recommendations onto Braze profiles with /users/track")
    _env(p)
    p.add_argument("--job", help="a batch inference job name (default: the newest finished one)")
    p.add_argument("--campaign", default="weekly", help="attribute name suffix: recs_<campaign>")

    sub.add_parser("lint-filters", help="check every configured filter expression against the schemas")

    p = sub.add_parser("serve", help="run the API locally (chalice local)")
    _env(p)
    p.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    p.add_argument("--background", action="store_true", help="start in the background (stop with `down`)")

    p = sub.add_parser("deploy", help="chalice deploy with the Terraform-made role")
    _env(p)

    p = sub.add_parser("demo", help="the whole job on the local stack, to a rendered Braze Content Card")
    p.add_argument("--data", default="sample", choices=("sample", "online-retail"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_STACK_PORT", "4566")))
    p.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))

    p = sub.add_parser("down", help="stop the API server and the local stack")
    p.add_argument("--env", default=None, help="with --campaigns: whose campaigns to delete")
    p.add_argument("--campaigns", action="store_true", help="also delete the campaigns (they bill per hour)")
    return parser


def _run(args: argparse.Namespace, progress: Progress) -> None:
    command: str = args.command
    if command == "lint-filters":
        from pipeline.lifecycle.lint import run_lint_filters

        run_lint_filters(progress=progress)
        return
    if command in _TERRAFORM_ACTIONS:
        _terraform(args, progress)
        return
    if command == "demo":
        from pipeline.demo import run_demo

        run_demo(data=args.data, port=args.port, api_port=args.api_port, progress=progress)
        return
    if command == "down":
        from pipeline.lifecycle.api_server import run_down

        ctx = Context.load(args.env or "local", progress=progress) if args.campaigns else None
        run_down(progress=progress, ctx=ctx, campaigns=args.campaigns)
        return
    _preflight(args)
    ctx = Context.load(args.env, progress=progress)
    handlers: dict[str, Callable[[], object]] = {
        "import": lambda: _import(ctx, args),
        "train": lambda: _train(ctx, args),
        "evaluate": lambda: _evaluate(ctx, args),
        "experiment-report": lambda: _experiment_report(ctx, args),
        "promote": lambda: _promote(ctx, args),
        "batch": lambda: _batch(ctx, args),
        "events": lambda: _events(ctx, args),
        "serve": lambda: _serve(ctx, args),
        "deploy": lambda: _deploy(ctx),
        "currents-sync": lambda: _currents_sync(ctx),
        "currents-sample": lambda: _currents_sample(ctx, args),
        "forget": lambda: _forget(ctx, args),
        "braze-sync": lambda: _braze_sync(ctx, args),
    }
    handlers[command]()


def _preflight(args: argparse.Namespace) -> None:
    """Input files are checked before Terraform or AWS is touched."""
    wanted = {
        "import": ("data", True),
        "batch": ("users", False),
        "events": ("file", False),
        "forget": ("users", False),
    }
    if args.command not in wanted:
        return
    attr, is_dir = wanted[args.command]
    path: Path = getattr(args, attr)
    if not (path.is_dir() if is_dir else path.is_file()):
        kind = "directory" if is_dir else "file"
        raise ValidationFailedError(f"--{attr} {path}", f"no such {kind}", f"check the {attr.upper()}= path")


def _terraform(args: argparse.Namespace, progress: Progress) -> None:
    from pipeline.infra import bootstrap, run

    action: str = args.command
    if action == "bootstrap":
        bootstrap(args.stage, auto_approve=args.auto_approve)
        return
    plan_file: Path | None = getattr(args, "plan_file", None)
    out = run(
        action,
        args.env,
        stage=args.stage,
        # Terraform runs in the environment's directory: a relative path means the caller's.
        plan_file=plan_file.resolve() if plan_file else None,
        auto_approve=getattr(args, "auto_approve", False),
        confirm=getattr(args, "confirm", None),
        unprotect=getattr(args, "unprotect", False),
    )
    if action == "outputs":
        from pipeline.tf_outputs import parse_outputs

        print(json.dumps(parse_outputs(args.env, out), indent=2, sort_keys=True, default=str))
    if action == "apply":
        # CloudFormation cannot set a solution's auto-training, and AWS defaults it to on (a billed
        # version every 7 days): right after apply, set each solution as the config says.
        from pipeline.lifecycle.training import apply_auto_training

        apply_auto_training(Context.load(args.env, progress=progress))


def _import(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.importing import run_import

    run_import(ctx, args.data, args.mode, event_type=args.event_type)


def _train(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.training import run_train

    run_train(ctx, args.solution, mode=args.mode, new_version=args.new_version)


def _evaluate(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.evaluation import run_evaluate

    run_evaluate(ctx, out_dir=args.out)


def _experiment_report(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.experiment_report import run_experiment_report

    run_experiment_report(ctx, args.experiment, out_dir=args.out)


def _promote(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.promote import run_promote

    run_promote(ctx, args.version, campaign=args.campaign, force=args.force)


def _batch(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.batch import run_batch

    run_batch(
        ctx,
        args.users,
        filter_name=args.filter_name,
        solution=args.solution,
        version=args.version,
        num_results=args.num_results,
        out_dir=args.out,
    )


def _events(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.events import run_events

    run_events(ctx, args.file)


def _currents_sync(ctx: Context) -> None:
    from pipeline.currents.commands import run_currents_sync

    run_currents_sync(ctx)


def _currents_sample(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.currents.commands import run_currents_sample

    data: Path = args.data
    source = data / "interactions.csv" if data.is_dir() else data
    if not source.is_file():
        raise ValidationFailedError(f"--data {data}", "no interactions.csv there", "point DATA= at a dataset")
    run_currents_sample(ctx, source, last=args.last, out_dir=args.out)


def _forget(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.forget import run_forget

    run_forget(ctx, args.users, braze=args.braze)


def _braze_sync(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.braze_sync.sync import run_braze_sync

    run_braze_sync(ctx, job=args.job, campaign=args.campaign)


def _serve(ctx: Context, args: argparse.Namespace) -> None:
    from pipeline.lifecycle.api_server import run_serve, start_api_background

    if args.background:
        start_api_background(ctx, args.port)
    else:
        run_serve(ctx, args.port)


def _deploy(ctx: Context) -> None:
    from pipeline.lifecycle.api_server import run_deploy

    run_deploy(ctx)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    progress = Progress()
    try:
        _run(args, progress)
    except EndpointConnectionError as exc:
        print(
            f"error: could not connect to {exc.kwargs.get('endpoint_url', 'the endpoint')}", file=sys.stderr
        )
        print("  what to do: `make local-up` (or `make demo`), or check LOCAL_STACK_PORT", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("error: no AWS credentials found", file=sys.stderr)
        print("  what to do: configure a profile (AWS_PROFILE) or use ENV=local", file=sys.stderr)
        return 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"error: {exc.operation_name}: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        print("  what to do: check the message above; `make apply` if a resource is missing", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _DOMAIN_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
