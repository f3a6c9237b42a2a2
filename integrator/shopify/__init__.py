"""Everything that speaks to Shopify's Admin API (the webhook receiver lives in ``webhooks/``).

- ``tokens``: TokenCipher (MultiFernet at rest), ShopToken, ShopTokenStore, TokenProvider with
  the client-credentials, token-exchange/refresh and static-token sources (via shopify_app).
- ``transport``: the one pooled ``httpx.Client``, and the ``SHOPIFY_ADMIN_URL`` override.
- ``client``: AdminClient, Admin GraphQL through shopify_app, paced per shop from
  ``throttleStatus`` (``throttle``), retried with tenacity, named errors (``errors``).
- ``operations/*.graphql``: every document sent, validated against the schema in ``schema/``.
- ``enrichment``: fetch_order (routing's source of truth), iter_orders_updated_since.
- ``fulfillment``: create_fulfillment, update_tracking, mirror_stage.
- ``webhook_verification``: verify_webhook / sign_webhook; ``setup``: subscriptions, scopes.
- ``connection``: build_admin_client(settings, store) for the composition root.
"""
