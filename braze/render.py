"""Render the Braze templates with python-liquid 2, emulating the Braze-only parts they use.

- `${attribute}` user attributes and `custom_attribute.${name}` custom attributes (Braze syntax) become
  `braze_user.attribute` / `braze_user.name`: pass both kinds in `user`.
- `{% connected_content URL :headers {...} :save var :cache_max_age N :retry %}` makes a real HTTP GET,
  saves the JSON (objects get `__http_status_code__`, as in Braze) and caches by URL for `:cache_max_age`.
- `{% abort_message('why') %}` stops the render; `url_param_escape` escapes a query parameter value.

The templates carry the placeholders `https://YOUR-API` and `YOUR-API-KEY`; `render_template` swaps in
a real base URL and key.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import requests
from liquid import Environment
from liquid.ast import Node
from liquid.context import RenderContext
from liquid.exceptions import LiquidError
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, TOKEN_TAG, Token

__all__ = [
    "API_BASE_PLACEHOLDER",
    "API_KEY_PLACEHOLDER",
    "TEMPLATE_DIR",
    "AbortMessage",
    "BrazeTemplateError",
    "Rendered",
    "make_environment",
    "render_template",
]

TEMPLATE_DIR = Path(__file__).resolve().parent
API_BASE_PLACEHOLDER = "https://YOUR-API"
API_KEY_PLACEHOLDER = "YOUR-API-KEY"
BRAZE_TIMEOUT_SECONDS = 2.0  # Braze waits less than 2 s for a Connected Content response
_ATTRIBUTE = re.compile(r"\$\{(\w+)\}")
_CUSTOM_ATTRIBUTE = re.compile(r"custom_attribute\.\$\{(\w+)\}")
_OPTION = re.compile(r"\s+(?=:[a-z_]+\b)")


class AbortMessage(Exception):  # named after the Braze tag it emulates, not an ...Error
    """`{% abort_message(...) %}` ran: Braze would not send this message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BrazeTemplateError(Exception):
    """A template uses connected_content in a way this emulation (or Braze) does not accept."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


@dataclass
class Rendered:
    text: str
    aborted: bool
    abort_reason: str | None
    calls: list[str] = field(default_factory=list)


@dataclass
class _Call:
    url_template: str
    headers: dict[str, str]
    save: str | None
    cache_max_age: int
    retry: bool


Fetch = Callable[[str, Mapping[str, str]], tuple[int, str]]


def _http_get(url: str, headers: Mapping[str, str]) -> tuple[int, str]:
    response = requests.get(url, headers=dict(headers), timeout=BRAZE_TIMEOUT_SECONDS)
    return response.status_code, response.text


class _ConnectedContentNode(Node):
    __slots__ = ("call", "url")

    def __init__(self, token: Token, call: _Call, env: Environment) -> None:
        super().__init__(token)
        self.call = call
        self.url = env.from_string(call.url_template)

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        url = self.url.render(**dict(context.scope.items())).strip()
        state: _State = context.env.braze_state  # type: ignore[attr-defined]
        value = state.fetch_json(url, self.call)
        if self.call.save:
            context.assign(self.call.save, value)
            return 0
        text = value if isinstance(value, str) else json.dumps(value)
        return buffer.write(text)


class _ConnectedContentTag(Tag):
    name = "connected_content"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        expression = stream.current.value if stream.current.kind == TOKEN_EXPRESSION else ""
        parts = _OPTION.split(expression.strip())
        url, options = parts[0].strip(), parts[1:]
        if not url or url.startswith(":"):
            raise BrazeTemplateError("connected_content", "a URL is required")
        call = _Call(url, {}, None, 300, False)
        for option in options:
            name, _, arg = option.strip().partition(" ")
            arg = arg.strip()
            if name == ":headers":
                try:
                    call.headers = {str(k): str(v) for k, v in json.loads(arg).items()}
                except (json.JSONDecodeError, AttributeError) as exc:
                    raise BrazeTemplateError(":headers", f"not a JSON object: {arg!r}") from exc
            elif name == ":save":
                call.save = arg
            elif name == ":cache_max_age":
                call.cache_max_age = int(arg)
            elif name == ":retry":
                call.retry = True
            elif name in (":method", ":content_type", ":no_cache"):
                continue
            else:
                raise BrazeTemplateError("connected_content", f"option {name} is not emulated")
        return _ConnectedContentNode(token, call, self.env)


class _AbortNode(Node):
    __slots__ = ("reason",)

    def __init__(self, token: Token, reason: str) -> None:
        super().__init__(token)
        self.reason = reason

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        raise AbortMessage(self.reason)


class _AbortTag(Tag):
    name = "abort_message"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        raw = stream.current.value if stream.current.kind == TOKEN_EXPRESSION else ""
        reason = raw.strip().removeprefix("(").removesuffix(")").strip().strip("'\"")
        return _AbortNode(token, reason)


class _State:
    """Per-environment Connected Content state: the URL cache and the calls made."""

    def __init__(self, fetch: Fetch, clock: Callable[[], float]) -> None:
        self.fetch = fetch
        self.clock = clock
        self.cache: dict[str, tuple[float, Any]] = {}
        self.calls: list[str] = []

    def fetch_json(self, url: str, call: _Call) -> Any:
        cached = self.cache.get(url)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        self.calls.append(url)
        status, text = self.fetch(url, call.headers)
        if status >= 400 and call.retry:
            # Braze retries (up to five times) and then aborts the message.
            raise AbortMessage(f"connected content failed with HTTP {status}")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if isinstance(value, dict):
            value["__http_status_code__"] = status
        if status < 400 and call.cache_max_age > 0:
            self.cache[url] = (self.clock() + call.cache_max_age, value)
        return value


def _url_param_escape(value: object) -> str:
    return urllib.parse.quote(str(value), safe="")


def make_environment(fetch: Fetch | None = None, clock: Callable[[], float] = time.monotonic) -> Environment:
    """A Liquid environment with the Braze tags and filter; `fetch` replaces the HTTP GET if given."""
    env = Environment()
    env.add_tag(_ConnectedContentTag)
    env.add_tag(_AbortTag)
    env.add_filter("url_param_escape", _url_param_escape)
    env.braze_state = _State(fetch or _http_get, clock)  # type: ignore[attr-defined]
    return env


def render_template(
    template: str | Path,
    *,
    user: Mapping[str, Any],
    api_base: str,
    api_key: str,
    env: Environment | None = None,
) -> Rendered:
    """Render a template file (or source text) for one user against a running API."""
    source = template.read_text(encoding="utf-8") if isinstance(template, Path) else template
    source = source.replace(API_BASE_PLACEHOLDER, api_base.rstrip("/")).replace(API_KEY_PLACEHOLDER, api_key)
    source = _CUSTOM_ATTRIBUTE.sub(r"braze_user.\1", source)  # {{custom_attribute.${name}}}
    source = _ATTRIBUTE.sub(r"braze_user.\1", source)
    env = env or make_environment()
    state: _State = env.braze_state  # type: ignore[attr-defined]
    first_call = len(state.calls)
    try:
        text = env.from_string(source).render(braze_user=dict(user))
    except AbortMessage as abort:
        return Rendered("", True, abort.reason, state.calls[first_call:])
    except LiquidError as exc:
        # python-liquid wraps errors raised inside tags; surface ours with their own where/why.
        cause = exc.__cause__
        if isinstance(cause, AbortMessage):
            return Rendered("", True, cause.reason, state.calls[first_call:])
        if isinstance(cause, BrazeTemplateError):
            raise cause from exc
        raise
    return Rendered(text, False, None, state.calls[first_call:])


def main(argv: list[str] | None = None) -> int:
    """`python -m braze.render TEMPLATE USER_ID API_BASE API_KEY`: print the rendered message."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4:
        print("usage: python -m braze.render TEMPLATE USER_ID API_BASE API_KEY", file=sys.stderr)
        return 2
    path = Path(args[0])
    result = render_template(path, user={"user_id": args[1]}, api_base=args[2], api_key=args[3])
    print(f"(aborted: {result.abort_reason})" if result.aborted else result.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
