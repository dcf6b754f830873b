"""Stripe's documented size limits: the one home of these facts, read by the operators' local checks
(:mod:`~airflow_provider_stripe.validation`) and by the emulator (which checks with its own code, as
an independent model of Stripe). Every limit here names its source; a field without a documented
limit (a charge's ``receipt_email``, the customer list's ``email`` filter) is not limited.

Sources: the API reference, "Create a product" (https://docs.stripe.com/api/products/create), and the
changelog entry of 2018-10-31 ("Product names now have a character limit"); "Metadata"
(https://docs.stripe.com/api/metadata); "Statement descriptors", requirements
(https://docs.stripe.com/get-started/account/statement-descriptors#requirements); "Idempotent
requests" (https://docs.stripe.com/api/idempotent_requests: keys up to 255 characters).
"""

from __future__ import annotations

DESCRIPTION_MAX_LENGTH = 40_000
"""A charge's or a product's ``description``: ``maxLength: 40000`` in Stripe's OpenAPI spec
(https://github.com/stripe/openapi, ``spec3.json``) for both create calls."""

CUSTOMER_NAME_MAX_LENGTH = 256
CUSTOMER_PHONE_MAX_LENGTH = 20
"""The customer's own ``phone``; ``shipping.phone`` has no such limit."""
CUSTOMER_DESCRIPTION_MAX_LENGTH = 350
"""A customer's ``name``, ``phone`` and ``description``: ``maxLength`` 256, 20 and 350 in Stripe's
OpenAPI spec for ``POST /v1/customers`` (API reference, "Create a customer")."""

EMAIL_MAX_LENGTH = 512
"""A customer's ``email``: "This may be up to 512 characters" (stripe-python 16.1.0,
``CustomerCreateParams.email``)."""

MARKETING_FEATURE_NAME_MAX_LENGTH = 80
"""A product's ``marketing_features[].name``: "Up to 80 characters long" (stripe-python 16.1.0,
``ProductCreateParamsMarketingFeature.name``)."""

PRODUCT_NAME_MAX_LENGTH = 250
PRODUCT_MAX_IMAGES = 8
PRODUCT_UNIT_LABEL_MAX_LENGTH = 12

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX_LENGTH = 40
METADATA_VALUE_MAX_LENGTH = 500

STATEMENT_DESCRIPTOR_MAX_LENGTH = 22
#: Of a complete descriptor (the whole text, not a suffix after the account's prefix).
STATEMENT_DESCRIPTOR_MIN_LENGTH = 5
STATEMENT_DESCRIPTOR_FORBIDDEN = "<>\\'\"*"

IDEMPOTENCY_KEY_MAX_LENGTH = 255

INVOICE_PREFIX_PATTERN = r"[A-Z0-9]{1,12}"
"""A customer's ``invoice_prefix``: "Must be 1-12 uppercase letters or numbers" (stripe-python
16.1.0, ``CustomerCreateParams.invoice_prefix``, the pinned API version's parameter docs)."""
