"""What every report under reports/ shares: its file names and how its chart is drawn and saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["report_paths", "save_chart"]


def report_paths(out_dir: Path, stem: str) -> tuple[Path, Path]:
    """`<out_dir>/<stem>.md` and `.png` (the directory is created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / f"{stem}.md", out_dir / f"{stem}.png"


def save_chart(path: Path, draw: Callable[[Any], None], size: tuple[float, float] = (11, 5)) -> None:
    """One chart: `draw(ax)` on a fresh figure, saved as PNG with the non-interactive backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    try:
        draw(ax)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
