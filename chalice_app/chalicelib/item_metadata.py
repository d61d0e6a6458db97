"""Item fields from Personalize's own answer (`metadataColumns`) instead of the S3 catalog.

With `enable_metadata: true` on the API's campaign (campaignConfig.enableMetadataWithRecommendations), the
API asks GetRecommendations for the Items columns an answer needs and builds the items from each item's
`metadata`; the rules (ITEMS only, at most 10 columns, numResults at most 50) are
personalize_rules.metadata_rules' (https://docs.aws.amazon.com/personalize/latest/dg/getting-recommendations-with-metadata.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.errors import SettingsError

__all__ = ["ANSWER_FIELDS", "DEFAULT_COLUMNS", "metadata_request", "metadata_row", "parse_metadata_columns"]

# What an item of the answer holds, and the Items column each comes from by default.
ANSWER_FIELDS = ("name", "price", "image", "url")
DEFAULT_COLUMNS: dict[str, str] = {"name": "NAME", "price": "PRICE", "image": "IMAGE", "url": "URL"}


def parse_metadata_columns(raw: str) -> dict[str, str]:
    """METADATA_COLUMNS: empty (the campaign has no metadata: decorate from the catalog), `true` (the
    default columns) or `{"name": "<Items column>", ...}` for some of name, price, image and url."""
    from personalize_rules.metadata_rules import MAX_METADATA_COLUMNS

    text = raw.strip()
    if not text or text.lower() == "false":
        return {}
    if text.lower() == "true":
        return dict(DEFAULT_COLUMNS)
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError("METADATA_COLUMNS", f"is not JSON, true or empty: {exc.msg}") from exc
    if not isinstance(value, dict) or not value:
        raise SettingsError("METADATA_COLUMNS", "must be a non-empty JSON object of answer field -> column")
    unknown = sorted(set(value) - set(ANSWER_FIELDS))
    if unknown:
        raise SettingsError("METADATA_COLUMNS", f"{', '.join(unknown)} not among {', '.join(ANSWER_FIELDS)}")
    if not all(isinstance(c, str) and c for c in value.values()):
        raise SettingsError("METADATA_COLUMNS", "each column must be a non-empty string")
    if len(set(value.values())) > MAX_METADATA_COLUMNS:
        raise SettingsError("METADATA_COLUMNS", f"Personalize returns at most {MAX_METADATA_COLUMNS} columns")
    return {str(k): str(v) for k, v in value.items()}


def metadata_request(columns: Mapping[str, str]) -> dict[str, list[str]]:
    """GetRecommendations' `metadataColumns` for these answer fields (each column once)."""
    from personalize_rules.metadata_rules import METADATA_DATASET_KEY

    return {METADATA_DATASET_KEY: list(dict.fromkeys(columns.values()))}


def metadata_row(item_id: str, metadata: Mapping[str, str], columns: Mapping[str, str]) -> dict[str, str]:
    """A catalog-shaped row (ITEM_ID, NAME, PRICE, IMAGE, URL) from one item's returned metadata, so the
    answer is built by the same code as from the catalog."""
    row = {"ITEM_ID": item_id}
    for answer_field, column in columns.items():
        value = metadata.get(column)
        if value:
            row[DEFAULT_COLUMNS[answer_field]] = value
    return row
