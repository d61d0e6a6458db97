"""The recommendations API Braze Connected Content calls. Routes only; the logic is in chalicelib."""

from __future__ import annotations

from chalice import Chalice, Response

from chalicelib import handlers

app = Chalice(app_name="braze-recs-api")


@app.route("/recommendations", methods=["GET"])
def recommendations() -> Response:
    return handlers.recommendations(app.current_request)


@app.route("/related-items", methods=["GET"])
def related_items() -> Response:
    return handlers.related_items(app.current_request)


@app.route("/rankings", methods=["GET"])
def rankings() -> Response:
    return handlers.rankings(app.current_request)


@app.route("/trending", methods=["GET"])
def trending() -> Response:
    return handlers.trending(app.current_request)


@app.route("/health", methods=["GET"])
def health() -> Response:
    return handlers.health(app.current_request)
