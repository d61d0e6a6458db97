"""Braze Liquid templates and a small renderer that emulates Connected Content (for tests and the demo)."""
