"""Writer schemas of the Currents storage events we read, field for field as Braze documents them.

Sources: Braze docs, Currents event glossary, "Cloud Storage" tabs of users.behaviors.Purchase,
users.behaviors.CustomEvent, users.messages.email.Click, users.messages.contentcard.Click and
users.UserDeleteRequest. Optional fields are unions with null (Braze: added fields are always optional).
The bridge reads with the schema embedded in each file, so these are used to write sample files.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CURRENTS_SCHEMAS", "schema_for"]


def _opt(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "type": ["null", kind], "default": None}


def _req(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "type": kind}


_DEVICE = [_opt("app_group_id"), _opt("app_id"), _opt("device_id"), _opt("device_model"), _opt("os_version")]
_DEVICE += [_opt("platform"), _opt("ad_id"), _opt("ad_id_type"), _opt("ad_tracking_enabled", "boolean")]
_USER = [_req("id"), _req("user_id"), _opt("external_user_id"), _req("time", "int"), _opt("timezone")]
_MESSAGE = [_opt("campaign_id"), _opt("campaign_name"), _opt("message_variation_id"), _opt("canvas_id")]
_MESSAGE += [_opt("canvas_step_id"), _opt("dispatch_id"), _opt("send_id")]

CURRENTS_SCHEMAS: dict[str, list[dict[str, Any]]] = {
    "users.behaviors.Purchase": [
        *_USER,
        *_DEVICE,
        _req("product_id"),
        _req("price", "double"),
        _req("currency"),
        _req("properties"),
    ],
    "users.behaviors.CustomEvent": [*_USER, *_DEVICE, _req("name"), _req("properties")],
    "users.messages.email.Click": [
        *_USER,
        *_MESSAGE,
        _req("email_address"),
        _opt("url"),
        _opt("user_agent"),
        _opt("link_id"),
        _opt("link_alias"),
        _opt("is_amp", "boolean"),
    ],
    "users.messages.contentcard.Click": [
        *_USER,
        *_MESSAGE,
        _opt("content_card_id"),
        _opt("url"),
        *_DEVICE,
    ],
    "users.UserDeleteRequest": [_req("id"), _req("user_id"), _req("time", "int"), _opt("app_group_id")],
}


def schema_for(event_type: str) -> dict[str, Any]:
    """An Avro record schema for one Currents event type."""
    name = event_type.replace(".", "_")
    return {
        "type": "record",
        "name": name,
        "namespace": "com.braze.currents",
        "fields": CURRENTS_SCHEMAS[event_type],
    }
