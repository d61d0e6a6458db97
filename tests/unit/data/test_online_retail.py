from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from pipeline.config import load_dataset_schemas
from pipeline.online_retail import (
    OnlineRetailError,
    categorize,
    convert,
    convert_with_report,
    default_source,
    is_product_code,
    main,
    title_case,
)
from pipeline.validation import validate_directory, validate_file

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
# One line per cleaning rule, plus lines that exercise descriptions, merging, time zones and countries.
LINES = [
    # kept: winter (GMT = UTC) invoice with a duplicated line of the same item
    "536365,22000,RED MUG,6,2010-12-01 08:26:00,1.0,17850.0,United Kingdom",
    "536365,22000,RED MUG,2,2010-12-01 08:26:00,1.0,17850.0,United Kingdom",
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    # kept: summer (BST = UTC+1); lower-case code is the same product as 85123A
    "550001,85123a,WHITE HANGING HEART T-LIGHT HOLDER,1,2011-06-01 10:00:00,2.95,12347.0,Iceland",
    "550001,22000,red mug damaged,1,2011-06-01 10:00:00,4.0,12347.0,Iceland",
    "550002,22000,RED MUG,3,2011-07-01 09:00:00,2.0,12347.0,Norway",
    "550003,22001,OLD NAME,1,2011-01-05 09:00:00,5.0,12347.0,Iceland",
    '550004,22001,"NEW NAME, WITH COMMA",1,2011-02-05 09:00:00,5.0,12347.0,Iceland',
    # dropped: no customer
    "550005,22000,RED MUG,1,2011-02-05 09:00:00,1.0,,United Kingdom",
    # dropped: cancellation
    "C550006,22000,RED MUG,-1,2011-02-05 09:00:00,1.0,17850.0,United Kingdom",
    # dropped: quantity <= 0 without being a cancellation
    "550007,22000,RED MUG,0,2011-02-05 09:00:00,1.0,17850.0,United Kingdom",
    # dropped: unit price <= 0
    "550008,22000,RED MUG,1,2011-02-05 09:00:00,0.0,17850.0,United Kingdom",
    # dropped: non-product codes
    "550009,POST,POSTAGE,1,2011-02-05 09:00:00,18.0,12347.0,Iceland",
    "550009,M,Manual,1,2011-02-05 09:00:00,3.0,12347.0,Iceland",
    "550010,C2,CARRIAGE,1,2011-02-05 09:00:00,50.0,17850.0,United Kingdom",
    "550010,BANK CHARGES,Bank Charges,1,2011-02-05 09:00:00,15.0,17850.0,United Kingdom",
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "online_retail.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write("\n".join([HEADER, *LINES]) + "\n")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_converted_files_pass_the_validator(source: Path, tmp_path: Path) -> None:
    schemas = load_dataset_schemas()
    for dataset_type, path in convert(source, tmp_path / "out").items():
        # A hand-written fixture is far below Personalize's minimums; everything else must hold.
        report = validate_file(dataset_type, path, schemas[dataset_type], check_minimums=False)
        assert report.ok, report.format_text()
        assert report.problems == []


def test_counts_each_cleaning_step(source: Path, tmp_path: Path) -> None:
    result = convert_with_report(source, tmp_path / "out")
    assert result.source_rows == len(LINES)
    assert [(s.name, s.removed) for s in result.steps] == [
        ("no customer", 1),
        ("cancellation (InvoiceNo C...)", 1),
        ("quantity <= 0", 1),
        ("unit price <= 0", 1),
        ("non-product stock code", 4),
    ]
    assert (result.steps[-1].remaining, result.steps[-1].customers) == (8, 2)
    assert result.non_product_codes == {"POST": 1, "M": 1, "C2": 1, "BANK CHARGES": 1}
    assert "non-product codes dropped" in result.format_text()


def test_writes_headers_in_schema_order(source: Path, tmp_path: Path) -> None:
    paths = convert(source, tmp_path / "out")
    schemas = load_dataset_schemas()
    for dataset_type, path in paths.items():
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ",".join(f["name"] for f in schemas[dataset_type]["fields"])


def test_merges_repeated_lines_of_an_invoice_into_one_purchase_worth_their_total(
    source: Path, tmp_path: Path
) -> None:
    result = convert_with_report(source, tmp_path / "out")
    rows = _rows(result.paths["interactions"])
    red_mug_first_invoice = [r for r in rows if r["USER_ID"] == "17850" and r["ITEM_ID"] == "22000"]
    assert len(red_mug_first_invoice) == 1
    assert float(red_mug_first_invoice[0]["EVENT_VALUE"]) == 8.0  # (6 + 2) x 1.0
    assert result.merged_lines == 1
    assert {r["EVENT_TYPE"] for r in rows} == {"Purchase"}


def test_customer_ids_lose_the_float_suffix(source: Path, tmp_path: Path) -> None:
    paths = convert(source, tmp_path / "out")
    assert {r["USER_ID"] for r in _rows(paths["users"])} == {"17850", "12347"}


def test_invoice_dates_are_london_local_time(source: Path, tmp_path: Path) -> None:
    rows = _rows(convert(source, tmp_path / "out")["interactions"])
    stamps = {(r["USER_ID"], r["ITEM_ID"]): int(r["TIMESTAMP"]) for r in rows}
    assert stamps[("17850", "85123A")] == 1291191960  # 2010-12-01 08:26 GMT
    assert stamps[("12347", "85123A")] == 1306918800  # 2011-06-01 10:00 BST = 09:00 UTC


def test_stock_codes_are_case_insensitive(source: Path, tmp_path: Path) -> None:
    items = {r["ITEM_ID"] for r in _rows(convert(source, tmp_path / "out")["items"])}
    assert items == {"22000", "22001", "85123A"}


def test_each_code_keeps_its_most_frequent_description_then_the_latest(source: Path, tmp_path: Path) -> None:
    result = convert_with_report(source, tmp_path / "out")
    items = {r["ITEM_ID"]: r for r in _rows(result.paths["items"])}
    assert items["22000"]["DESCRIPTION"] == "RED MUG"
    assert items["22000"]["NAME"] == "Red Mug"
    assert items["22001"]["DESCRIPTION"] == "NEW NAME, WITH COMMA"  # a tie: the later one wins
    assert result.codes_with_several_descriptions == 2


def test_items_carry_median_price_first_sale_category_and_links(source: Path, tmp_path: Path) -> None:
    items = {r["ITEM_ID"]: r for r in _rows(convert(source, tmp_path / "out")["items"])}
    mug = items["22000"]
    assert float(mug["PRICE"]) == 1.5  # median of the line prices 1.0, 1.0, 2.0, 4.0
    assert int(mug["CREATION_TIMESTAMP"]) == 1291191960
    assert (mug["CATEGORY_L1"], mug["CATEGORY_L2"]) == ("kitchen", "mug")
    assert mug["URL"] == "https://shop.example.com/product/22000"
    assert mug["IMAGE"].endswith("/22000.jpg")
    assert (items["85123A"]["CATEGORY_L1"], items["85123A"]["CATEGORY_L2"]) == ("lighting", "light")
    assert (items["22001"]["CATEGORY_L1"], items["22001"]["CATEGORY_L2"]) == ("other", "")


def test_users_get_their_most_frequent_country_and_a_spend_tier(source: Path, tmp_path: Path) -> None:
    users = {r["USER_ID"]: r for r in _rows(convert(source, tmp_path / "out")["users"])}
    assert users["12347"]["COUNTRY"] == "Iceland"
    assert users["12347"]["AGE"] == ""
    assert {u["MEMBERSHIP_TIER"] for u in users.values()} <= {"bronze", "silver", "gold"}
    # 17850 spent 23.30, 12347 spent 22.95: the top spender is gold, the bottom one bronze.
    assert (users["17850"]["MEMBERSHIP_TIER"], users["12347"]["MEMBERSHIP_TIER"]) == ("gold", "bronze")


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", ("lighting", "light")),
        ("JUMBO BAG RED RETROSPOT", ("bags", "bag")),
        ("SET OF 3 CAKE TINS PANTRY DESIGN", ("kitchen", "tin")),
        ("PACK OF 72 RETROSPOT CAKE CASES", ("kitchen", "cases")),
        ("ASSORTED COLOUR BIRD ORNAMENT", ("home-decor", "ornament")),
        ("INFLATABLE POLITICAL GLOBE", ("other", None)),
    ],
)
def test_categorizes_by_the_last_keyword_of_the_description(
    description: str, expected: tuple[str, str | None]
) -> None:
    assert categorize(description) == expected


