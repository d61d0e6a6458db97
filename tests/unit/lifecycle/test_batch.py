from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody
from botocore.stub import ANY

from pipeline.lifecycle.batch import run_batch

ARN = "arn:aws:personalize:us-east-1:123456789012"
VERSION = f"{ARN}:solution/braze-recs-user-personalization/v1"
JOB = f"{ARN}:batch-inference-job/braze-recs-batch-x"


def _body(text: str) -> StreamingBody:
    data = text.encode()
    return StreamingBody(io.BytesIO(data), len(data))


def test_batch_writes_json_lines_runs_the_job_and_summarises_the_output(stubbed: Any, tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("U1\nU2\n")
    stubbed.personalize.add_response(
        "list_batch_inference_jobs", {"batchInferenceJobs": []}, {"solutionVersionArn": VERSION}
    )
    stubbed.s3.add_response(
        "put_object",
        {},
        {
            "Bucket": "braze-recs-data",
            "Key": ANY,
            "Body": b'{"userId": "U1"}\n{"userId": "U2"}\n',
            "ChecksumAlgorithm": "SHA256",
        },
    )
    stubbed.personalize.add_response(
        "create_batch_inference_job",
        {"batchInferenceJobArn": JOB},
        {
            "jobName": ANY,
            "solutionVersionArn": VERSION,
            "numResults": 5,
            "filterArn": stubbed.ctx.outputs["filter_arns"]["exclude-interacted"],
            "jobInput": {"s3DataSource": {"path": ANY}},
            "jobOutput": {
                "s3DataDestination": {"path": ANY, "kmsKeyArn": stubbed.ctx.outputs["kms_key_arn"]}
            },
            "roleArn": stubbed.ctx.outputs["personalize_role_arn"],
        },
    )
    stubbed.personalize.add_response(
        "describe_batch_inference_job",
        {"batchInferenceJob": {"batchInferenceJobArn": JOB, "status": "ACTIVE"}},
    )
    stubbed.s3.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "batch/output/x/users.json.out"}, {"Key": "batch/output/x/_SUCCESS"}]},
    )
    lines = [
        {
            "input": {"userId": "U1"},
            "output": {"recommendedItems": ["a", "b"], "scores": [0.5, 0.4]},
            "error": None,
        },
        {"input": {"userId": "U2"}, "output": {"recommendedItems": ["c"], "scores": [0.3]}, "error": None},
    ]
    stubbed.s3.add_response("get_object", {"Body": _body("\n".join(json.dumps(x) for x in lines))})
    stubbed.s3.add_response("get_object", {"Body": _body("")})

    result = run_batch(
        stubbed.ctx,
        users,
        filter_name="exclude-interacted",
        version=VERSION,
        num_results=5,
        out_dir=tmp_path / "out",
    )

    assert result.started
    assert sorted(f.name for f in result.files) == ["_SUCCESS", "users.json.out"]
    assert (result.summary.users, result.summary.items_per_user_max, result.summary.errors) == (2, 2, 0)
    stubbed.personalize.assert_no_pending_responses()
    stubbed.s3.assert_no_pending_responses()
