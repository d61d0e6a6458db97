"""Convert the UCI Online Retail log (../shared/data/online-retail/) into Personalize's three datasets.

Each cleaning step is counted (see `ConversionResult.steps`) and documented in docs/data.md: rows without a
customer, cancellations, non-positive quantities and prices, non-product stock codes; then one description
per code, integer customer IDs, London local time to Unix seconds, one purchase per customer, item and time.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pipeline.config import load_config, load_dataset_schemas
from pipeline.errors import PipelineError
from pipeline.paths import repo_root
from pipeline.sample_data import fill_template, image_url_template, item_url_template, write_csv_table

__all__ = [
    "CATEGORY_KEYWORDS",
    "NON_PRODUCT_RULE",
    "SOURCE_TIMEZONE",
    "CleaningStep",
    "ConversionResult",
    "OnlineRetailError",
    "categorize",
    "convert",
    "convert_with_report",
    "default_source",
    "is_product_code",
    "main",
    "title_case",
]

SOURCE_TIMEZONE = "Europe/London"
SOURCE_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
# Products have numeric codes (five digits, sometimes a letter suffix: 85123A). Everything else is a
# fee, postage, manual adjustment or voucher: POST, DOT, M, D, S, B, C2, PADS, BANK CHARGES, AMAZONFEE,
# CRUK, DCGS..., gift_0001_...
NON_PRODUCT_RULE = re.compile(r"^\d{5}")

# Keyword -> (CATEGORY_L1, CATEGORY_L2). The last word of the description found here wins (English puts
# the head noun last: "WHITE HANGING HEART T-LIGHT HOLDER" -> LIGHT). A plural "CANDLES" also matches
# "CANDLE". No match -> ("other", empty).
_KEYWORD_GROUPS: dict[str, str] = {
    "lighting": (
        "LIGHT LAMP LAMPSHADE LANTERN CANDLE CANDLEHOLDER CANDLESTICK CANDLEPOT CHANDELIER INCENSE MATCHES"
    ),
    "kitchen": (
        "MUG CUP TEACUP SAUCER BOWL PLATE PLATTER DISH JUG TEAPOT BEAKER CUTLERY SPOON TRAY JAR TIN"
        " CASES NAPKIN APRON COASTER STRAW TUMBLER LUNCHBOX PLACEMAT PAN SCALES CADDY"
    ),
    "bags": "BAG HANDBAG WASHBAG PURSE BACKPACK SHOPPER TOTE",
    "jewellery": (
        "NECKLACE BRACELET BANGLE EARRINGS RING CHARM BEADS BROOCH PENDANT KEYRING HAIRCLIP HAIRSLIDE"
    ),
    "stationery": (
        "CARD WRAP NOTEBOOK STICKER TAPE SKETCHBOOK JOURNAL PEN PENCIL RULER BOOK ALBUM ERASER TAG"
        " ENVELOPE CALENDAR DIARY NOTECARDS CRAYONS PAD"
    ),
    "home-decor": (
        "SIGN CLOCK FRAME MIRROR CUSHION COVER HOOK HANGER DOORMAT DOORSTOP CURTAIN CABINET DRAWER"
        " DRAWERS KNOB BOTTLE BASKET BOX BOXES STORAGE ORGANISER CONTAINER BIN BLANKET THROW PLAQUE"
        " TILE MAGNET ORNAMENT VASE THERMOMETER MOBILE SHELF RACK STAND STOOL CHAIR LETTERS FLOWER"
        " FLOWERS"
    ),
    "party-seasonal": (
        "DECORATION BUNTING GARLAND WREATH BALLOON BAUBLE BELL CRACKER CHRISTMAS EASTER PARTY"
        " BIRTHDAY TISSUES CONFETTI"
    ),
    "crafts": "KIT RIBBON REEL DOILY DOILEY DOILIES FELTCRAFT SEWING PATCHES BUTTONS",
    "bath-beauty": "TOWEL FLANNEL SPONGE COMB SOAP",
    "toys": "TOY DOLL DOLLY GAME PUZZLE BALL TEDDY HELICOPTER JIGSAW DOMINOES SOLDIER",
    "garden": "GARDEN PARASOL UMBRELLA PLANTER POT CAN GNOME BIRDHOUSE FEEDER WINDMILL HAMMOCK",
}
CATEGORY_KEYWORDS: dict[str, tuple[str, str]] = {
    word: (l1, word.lower()) for l1, words in _KEYWORD_GROUPS.items() for word in words.split()
}
_WORD = re.compile(r"[A-Z]+")


class OnlineRetailError(PipelineError):
    """The Online Retail source cannot be found, read or converted; says where and why."""


@dataclass(frozen=True)
class CleaningStep:
    """One cleaning rule: how many source rows it removed, how many rows, customers and codes remain."""

    name: str
    removed: int
    remaining: int
    customers: int = 0
    stock_codes: int = 0  # as written in the log (case-sensitive)


@dataclass
class ConversionResult:
    """What `convert_with_report` wrote and why rows disappeared."""

    paths: dict[str, Path]
    source_rows: int
    steps: list[CleaningStep] = field(default_factory=list)
    non_product_codes: dict[str, int] = field(
        default_factory=dict
    )  # code -> rows dropped (after earlier steps)
    codes_with_several_descriptions: int = 0
    merged_lines: int = 0  # lines folded into another of the same customer, item and time
    counts: dict[str, int] = field(default_factory=dict)  # rows per output dataset
    categories: dict[str, int] = field(default_factory=dict)  # items per CATEGORY_L1

    def format_text(self) -> str:
        lines = [f"source rows                    {self.source_rows:>9,}"]
        lines += [
            f"{s.name:<30} {'-' + format(s.removed, ','):>9}  -> {s.remaining:,} rows,"
            f" {s.customers:,} customers, {s.stock_codes:,} stock codes"
            for s in self.steps
        ]
        codes = ", ".join(
            f"{c} ({n})" for c, n in sorted(self.non_product_codes.items(), key=lambda kv: -kv[1])
        )
        lines.append(f"non-product codes dropped: {codes or 'none'}")
        several = self.codes_with_several_descriptions
        lines.append(f"codes with several descriptions (kept the most frequent): {several}")
        lines.append(f"lines merged (same customer, item and time): {self.merged_lines:,}")
        lines += [f"{t:<13} {n:>9,} rows  {self.paths[t]}" for t, n in self.counts.items()]
        lines.append("items per CATEGORY_L1: " + ", ".join(f"{k} {v}" for k, v in self.categories.items()))
        return "\n".join(lines)


def default_source() -> Path:
    """$BP_SHARED_DIR/data/online-retail/online_retail.csv.gz (BP_SHARED_DIR: <repo>/../shared)."""
    shared = os.environ.get("BP_SHARED_DIR")
    base = Path(shared) if shared else repo_root().parent / "shared"
    return base / "data" / "online-retail" / "online_retail.csv.gz"


def is_product_code(code: str) -> bool:
    return bool(NON_PRODUCT_RULE.match(code))


def categorize(description: str) -> tuple[str, str | None]:
    """(CATEGORY_L1, CATEGORY_L2) by the keyword table: last matching word wins; else ("other", None)."""
    for word in reversed(_WORD.findall(description.upper())):
        for candidate in (word, word[:-1] if word.endswith("S") else None):
            if candidate and candidate in CATEGORY_KEYWORDS:
                return CATEGORY_KEYWORDS[candidate]
    return ("other", None)


def title_case(text: str) -> str:
    """'DOLLY'S T-LIGHT HOLDER' -> "Dolly's T-Light Holder" (str.title would give "Dolly'S")."""
    return re.sub(
        r"[A-Za-z]+('[A-Za-z]+)?", lambda m: m.group(0).capitalize(), " ".join(text.lower().split())
    )


