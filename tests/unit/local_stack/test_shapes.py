from __future__ import annotations

import datetime as dt

import pytest

from local_stack.personalize.errors import InvalidInputException
from local_stack.personalize.shapes import check_shape, operation_model, parse_input, serialize_output


def test_missing_required_member_is_named_like_aws() -> None:
    with pytest.raises(InvalidInputException, match=r"Value null at 'datasetGroupArn'"):
        parse_input("personalize", "CreateSolution", {"name": "s"})


def test_names_longer_than_the_model_maximum_are_refused() -> None:
    with pytest.raises(InvalidInputException, match="length less than or equal to 63"):
        parse_input("personalize", "CreateDatasetGroup", {"name": "n" * 64})


def test_names_breaking_the_model_pattern_are_refused() -> None:
    with pytest.raises(InvalidInputException, match="regular expression pattern"):
        parse_input("personalize", "CreateDatasetGroup", {"name": "-starts-with-dash"})


def test_enum_members_are_checked() -> None:
    with pytest.raises(InvalidInputException, match="enum value set"):
        parse_input(
            "personalize",
            "CreateDatasetImportJob",
            {
                "jobName": "j",
                "datasetArn": "arn:aws:personalize:us-east-1:1:dataset/g/INTERACTIONS",
                "dataSource": {"dataLocation": "s3://b/k"},
                "importMode": "PARTIAL",
            },
        )


def test_wrong_types_and_list_limits_are_refused() -> None:
    with pytest.raises(InvalidInputException, match="2 validation errors"):
        parse_input(
            "personalize-events",
            "PutEvents",
            {"trackingId": "t", "sessionId": 5, "eventList": []},
        )


def test_epoch_timestamps_become_aware_datetimes() -> None:
    parsed = parse_input(
        "personalize-events",
        "PutEvents",
        {"trackingId": "t", "sessionId": "s", "eventList": [{"eventType": "View", "sentAt": 1700000000}]},
    )
    assert parsed["eventList"][0]["sentAt"] == dt.datetime.fromtimestamp(1700000000, tz=dt.UTC)


def test_serialized_timestamps_are_epoch_seconds_and_unknown_members_dropped() -> None:
    shape = operation_model("personalize", "DescribeSchema").output_shape
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = serialize_output(shape, {"schema": {"name": "s", "creationDateTime": when, "_private": 1}})
    assert out == {"schema": {"name": "s", "creationDateTime": when.timestamp()}}


def test_shape_checker_reports_unknown_members_missing_required_and_wrong_types() -> None:
    shape = operation_model("personalize", "CreateEventTracker").output_shape
    assert check_shape(shape, {"eventTrackerArn": "a", "trackingId": "t"}) == []
    problems = check_shape(shape, {"eventTrackerArn": 3, "bogus": 1})
    assert any("bogus" in p for p in problems)
    assert any("expected string" in p for p in problems)
    runtime_shape = operation_model("personalize-runtime", "GetRecommendations").output_shape
    assert check_shape(runtime_shape, {"itemList": [{"itemId": "i", "score": "high"}]})
