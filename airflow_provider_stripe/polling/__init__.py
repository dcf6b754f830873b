"""What "new since last time" means for a Stripe list, as pure functions.

The sync sensor and the async trigger both drive :func:`poll` with their own HTTP client, so the
request building, the page walking and the cursor arithmetic exist exactly once.
"""