def _read(source: Path) -> pa.Table:
    if not source.is_file():
        raise OnlineRetailError(str(source), "no such file (set BP_SHARED_DIR or pass --source)")
    types = {c: pa.string() for c in SOURCE_COLUMNS} | {"Quantity": pa.int64(), "UnitPrice": pa.float64()}
    try:
        table = pcsv.read_csv(
            source,
            convert_options=pcsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, include_columns=list(SOURCE_COLUMNS)
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise OnlineRetailError(str(source), f"not an Online Retail CSV ({exc})") from exc
    return table


def _to_unix_seconds(dates: pa.ChunkedArray, source: Path) -> pa.ChunkedArray:
    """Naive 'YYYY-MM-DD HH:MM:SS' London local time -> Unix seconds (DST overlaps: the earlier instant)."""
    try:
        local = pc.strptime(dates, format="%Y-%m-%d %H:%M:%S", unit="s")
    except pa.ArrowInvalid as exc:
        raise OnlineRetailError(f"{source}: InvoiceDate", str(exc)) from exc
    utc = pc.assume_timezone(local, SOURCE_TIMEZONE, ambiguous="earliest", nonexistent="earliest")
    return pc.cast(utc, pa.int64())


class _Cleaner:
    def __init__(self, table: pa.Table, result: ConversionResult) -> None:
        self.table = table
        self.result = result

    def drop(self, name: str, mask: pa.ChunkedArray | pa.Array) -> None:
        """Remove rows where `mask` is true (null counts as true) and record the step."""
        keep = pc.invert(pc.fill_null(mask, True))
        before = self.table.num_rows
        self.table = self.table.filter(keep)
        customers = pc.count_distinct(self.table["CustomerID"]).as_py()
        codes = pc.count_distinct(self.table["StockCode"]).as_py()
        removed = before - self.table.num_rows
        self.result.steps.append(CleaningStep(name, removed, self.table.num_rows, customers, codes))


def _pick_per_key(keys: pa.ChunkedArray, values: pa.ChunkedArray, times: pa.ChunkedArray) -> dict[str, str]:
    """For each key, its most frequent value; ties go to the value seen latest."""
    grouped = (
        pa.table({"k": keys, "v": values, "t": times})
        .group_by(["k", "v"])
        .aggregate([("t", "count"), ("t", "max")])
        .sort_by([("k", "ascending"), ("t_count", "descending"), ("t_max", "descending"), ("v", "ascending")])
    )
    chosen: dict[str, str] = {}
    for k, v in zip(grouped.column("k").to_pylist(), grouped.column("v").to_pylist(), strict=True):
        chosen.setdefault(k, v)
    return chosen


def _median_per_group(codes: np.ndarray, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique group ids and the exact median price of each."""
    order = np.lexsort((prices, codes))
    codes, prices = codes[order], prices[order]
    uniq, start, count = np.unique(codes, return_index=True, return_counts=True)
    lo = start + (count - 1) // 2
    hi = start + count // 2
    return uniq, (prices[lo] + prices[hi]) / 2.0


def convert_with_report(
    source: Path, out_dir: Path, *, config: dict[str, Any] | None = None
) -> ConversionResult:
    """Clean `source` and write interactions.csv, users.csv and items.csv into `out_dir`."""
    source, out_dir = Path(source), Path(out_dir)
    config = config or load_config()
    schemas = load_dataset_schemas(config)
    raw = _read(source)
    result = ConversionResult(paths={}, source_rows=raw.num_rows)
    clean = _Cleaner(raw, result)
    t = clean.table
    customer = pc.utf8_trim_whitespace(t["CustomerID"])
    clean.table = t.set_column(t.schema.get_field_index("CustomerID"), "CustomerID", customer)
    clean.drop("no customer", pc.equal(pc.utf8_length(clean.table["CustomerID"]), 0))
    clean.drop("cancellation (InvoiceNo C...)", pc.starts_with(clean.table["InvoiceNo"], "C"))
    clean.drop("quantity <= 0", pc.less_equal(clean.table["Quantity"], 0))
    clean.drop("unit price <= 0", pc.less_equal(clean.table["UnitPrice"], 0))
    # Stock codes are case-insensitive in this log (85123a and 85123A are one product).
    t = clean.table
    codes = pc.utf8_upper(pc.utf8_trim_whitespace(t["StockCode"]))
    clean.table = t.set_column(t.schema.get_field_index("StockCode"), "StockCode", codes)
    non_product = pc.invert(pc.match_substring_regex(clean.table["StockCode"], NON_PRODUCT_RULE.pattern))
    dropped = clean.table.filter(pc.fill_null(non_product, True))["StockCode"].value_counts().to_pylist()
    result.non_product_codes = {str(d["values"]): int(d["counts"]) for d in dropped}
    clean.drop("non-product stock code", non_product)
    t = clean.table
    if t.num_rows == 0:
        raise OnlineRetailError(str(source), "no rows left after cleaning")

    user = pc.replace_substring_regex(t["CustomerID"], r"\.0+$", "")
    item = t["StockCode"]
    timestamp = _to_unix_seconds(t["InvoiceDate"], source)
    revenue = pc.multiply(pc.cast(t["Quantity"], pa.float64()), t["UnitPrice"])
    description = pc.utf8_trim_whitespace(pc.fill_null(t["Description"], ""))

    # One interaction per customer, item and invoice time: repeated lines of an invoice (or two invoices
    # in the same minute) are one purchase, not exact duplicates that Personalize would count twice.
    lines = pa.table({"u": user, "i": item, "ts": timestamp, "rev": revenue})
    merged = lines.group_by(["u", "i", "ts"], use_threads=False).aggregate([("rev", "sum")])
    result.merged_lines = lines.num_rows - merged.num_rows
    merged = merged.sort_by([("ts", "ascending"), ("u", "ascending"), ("i", "ascending")])
    interactions = pa.table(
        {
            "USER_ID": merged["u"],
            "ITEM_ID": merged["i"],
            "TIMESTAMP": merged["ts"],
            "EVENT_TYPE": pa.array(["Purchase"] * merged.num_rows),
            "EVENT_VALUE": pc.round(merged["rev_sum"], 2),
        }
    )

    users = _users(user, t["Country"], timestamp, revenue)
    items = _items(item, description, t["UnitPrice"], timestamp, config)
    result.codes_with_several_descriptions = _count_multi(item, description)
    out_dir.mkdir(parents=True, exist_ok=True)
    for dataset_type, table in (("interactions", interactions), ("users", users), ("items", items)):
        fields = [f["name"] for f in schemas[dataset_type]["fields"]]
        path = out_dir / f"{dataset_type}.csv"
        with path.open("wb") as sink:
            write_csv_table(sink, table.select(fields), header=True)
        result.paths[dataset_type] = path
        result.counts[dataset_type] = table.num_rows
    l1 = items["CATEGORY_L1"].value_counts().to_pylist()
    result.categories = {str(d["values"]): int(d["counts"]) for d in sorted(l1, key=lambda d: -d["counts"])}
    return result


def _count_multi(item: pa.ChunkedArray, description: pa.ChunkedArray) -> int:
    pairs = pa.table({"i": item, "d": description}).group_by(["i", "d"]).aggregate([])
    per_item = pairs.group_by("i").aggregate([("d", "count")])
    return int(pc.sum(pc.greater(per_item["d_count"], 1)).as_py() or 0)


def _users(
    user: pa.ChunkedArray, country: pa.ChunkedArray, timestamp: pa.ChunkedArray, revenue: pa.ChunkedArray
) -> pa.Table:
    """One row per customer: most frequent country; tier by total spend (top 10 % gold, next 30 % silver)."""
    countries = _pick_per_key(user, pc.fill_null(country, "Unspecified"), timestamp)
    spend = pa.table({"u": user, "r": revenue}).group_by("u").aggregate([("r", "sum")]).sort_by("u")
    ids = spend["u"].to_pylist()
    total = spend["r_sum"].to_numpy()
    # Percentile rank by spend (ties by id order are irrelevant at these sizes).
    pct = np.argsort(np.argsort(total, kind="stable"), kind="stable") / max(len(total) - 1, 1)
    tier = np.where(pct >= 0.9, "gold", np.where(pct >= 0.6, "silver", "bronze"))
    return pa.table(
        {
            "USER_ID": ids,
            "AGE": pa.nulls(len(ids), pa.int32()),
            "MEMBERSHIP_TIER": pa.array(tier.tolist(), pa.string()),
            "COUNTRY": [countries[u] for u in ids],
        }
    )


def _items(
    item: pa.ChunkedArray,
    description: pa.ChunkedArray,
    price: pa.ChunkedArray,
    timestamp: pa.ChunkedArray,
    config: dict[str, Any],
) -> pa.Table:
    """One row per stock code: chosen description, keyword category, median price, first sale, links."""
    chosen = _pick_per_key(item, description, timestamp)
    encoded = pc.dictionary_encode(item).combine_chunks()
    dictionary = encoded.dictionary.to_pylist()
    idx = encoded.indices.to_numpy()
    uniq, median = _median_per_group(idx, price.to_numpy())
    first = np.full(len(dictionary), np.iinfo(np.int64).max)
    np.minimum.at(first, idx, timestamp.to_numpy())
    ids = [dictionary[i] for i in uniq.tolist()]
    texts = [chosen[i] or i for i in ids]
    categories = [categorize(text) for text in texts]
    url = item_url_template(config)
    table = pa.table(
        {
            "ITEM_ID": ids,
            "CATEGORY_L1": [c[0] for c in categories],
            "CATEGORY_L2": pa.array([c[1] for c in categories], pa.string()),
            "PRICE": np.round(median, 2),
            "CREATION_TIMESTAMP": first[uniq],
            "NAME": [title_case(text) for text in texts],
            "URL": fill_template(url, ids),
            "IMAGE": fill_template(image_url_template(url), ids),
            "DESCRIPTION": texts,
        }
    )
    return table.sort_by("ITEM_ID")


def convert(source: Path, out_dir: Path) -> dict[str, Path]:
    """Convert the Online Retail CSV(.gz) at `source` into `out_dir`; returns dataset type -> path."""
    return convert_with_report(source, out_dir).paths


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.online_retail", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="directory for interactions/users/items.csv")
    parser.add_argument(
        "--source", type=Path, default=None, help="Online Retail CSV(.gz); default: shared copy"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        result = convert_with_report(args.source or default_source(), args.out)
    except (OnlineRetailError, OSError) as exc:
        print(f"online-retail: {exc}", file=sys.stderr)
        return 1
    out(result.format_text())
    out(f"converted in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
