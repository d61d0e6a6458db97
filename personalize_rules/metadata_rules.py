"""Personalize's rules for item metadata in recommendations (`metadataColumns`), for the emulator and the API.

From the GetRecommendations API reference
(https://docs.aws.amazon.com/personalize/latest/dg/API_RS_GetRecommendations.html) and "Item metadata in
recommendations" (https://docs.aws.amazon.com/personalize/latest/dg/campaigns.html#create-campaign-return-metadata):

- metadata is returned only by a campaign created or updated with
  `campaignConfig.enableMetadataWithRecommendations`;
- `metadataColumns` maps the dataset type `ITEMS` to at most 10 column names of the Items dataset;
- `numResults` is at most 50 when metadata is requested, 500 otherwise;
- each item's `metadata` maps a column name to its value as a string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from personalize_rules.errors import RulesError

__all__ = [
    "MAX_METADATA_COLUMNS",
    "MAX_RESULTS",
    "MAX_RESULTS_WITH_METADATA",
    "METADATA_DATASET_KEY",
    "MetadataColumnsError",
    "check_metadata_columns",
    "max_results",
]

MAX_METADATA_COLUMNS = 10
MAX_RESULTS = 500
MAX_RESULTS_WITH_METADATA = 50
METADATA_DATASET_KEY = "ITEMS"


class MetadataColumnsError(RulesError, ValueError):
    """`metadataColumns` breaks a documented rule: `where` names the member, `why` the rule."""


def max_results(with_metadata: bool) -> int:
    return MAX_RESULTS_WITH_METADATA if with_metadata else MAX_RESULTS


def check_metadata_columns(
    columns: Mapping[str, Sequence[str]], schema_columns: Iterable[str] | None = None
) -> list[str]:
    """The requested Items columns, or MetadataColumnsError: another key than ITEMS, more than 10 columns,
    a column twice, or (given the Items schema's column names) a column the Items dataset does not have."""
    keys = [k for k in columns if k != METADATA_DATASET_KEY]
    if keys:
        raise MetadataColumnsError(
            "metadataColumns", f"the only key is {METADATA_DATASET_KEY}, got {', '.join(sorted(keys))}"
        )
    wanted = list(columns.get(METADATA_DATASET_KEY) or [])
    if len(wanted) > MAX_METADATA_COLUMNS:
        raise MetadataColumnsError(
            f"metadataColumns.{METADATA_DATASET_KEY}",
            f"at most {MAX_METADATA_COLUMNS} columns, got {len(wanted)}",
        )
    twice = sorted({c for c in wanted if wanted.count(c) > 1})
    if twice:
        raise MetadataColumnsError(
            f"metadataColumns.{METADATA_DATASET_KEY}", f"columns given twice: {', '.join(twice)}"
        )
    if schema_columns is not None:
        known = {c.upper() for c in schema_columns}
        unknown = [c for c in wanted if c.upper() not in known]
        if unknown:
            raise MetadataColumnsError(
                f"metadataColumns.{METADATA_DATASET_KEY}",
                f"not columns of the Items dataset: {', '.join(unknown)}",
            )
    return wanted
