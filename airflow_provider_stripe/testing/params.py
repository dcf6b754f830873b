"""Endpoint parameters as data: each endpoint declares a schema, one small validator reads it.

A schema maps each parameter Stripe documents for the endpoint to a :class:`Field` saying how to read
the (string) form value and whether it is required. Anything not in the schema is refused with
Stripe's ``parameter_unknown``, so a typo in a caller's parameters fails here as it would on Stripe.
An empty string is Stripe's way to unset a field: it reads as ``None``, and is refused for
required fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_stripe import limits
from airflow_provider_stripe.testing.errors import (
    invalid,
    parameter_empty,
    parameter_missing,
    parameter_unknown,
)

Coerce = Callable[[str, Any], Any]
"""Turns the decoded form value of the parameter named by the first argument into its typed value."""


@dataclass(frozen=True)
class Field:
    coerce: Coerce
    required: bool = False


Schema = Mapping[str, Field]


def required(field: Field) -> Field:
    return replace(field, required=True)


def parse(raw: Mapping[str, Any], schema: Schema, prefix: str = "") -> dict[str, Any]:
    """Validate ``raw`` against ``schema``; the result holds only the parameters that were sent."""
    for name in raw:
        if name not in schema:
            raise parameter_unknown(_join(prefix, name))
    parsed: dict[str, Any] = {}
    for name, field in schema.items():
        param = _join(prefix, name)
        if name not in raw:
            if field.required:
                raise parameter_missing(param)
            continue
        value = raw[name]
        if value == "":
            if field.required:
                raise parameter_empty(param)
            parsed[name] = None
            continue
        parsed[name] = field.coerce(param, value)
    return parsed


def _join(prefix: str, name: str) -> str:
    return f"{prefix}[{name}]" if prefix else name


def _scalar(param: str, value: Any, kind: str) -> str:
    if not isinstance(value, str):
        raise invalid(param, f"Invalid {kind}: expected a single value for {param}, not a hash or array.")
    return value


def text(max_length: int | None = None) -> Field:
    def coerce(param: str, value: Any) -> str:
        checked = _scalar(param, value, "string")
        if max_length is not None and len(checked) > max_length:
            raise invalid(
                param,
                f"Invalid string: {checked[:50]}{'...' if len(checked) > 50 else ''}; must be at most "
                f"{max_length} characters",
            )
        return checked

    return Field(coerce)


def matching(pattern: str, expected: str) -> Field:
    """A string all of which ``pattern`` matches (``expected`` says what that is, for the message)."""
    compiled = re.compile(pattern)

    def coerce(param: str, value: Any) -> str:
        checked = _scalar(param, value, "string")
        if not compiled.fullmatch(checked):
            raise invalid(param, f"Invalid {param}: must be {expected}, not '{checked}'.")
        return checked

    return Field(coerce)


def non_blank_text(max_length: int | None = None) -> Field:
    """A string that must hold something other than whitespace (a product's ``name``)."""
    base = text(max_length)

    def coerce(param: str, value: Any) -> str:
        checked: str = base.coerce(param, value)
        if not checked.strip():
            raise invalid(param, f"Invalid {param}: must not be blank.", "parameter_invalid_string_blank")
        return checked

    return Field(coerce)


def statement_descriptor(*, complete: bool) -> Field:
    """Text for a statement (https://docs.stripe.com/get-started/account/statement-descriptors).

    At most 22 characters, at least one Latin letter, none of ``< > \\ ' " *``; a ``complete``
    descriptor (the whole text, not a suffix after the account's prefix) has at least 5 characters.
    """
    minimum = limits.STATEMENT_DESCRIPTOR_MIN_LENGTH if complete else 1

    def coerce(param: str, value: Any) -> str:
        checked = _scalar(param, value, "string")
        if not minimum <= len(checked) <= limits.STATEMENT_DESCRIPTOR_MAX_LENGTH:
            raise invalid(
                param,
                f"Invalid {param}: must be between {minimum} and "
                f"{limits.STATEMENT_DESCRIPTOR_MAX_LENGTH} characters long, "
                f"but '{checked}' has {len(checked)}.",
            )
        if not re.search("[A-Za-z]", checked):
            raise invalid(
                param, f"Invalid {param}: the statement descriptor must contain at least one letter."
            )
        forbidden = sorted({char for char in checked if char in limits.STATEMENT_DESCRIPTOR_FORBIDDEN})
        if forbidden:
            raise invalid(
                param,
                f"Invalid {param}: a statement descriptor cannot contain any of {' '.join(forbidden)}.",
            )
        return checked

    return Field(coerce)


_INTEGER = re.compile(r"-?\d+")


def integer(minimum: int | None = None) -> Field:
    def coerce(param: str, value: Any) -> int:
        value = _scalar(param, value, "integer")
        if not _INTEGER.fullmatch(value):
            raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid(
                param,
                f"This value must be greater than or equal to {minimum}.",
                "parameter_invalid_integer",
            )
        return number

    return Field(coerce)


def flag() -> Field:
    def coerce(param: str, value: Any) -> bool:
        value = _scalar(param, value, "boolean")
        if value not in ("true", "false"):
            raise invalid(param, f"Invalid boolean: {value}")
        return bool(value == "true")

    return Field(coerce)


def choice(*choices: str) -> Field:
    def coerce(param: str, value: Any) -> str:
        value = _scalar(param, value, "string")
        if value not in choices:
            raise invalid(param, f"Invalid {param}: must be one of {', '.join(choices)}")
        return str(value)

    return Field(coerce)


def email(max_length: int | None = None) -> Field:
    """An email address, of at most ``max_length`` characters when Stripe documents a limit."""
    base = text(max_length)

    def coerce(param: str, value: Any) -> str:
        checked: str = base.coerce(param, value)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", checked):
            raise invalid(param, f"Invalid email address: {checked}", "email_invalid")
        return checked

    return Field(coerce)


def items(item: Field, max_items: int | None = None) -> Field:
    """An array whose elements ``item`` reads (``images[0]=...``, ``expand[]=...``)."""

    def coerce(param: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise invalid(param, f"Invalid array: {param} must be an array")
        if max_items is not None and len(value) > max_items:
            raise invalid(param, f"Invalid array: {param} must have at most {max_items} items")
        return [item.coerce(f"{param}[{index}]", element) for index, element in enumerate(value)]

    return Field(coerce)


def texts(max_items: int | None = None) -> Field:
    """An array of strings."""
    return items(text(), max_items)


def nested(schema: Schema) -> Field:
    """A hash with its own schema (an address, shipping details)."""

    def coerce(param: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid(param, f"Invalid hash: {param} must be a hash")
        return parse(value, schema, prefix=param)

    return Field(coerce)


def opaque() -> Field:
    """A documented parameter the emulator accepts as sent without modelling it."""
    return Field(lambda param, value: value)


def metadata() -> Field:
    """Stripe's key/value store: at most 50 keys, keys up to 40 and values up to 500 characters."""

    def coerce(param: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise invalid(param, "Invalid metadata: metadata must be a hash")
        kept = {key: item for key, item in value.items() if item != ""}
        if len(kept) > limits.METADATA_MAX_KEYS:
            raise invalid(
                param,
                f"Invalid metadata: metadata can have up to {limits.METADATA_MAX_KEYS} keys, "
                f"but you passed in {len(kept)} keys",
            )
        for key, item in kept.items():
            if len(key) > limits.METADATA_KEY_MAX_LENGTH:
                raise invalid(
                    param,
                    "Invalid metadata: metadata keys can have up to "
                    f"{limits.METADATA_KEY_MAX_LENGTH} characters, "
                    f"but '{key}' has {len(key)} characters",
                )
            item = _scalar(f"{param}[{key}]", item, "metadata value")
            if len(item) > limits.METADATA_VALUE_MAX_LENGTH:
                raise invalid(
                    param,
                    "Invalid metadata: metadata values can have up to "
                    f"{limits.METADATA_VALUE_MAX_LENGTH} characters, "
                    f"but the value of '{key}' has {len(item)} characters",
                )
        return kept

    return Field(coerce)


ADDRESS: Schema = {name: text() for name in ("city", "country", "line1", "line2", "postal_code", "state")}
