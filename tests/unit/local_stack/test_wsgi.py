from __future__ import annotations

import json

from werkzeug.test import Client

from local_stack.personalize.wsgi import PersonalizeApp, rest_operation

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/personalize/aws4_request, "
    "SignedHeaders=host, Signature=x"
)


def test_rest_routes_come_from_botocore_models() -> None:
    assert rest_operation("personalize-runtime", "POST", "/recommendations") == "GetRecommendations"
    assert rest_operation("personalize-events", "POST", "/events") == "PutEvents"
    assert rest_operation("personalize-runtime", "POST", "/events") is None


def test_json_errors_use_the_json_1_1_body_and_status_400() -> None:
    resp = Client(PersonalizeApp()).post(
        "/",
        data=json.dumps({"schemaArn": "arn:aws:personalize:us-east-1:123456789012:schema/none"}),
        headers={"Authorization": AUTH, "X-Amz-Target": "AmazonPersonalize.DescribeSchema"},
    )
    assert resp.status_code == 400
    assert json.loads(resp.get_data())["__type"] == "ResourceNotFoundException"


def test_rest_json_not_found_answers_404_with_error_type_header() -> None:
    resp = Client(PersonalizeApp()).post(
        "/recommendations",
        data=json.dumps(
            {"campaignArn": "arn:aws:personalize:us-east-1:123456789012:campaign/none", "userId": "u"}
        ),
        headers={"Authorization": AUTH},
    )
    assert resp.status_code == 404
    assert resp.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert "message" in json.loads(resp.get_data())


def test_malformed_json_is_invalid_input() -> None:
    resp = Client(PersonalizeApp()).post(
        "/", data=b"{nope", headers={"Authorization": AUTH, "X-Amz-Target": "AmazonPersonalize.ListSchemas"}
    )
    assert json.loads(resp.get_data())["__type"] == "InvalidInputException"
