"""Stripe's documented size limits of a product: the one home of these facts, read by the operators'
local checks and by the emulator (which checks with its own code, as an independent model of Stripe).

From the API reference, "Create a product" (https://docs.stripe.com/api/products/create), and the
changelog entry of 2018-10-31 ("Product names now have a character limit").
"""

from __future__ import annotations

PRODUCT_NAME_MAX_LENGTH = 250
PRODUCT_MAX_IMAGES = 8
PRODUCT_UNIT_LABEL_MAX_LENGTH = 12
