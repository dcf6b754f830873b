"""Which certificate authorities the provider trusts, on the sync and the async path alike."""

from __future__ import annotations

import os
import ssl

#: Where a user points the provider at their own CA bundle (a TLS-intercepting proxy's CA, say).
#: requests' own variables, so one setting covers the worker (requests) and the triggerer (aiohttp).
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def ca_bundle() -> str:
    """The CA bundle (PEM file) to verify Stripe's certificate with: the first of
    :data:`CA_BUNDLE_VARIABLES` that is set, else certifi's bundle (what requests uses).

    aiohttp on its own would read OpenSSL's system store instead, so a worker and a triggerer on the
    same machine could disagree about the same certificate; both clients read this.
    """
    for name in CA_BUNDLE_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    import certifi

    return certifi.where()


def ssl_context() -> ssl.SSLContext:
    """An SSL context for aiohttp that trusts :func:`ca_bundle` (and verifies host names)."""
    return ssl.create_default_context(cafile=ca_bundle())
