"""The recommendations API's logic; `app.py` only wires routes to it."""
