"""Pure building blocks of a Stripe call, shared by the sync hook and the async trigger.

Nothing here does I/O: settings come in, request descriptions and parsed answers come out, so
the requests-based hook and the aiohttp-based trigger follow exactly one implementation of each
rule (encoding, headers, error mapping, retry decisions, pagination cursors).
"""