def test_title_case_keeps_apostrophes_and_hyphens_readable() -> None:
    assert title_case("DOLLY'S  T-LIGHT HOLDER ") == "Dolly's T-Light Holder"


@pytest.mark.parametrize(
    ("code", "product"),
    [
        ("85123A", True),
        ("22000", True),
        ("POST", False),
        ("C2", False),
        ("BANK CHARGES", False),
        ("M", False),
    ],
)
def test_product_codes_start_with_five_digits(code: str, product: bool) -> None:
    assert is_product_code(code) is product


def test_default_source_honours_bp_shared_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BP_SHARED_DIR", str(tmp_path))
    assert default_source() == tmp_path / "data" / "online-retail" / "online_retail.csv.gz"


def test_a_missing_source_is_an_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(OnlineRetailError, match=r"nope\.csv\.gz"):
        convert(tmp_path / "nope.csv.gz", tmp_path / "out")


def test_cli_prints_each_step_and_returns_1_on_a_missing_source(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path / "out"), "--source", str(source)]) == 0
    out = capsys.readouterr().out
    assert "cancellation" in out and "non-product" in out and "converted in" in out
    assert main(["--out", str(tmp_path / "out"), "--source", str(tmp_path / "missing.gz")]) == 1


def test_converts_the_real_online_retail_log_to_the_documented_counts(tmp_path: Path) -> None:
    source = default_source()
    if not source.is_file():
        pytest.skip(f"shared data not present at {source}")
    result = convert_with_report(source, tmp_path)
    steps = {s.name: s for s in result.steps}
    assert result.source_rows == 541_909
    assert steps["no customer"].removed == 135_080
    # The README's figures after the basic cleaning, before non-product codes go.
    basic = steps["unit price <= 0"]
    assert (basic.remaining, basic.customers, basic.stock_codes) == (397_884, 4_338, 3_665)
    assert set(result.non_product_codes) == {"POST", "M", "C2", "DOT", "BANK CHARGES", "PADS"}
    assert result.counts["users"] == 4_334  # 4,338 customers less 4 who only paid postage or fees
    assert 3_600 <= result.counts["items"] <= 3_665
    assert 380_000 <= result.counts["interactions"] <= 397_884
    report = validate_directory(str(tmp_path))
    assert report.ok, report.format_text()
    assert report.problems == []
