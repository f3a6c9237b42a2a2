"""The shape of routing.yaml and catalog.yaml, checked by pydantic (types, unknown keys).
Cross-references (suppliers named by rules, identifiers per adapter, shadowed rules) are
checked afterwards in :mod:`integrator.store_config.loading`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)


def _one_or_many(value: Any) -> Any:
    """Let a single value stand for a one-element list (``product_type: Hat``)."""
    return (
        [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value
    )


TextList = Annotated[list[str], BeforeValidator(_one_or_many)]


def _empty_as_unset(value: Any) -> Any:
    """``${VAR:-}`` with VAR unset reads as an empty string: the key's default applies."""
    return None if value == "" else value


OptionalPositiveInt = Annotated[PositiveInt | None, BeforeValidator(_empty_as_unset)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class Open(BaseModel):
    """A section whose extra keys are checked by hand (supplier options, identifiers)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)


# --- routing.yaml ------------------------------------------------------------------------------


class SupplierSection(Open):
    adapter: str | None = None  # default: the supplier's own name
    base_url: str | None = None


class CommonOptions(Strict):
    callback_secret: str | None = None
    # our public callback address for this supplier, where its API takes one per order or
    # per registration (Prodigi's callbackUrl, `integrator suppliers setup`)
    callback_url: str | None = None
    timeout_seconds: PositiveFloat = 30.0
    # calls a minute this account may make, when the supplier allows it more than its
    # published limit (the adapter's RATE_LIMIT_PER_MINUTE); shared by every process
    rate_limit_per_minute: OptionalPositiveInt = None


class PrintfulOptions(CommonOptions):
    api_key: str
    store_id: str | None = None
    confirm: bool = True
    webhook_secret: str | None = None  # Printful's own signing secret for webhooks v2


class PrintifyOptions(CommonOptions):
    api_key: str
    shop_id: str
    send_to_production: bool = True


class GelatoOptions(CommonOptions):
    api_key: str
    order_type: Literal["draft", "order"] = "order"
    # after a create without an answer, look our reference up no sooner than this after the
    # timeout (Gelato may still be making the order); default: timeout_seconds again
    lookup_delay_seconds: PositiveFloat | None = None


class ProdigiOptions(CommonOptions):
    api_key: str
    shipping_method: Literal["Budget", "Standard", "Express", "Overnight"] = "Standard"


ADAPTER_OPTIONS: dict[str, type[CommonOptions]] = {
    "printful": PrintfulOptions,
    "printify": PrintifyOptions,
    "gelato": GelatoOptions,
    "prodigi": ProdigiOptions,
}


class DecorationSourceSection(Strict):
    line_item_property: str | None = None
    variant_option: str | None = None
    product_metafield: str | None = None
    product_tag_prefix: str | None = None
    sku_suffix: dict[str, str] | None = None
    sku_pattern: dict[str, str] | None = None
    product_type_default: dict[str, str] | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> DecorationSourceSection:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "each decoration source names exactly one of line_item_property, "
                "variant_option, product_metafield, product_tag_prefix, sku_suffix, "
                "sku_pattern, product_type_default"
            )
        return self


class MatchSection(Strict):
    product_type: TextList | None = None
    vendor: TextList | None = None
    sku: TextList | None = None
    tags: TextList | None = None
    decoration: TextList | None = None
    ship_to_country: TextList | None = None
    personalised: bool | None = None


class RuleSection(Strict):
    name: str | None = None
    match: MatchSection = MatchSection()
    supplier: str
    fallback: TextList = []


class ShopifySection(Strict):
    trigger_topic: Literal["orders/paid", "orders/create"] = "orders/paid"
    notify_customer: bool = True
    mirror_stage: bool = False
    test_orders: Literal["hold", "ignore", "route"] = "hold"
    locations: TextList = []
    fulfillment_service_name: str = "Print on demand (integrator)"


StageName = Literal["received", "routed", "submitted", "in_production", "on_hold", "shipped"]


class ProductionOverrideSection(Strict):
    supplier: str | None = None
    product_type: str | None = None
    expected_days: dict[StageName, NonNegativeFloat]


class ProductionSection(Strict):
    expected_days: dict[StageName, NonNegativeFloat] = {}
    overrides: list[ProductionOverrideSection] = []


class ReconcileIntervals(Strict):
    missed_orders: PositiveInt = 900
    silent_suppliers: PositiveInt = 1800
    failed_syncs: PositiveInt = 600
    stuck_items: PositiveInt = 3600
    retention: PositiveInt = 86400
    webhook_subscriptions: PositiveInt = 3600
    fulfillment_requests: PositiveInt = 600


class ReconcileSection(Strict):
    intervals: ReconcileIntervals = ReconcileIntervals()
    not_ready_after: PositiveInt = 21600
    silent_supplier_after: PositiveInt = 172800
    missed_orders_overlap: NonNegativeInt = 3600
    raw_body_retention_days: PositiveInt = 30
    personal_data_retention_days: PositiveInt = 90


class AlertsSection(Strict):
    webhook_url: str | None = None


class RoutingFile(Strict):
    suppliers: dict[str, SupplierSection] = {}
    decoration: list[DecorationSourceSection] = []
    decoration_aliases: dict[str, str] = {}
    rules: list[RuleSection] = []
    unmatched: str = "hold"
    shopify: ShopifySection = ShopifySection()
    production: ProductionSection = ProductionSection()
    reconcile: ReconcileSection = ReconcileSection()
    alerts: AlertsSection = AlertsSection()


# --- catalog.yaml ------------------------------------------------------------------------------


class PrintFileSection(Strict):
    placement: str
    url: str
    kind: str = "default"


class PersonalisationSection(Strict):
    property: str
    carry_as: Literal["file", "option", "packing_note"] = Field(alias="as")
    placement: str | None = None
    url_template: str | None = None
    kind: str = "default"
    option: str | None = None
    label: str | None = None


class ListingSection(Open):
    files: list[PrintFileSection] = []
    options: dict[str, str] = {}
    personalisation: list[PersonalisationSection] | None = None


class CatalogEntrySection(Open):
    sku: str | None = None
    variant_id: str | None = None
    title: str | None = None
    product_type: str | None = None
    vendor: str | None = None
    tags: TextList = []
    personalisation: list[PersonalisationSection] = []
