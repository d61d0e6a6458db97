"""`python -m pipeline <command>`: the lifecycle CLI (see pipeline.cli)."""

from __future__ import annotations

from pipeline.cli import main

raise SystemExit(main())
