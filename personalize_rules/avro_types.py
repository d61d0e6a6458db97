"""The one map from a Personalize schema's Avro types to the types its CSV values are read as.

Avro's `int` and `float` are 32-bit, `long` and `double` 64-bit (Avro 1.11 specification, "Primitive
Types"); Personalize schemas use these primitives, optionally in a union with "null" ("Schema data
types" in the Personalize developer guide). The validator, the benchmark's plain parse and the local
emulator's import all read values with these types, so a value is judged and stored the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

__all__ = ["ARROW_TYPES", "SQL_TYPES", "arrow_types", "base_type"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}
# The same types in DuckDB's SQL (the validator's engine), which converts to the Arrow types above.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}


def base_type(avro_type: Any) -> str:
    """The primitive of a field's type: "long" for "long" and for ["null", "long"]."""
    if isinstance(avro_type, list):
        non_null = [t for t in avro_type if t != "null"]
        return base_type(non_null[0]) if non_null else "string"
    if isinstance(avro_type, dict):
        return str(avro_type.get("type", "string"))
    return str(avro_type)


def arrow_types(schema: Mapping[str, Any]) -> dict[str, pa.DataType]:
    """Column name -> Arrow type for a Personalize Avro record schema (unknown types read as strings)."""
    return {f["name"]: ARROW_TYPES.get(base_type(f["type"]), pa.string()) for f in schema["fields"]}
