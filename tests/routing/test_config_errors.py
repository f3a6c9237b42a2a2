"""Every documented configuration problem is reported with file, key path and line."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from integrator.domain.stages import Stage
from integrator.store_config import ConfigError, ConfigProblem, load_store_config
from integrator.store_config.operations import TriggerTopic
from tests.credentials import SUPPLIER_ENV

# a callback secret long enough for the credential checks (a test value, used nowhere else)
CALLBACK_SECRET = "test-callback-secret-0123456789abcdef"
GOOD_ROUTING = """\
suppliers:
  printful: {adapter: printful, api_key: k, callback_secret: CALLBACK_SECRET}
  gelato: {adapter: gelato, api_key: k, callback_secret: CALLBACK_SECRET}
rules:
  - name: hats
    match: {product_type: Hat}
    supplier: printful
    fallback: [gelato]
""".replace("CALLBACK_SECRET", CALLBACK_SECRET)
GOOD_CATALOG = """\
- sku: HAT-1
  printful: {variant_id: 1}
"""


def write(folder: Path, routing: str = GOOD_ROUTING, catalog: str = GOOD_CATALOG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "routing.yaml").write_text(textwrap.dedent(routing))
    (folder / "catalog.yaml").write_text(textwrap.dedent(catalog))
    return folder


def problems_of(
    folder: Path, environ: dict[str, str] | None = None, shop: str | None = None
) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_store_config(folder, environ or {}, shop)
    return caught.value.problems


def located(problems: list[ConfigProblem], root: Path) -> set[tuple[str, str, int | None]]:
    return {(Path(p.file).name, p.key_path, p.line) for p in problems}


def test_the_good_files_load(tmp_path: Path) -> None:
    config = load_store_config(write(tmp_path), {})
    assert list(config.suppliers) == ["printful", "gelato"]
    assert config.rules[0].chain == ("printful", "gelato")


# (routing.yaml, catalog.yaml, expected file, key path, line, words in the message)
CASES = [
    (
        "unknown supplier in a rule",
        GOOD_ROUTING.replace("supplier: printful", "supplier: printfull"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].supplier",
        7,
        "unknown supplier 'printfull'",
    ),
    (
        "fallback not configured",
        GOOD_ROUTING.replace("[gelato]", "[gelato, prodigi]"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].fallback[1]",
        8,
        "unknown supplier 'prodigi'",
    ),
    (
        "unknown adapter",
        GOOD_ROUTING.replace("adapter: gelato", "adapter: gelatto"),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.gelato.adapter",
        3,
        "unknown adapter 'gelatto'",
    ),
    (
        "missing adapter option",
        GOOD_ROUTING.replace("{adapter: gelato, api_key: k,", "{adapter: gelato,"),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.gelato.api_key",
        3,
        "missing required key",
    ),
    (
        "unknown supplier option",
        GOOD_ROUTING.replace("api_key: k,", "api_key: k, api_secret: s,", 1),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.printful.api_secret",
        2,
        "unknown key",
    ),
    (
        "bad option type",
        GOOD_ROUTING.replace("api_key: k,", "api_key: k, confirm: maybe,", 1),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.printful.confirm",
        2,
        "valid boolean",
    ),
    (
        "shadowed rule",
        GOOD_ROUTING + "  - name: red hats\n    match: {product_type: [hat], tags: red}\n"
        "    supplier: gelato\n",
        GOOD_CATALOG,
        "routing.yaml",
        "rules[1]",
        9,
        "can never match: the earlier rule 'hats'",
    ),
    (
        "unknown key in a rule",
        GOOD_ROUTING.replace("match: {product_type: Hat}", "match: {product_typ: Hat}"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].match.product_typ",
        6,
        "unknown key",
    ),
    (
        "unknown top-level key",
        GOOD_ROUTING + "rulez: []\n",
        GOOD_CATALOG,
        "routing.yaml",
        "rulez",
        9,
        "unknown key",
    ),
    (
        "unknown decoration in a rule",
        GOOD_ROUTING.replace("{product_type: Hat}", "{product_type: Hat, decoration: glitter}"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].match.decoration[0]",
        6,
        "unknown decoration method 'glitter'",
    ),
    (
        "bad country",
        GOOD_ROUTING.replace("{product_type: Hat}", "{ship_to_country: Germany}"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].match.ship_to_country[0]",
        6,
        "not a two-letter ISO country code",
    ),
    (
        "empty list",
        GOOD_ROUTING.replace("{product_type: Hat}", "{product_type: []}"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].match.product_type",
        6,
        "can never match",
    ),
    (
        "unmatched names no supplier",
        GOOD_ROUTING + "unmatched: holdd\n",
        GOOD_CATALOG,
        "routing.yaml",
        "unmatched",
        9,
        "should be hold, ignore or a configured supplier",
    ),
    (
        "bad sku pattern",
        GOOD_ROUTING + "decoration:\n  - sku_pattern: {'([': dtg}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "decoration[0].sku_pattern.([",
        10,
        "not a valid regular expression",
    ),
    (
        "two kinds in one decoration source",
        GOOD_ROUTING + "decoration:\n  - {line_item_property: A, variant_option: B}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "decoration[0]",
        10,
        "exactly one",
    ),
    (
        "alias to a non-canonical method",
        GOOD_ROUTING + "decoration_aliases: {shiny: gold}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "decoration_aliases.shiny",
        9,
        "not a canonical",
    ),
    (
        "duplicate key",
        GOOD_ROUTING + "unmatched: hold\nunmatched: ignore\n",
        GOOD_CATALOG,
        "routing.yaml",
        "unmatched",
        10,
        "duplicate key",
    ),
    (
        "bad trigger topic",
        GOOD_ROUTING + "shopify: {trigger_topic: orders/updated}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "shopify.trigger_topic",
        9,
        "orders/paid",
    ),
    (
        "bad stage in production",
        GOOD_ROUTING + "production:\n  expected_days: {printing: 2}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "production.expected_days.printing",
        10,
        "in_production",
    ),
    (
        "override for unknown supplier",
        GOOD_ROUTING + "production:\n  overrides:\n    - supplier: spod\n"
        "      expected_days: {submitted: 1}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "production.overrides[0].supplier",
        11,
        "unknown supplier",
    ),
    (
        "negative reconcile interval",
        GOOD_ROUTING + "reconcile:\n  intervals: {stuck_items: -5}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "reconcile.intervals.stuck_items",
        10,
        "greater than 0",
    ),
    (
        "alert url not a url",
        GOOD_ROUTING + "alerts: {webhook_url: slack}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "alerts.webhook_url",
        9,
        "http(s) URL",
    ),
    (
        "yaml syntax",
        GOOD_ROUTING + "rules: [\n",
        GOOD_CATALOG,
        "routing.yaml",
        "",
        10,
        "not valid YAML",
    ),
    (
        "catalog names an unknown supplier",
        GOOD_ROUTING,
        GOOD_CATALOG + "  prodigi: {sku: X}\n",
        "catalog.yaml",
        "[0].prodigi",
        3,
        "unknown supplier 'prodigi'",
    ),
    (
        "catalog entry misses identifiers",
        GOOD_ROUTING,
        "- sku: HAT-1\n  printful:\n    files: []\n",
        "catalog.yaml",
        "[0].printful",
        2,
        "needs variant_id or sync_variant_id",
    ),
    (
        "catalog identifier unknown for the adapter",
        GOOD_ROUTING,
        "- sku: HAT-1\n  gelato: {product_uid: u, variant_id: 3}\n",
        "catalog.yaml",
        "[0].gelato.variant_id",
        2,
        "unknown key",
    ),
    (
        "catalog entry without sku or variant",
        GOOD_ROUTING,
        "- printful: {variant_id: 1}\n",
        "catalog.yaml",
        "[0]",
        1,
        "needs a sku or a variant_id",
    ),
    (
        "duplicate sku",
        GOOD_ROUTING,
        GOOD_CATALOG + GOOD_CATALOG,
        "catalog.yaml",
        "[1]",
        3,
        "duplicate sku HAT-1",
    ),
    (
        "print file not a url",
        GOOD_ROUTING,
        "- sku: HAT-1\n  printful:\n    variant_id: 1\n    files: [{placement: front, url: a.png}]\n",
        "catalog.yaml",
        "[0].printful.files[0].url",
        4,
        "http(s) URL",
    ),
    (
        "file layer without placement",
        GOOD_ROUTING,
        "- sku: HAT-1\n  personalisation:\n    - {property: Photo, as: file}\n"
        "  printful: {variant_id: 1}\n",
        "catalog.yaml",
        "[0].personalisation[0]",
        3,
        "needs a placement",
    ),
    (
        "bad carry-as",
        GOOD_ROUTING,
        "- sku: HAT-1\n  personalisation:\n    - {property: Photo, as: tattoo}\n"
        "  printful: {variant_id: 1}\n",
        "catalog.yaml",
        "[0].personalisation[0].as",
        3,
        "'file', 'option' or 'packing_note'",
    ),
    ("catalog not a list", GOOD_ROUTING, "sku: HAT-1\n", "catalog.yaml", "", 1, "should be a list"),
    (
        "bad supplier name",
        GOOD_ROUTING.replace("  gelato: {", "  Gelato EU: {").replace("[gelato]", "[]"),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.Gelato EU",
        3,
        "a supplier name is lower-case letters",
    ),
    (
        "supplier twice in a chain",
        GOOD_ROUTING.replace("[gelato]", "[gelato, printful]"),
        GOOD_CATALOG,
        "routing.yaml",
        "rules[0].fallback",
        8,
        "a supplier appears twice",
    ),
    (
        "duplicate rule name",
        GOOD_ROUTING + "  - {name: hats, match: {product_type: Mug}, supplier: gelato}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "rules[1].name",
        9,
        "duplicate rule name (also rules[0])",
    ),
    (
        "production override naming neither",
        GOOD_ROUTING + "production:\n  overrides:\n    - expected_days: {submitted: 1}\n",
        GOOD_CATALOG,
        "routing.yaml",
        "production.overrides[0]",
        11,
        "names a supplier, a product_type, or both",
    ),
    (
        "bad supplier url",
        GOOD_ROUTING.replace("api_key: k,", "api_key: k, base_url: ftp://x,", 1),
        GOOD_CATALOG,
        "routing.yaml",
        "suppliers.printful.base_url",
        2,
        "should be an http(s) URL, got 'ftp://x'",
    ),
    (
        "routing not a mapping",
        "- suppliers\n",
        GOOD_CATALOG,
        "routing.yaml",
        "",
        1,
        "should be a mapping of sections",
    ),
    (
        "entry naming no supplier",
        GOOD_ROUTING,
        "- sku: HAT-1\n  title: Hat\n",
        "catalog.yaml",
        "[0]",
        1,
        "the entry names no supplier",
    ),
    (
        "duplicate variant id",
        GOOD_ROUTING,
        "- {variant_id: 7, printful: {variant_id: 1}}\n- {variant_id: 7, printful: {variant_id: 2}}\n",
        "catalog.yaml",
        "[1]",
        2,
        "duplicate variant_id 7 (also [0])",
    ),
    (
        "url template without value",
        GOOD_ROUTING,
        "- sku: HAT-1\n  personalisation:\n    - property: Name\n      as: file\n"
        "      placement: front\n      url_template: https://r.example.com/x.png\n"
        "  printful: {variant_id: 1}\n",
        "catalog.yaml",
        "[0].personalisation[0].url_template",
        6,
        "the template should contain {value}",
    ),
    (
        "identifier of a wrong type",
        GOOD_ROUTING,
        "- sku: HAT-1\n  printful: {variant_id: [1, 2]}\n",
        "catalog.yaml",
        "[0].printful.variant_id",
        2,
        "should be a string or a number",
    ),
]


@pytest.mark.parametrize(
    ("case", "routing", "catalog", "file", "key_path", "line", "words"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_problem_is_located(
    tmp_path: Path,
    case: str,
    routing: str,
    catalog: str,
    file: str,
    key_path: str,
    line: int,
    words: str,
) -> None:
    problems = problems_of(write(tmp_path, routing, catalog))
    matching = [p for p in problems if Path(p.file).name == file and p.key_path == key_path]
    assert matching, f"{case}: got {[str(p) for p in problems]}"
    assert matching[0].line == line, str(matching[0])
    assert words in matching[0].message, str(matching[0])


def test_missing_environment_variable(tmp_path: Path) -> None:
    routing = GOOD_ROUTING.replace("api_key: k,", "api_key: '${PRINTFUL_API_KEY}',", 1)
    (problem,) = problems_of(write(tmp_path, routing))
    assert (problem.key_path, problem.line) == ("suppliers.printful.api_key", 2)
    assert "environment variable PRINTFUL_API_KEY is not set" in problem.message
    assert str(problem) == (
        f"{tmp_path / 'routing.yaml'}:2: suppliers.printful.api_key: {problem.message}"
    )


def test_environment_and_defaults_are_interpolated(tmp_path: Path) -> None:
    routing = GOOD_ROUTING.replace(
        f"{{adapter: printful, api_key: k, callback_secret: {CALLBACK_SECRET}}}",
        "{adapter: printful, api_key: '${PF_KEY}', store_id: '${PF_STORE:-42}', "
        f"base_url: '${{PF_URL:-}}', callback_secret: 'a$$b{CALLBACK_SECRET}'}}",
    )
    config = load_store_config(write(tmp_path, routing), {"PF_KEY": "pf-key-1", "PF_URL": ""})
    printful = config.suppliers["printful"]
    assert printful.options["api_key"] == "pf-key-1"
    assert printful.options["store_id"] == "42"
    assert printful.options["callback_secret"] == f"a$b{CALLBACK_SECRET}"
    assert printful.base_url is None


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    routing = """\
    suppliers:
      printful: {adapter: printful, api_key: "${NO_SUCH_VAR}"}
      spod: {adapter: spod}
    rules:
      - {name: all, supplier: printful}
      - {name: later, match: {product_type: Mug}, supplier: printful, fallback: [gelato]}
    unmatched: ghost
    """
    catalog = """\
    - sku: A
      printful: {}
    """
    problems = problems_of(write(tmp_path, routing, catalog))
    assert located(problems, tmp_path) == {
        ("routing.yaml", "suppliers.printful.api_key", 2),
        ("routing.yaml", "suppliers.printful.callback_secret", 2),
        ("routing.yaml", "suppliers.spod.adapter", 3),
        ("routing.yaml", "rules[1]", 6),
        ("routing.yaml", "rules[1].fallback[0]", 6),
        ("routing.yaml", "unmatched", 7),
        ("catalog.yaml", "[0].printful", 2),
    }
    assert [Path(p.file).name for p in problems] == sorted(Path(p.file).name for p in problems)


def test_missing_file(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "catalog.yaml").unlink()
    (problem,) = problems_of(tmp_path)
    assert problem.file.endswith("catalog.yaml") and "cannot read" in problem.message


def test_shop_files_override_shared_files_one_by_one(tmp_path: Path) -> None:
    write(tmp_path)
    own = tmp_path / "shops" / "other.myshopify.com"
    own.mkdir(parents=True)
    (own / "routing.yaml").write_text(
        GOOD_ROUTING.replace("supplier: printful", "supplier: gelato").replace(
            "[gelato]", "[printful]"
        )
    )
    shared = load_store_config(tmp_path, {})
    other = load_store_config(tmp_path, {}, shop="other.myshopify.com")
    unknown = load_store_config(tmp_path, {}, shop="third.myshopify.com")
    assert shared.rules[0].supplier == unknown.rules[0].supplier == "printful"
    assert other.rules[0].supplier == "gelato"
    assert other.files == (str(own / "routing.yaml"), str(tmp_path / "catalog.yaml"))
    assert other.shop == "other.myshopify.com"


def test_shop_name_must_be_a_domain(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path), shop="../../etc")
    assert "not a shop domain" in problem.message


def test_operational_sections_default_and_lookup(tmp_path: Path) -> None:
    config = load_store_config(write(tmp_path), {})
    assert config.shopify.trigger_topic is TriggerTopic.ORDERS_PAID
    assert config.shopify.notify_customer is True and config.shopify.mirror_stage is False
    assert config.reconcile.intervals["missed_orders"] == 900
    assert config.reconcile.interval("retention") == timedelta(days=1)
    assert config.alerts.webhook_url is None
    assert config.expected_duration(Stage.IN_PRODUCTION, "printful", "Hat") == timedelta(days=5)
    assert config.expected_duration(Stage.DELIVERED, "printful", "Hat") is None


def test_expected_duration_most_specific_override_wins(tmp_path: Path) -> None:
    routing = GOOD_ROUTING + textwrap.dedent("""\
    production:
      expected_days: {in_production: 4, submitted: 1}
      overrides:
        - {product_type: Canvas, supplier: gelato, expected_days: {in_production: 6}}
        - {supplier: gelato, expected_days: {in_production: 2}}
        - {product_type: canvas, expected_days: {in_production: 8}}
    shopify: {trigger_topic: orders/create, mirror_stage: true}
    reconcile: {silent_supplier_after: 60}
    alerts: {webhook_url: "https://hooks.example.com/x"}
    """)
    config = load_store_config(write(tmp_path, routing), {})
    days = [
        config.expected_duration(Stage.IN_PRODUCTION, supplier, product_type)
        for supplier, product_type in [
            ("gelato", "Canvas"),
            ("gelato", "Mug"),
            ("printful", "CANVAS"),
            ("printful", "Mug"),
            ("printful", None),
        ]
    ]
    assert days == [timedelta(days=n) for n in (6, 2, 8, 4, 4)]
    assert config.expected_duration(Stage.SUBMITTED, "gelato", "Canvas") == timedelta(days=1)
    assert config.shopify.trigger_topic is TriggerTopic.ORDERS_CREATE
    assert config.reconcile.silent_supplier_after == 60
    assert config.alerts.webhook_url == "https://hooks.example.com/x"


def test_default_config_folder_loads_with_the_credentials_in_the_environment() -> None:
    config = load_store_config(Path(__file__).parents[2] / "config", SUPPLIER_ENV)
    assert set(config.suppliers) == {"printful", "printify", "gelato", "prodigi"}
    assert config.suppliers["printful"].options["api_key"] == SUPPLIER_ENV["PRINTFUL_API_KEY"]


def test_examples_load() -> None:
    examples = Path(__file__).parents[2] / "config" / "examples"
    for folder in sorted(
        path.parent for path in examples.rglob("routing.yaml") if path.parent.parent.name != "shops"
    ):
        load_store_config(folder, SUPPLIER_ENV)
        for shop_folder in sorted((folder / "shops").glob("*")):
            load_store_config(folder, SUPPLIER_ENV, shop=shop_folder.name)


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    problems = problems_of(tmp_path)
    assert [(Path(p.file).name, p.key_path, p.message.split(":")[0]) for p in problems] == [
        ("catalog.yaml", "", "cannot read"),
        ("routing.yaml", "", "cannot read"),
    ]
