"""Checking parameters before anything is sent to Stripe: the rules are data, read by one validator.

A :class:`Spec` maps each parameter to a :class:`Field` (is it required, is it an integer, an enum,
metadata, a nested hash with its own fields...) and lists the :data:`Rule` s that relate parameters
to each other (exactly one of two, one needed when another has some form). :meth:`Spec.validate`
returns the parameters to send, normalised (``"100"`` becomes ``100``, ``"USD"`` becomes ``"usd"``),
or raises :class:`~airflow_provider_stripe.exceptions.StripeValidationError` naming the field.

Values that are ``None``, ``""`` or an empty dict or list count as absent and are not sent: a
template such as ``"{{ dag_run.conf.get('email', '') }}"`` that renders to nothing leaves the
parameter out rather than asking Stripe to unset it.

:meth:`Spec.check_literals` runs the same checks at DAG-parse time on the values already known
there, skipping Jinja templates and XCom references, which only the rendered values in
``execute()`` can settle.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, ClassVar

from airflow_provider_stripe.currencies import SUPPORTED_CURRENCIES, charge_amount_problem
from airflow_provider_stripe.exceptions import StripeValidationError
from airflow_provider_stripe.limits import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    STATEMENT_DESCRIPTOR_FORBIDDEN,
    STATEMENT_DESCRIPTOR_MAX_LENGTH,
    STATEMENT_DESCRIPTOR_MIN_LENGTH,
)

Check = Callable[[str, Any], Any]
"""Returns the normalised value of the field named by the first argument, or raises."""


class _Unrendered:
    """A value only the running task will know: a Jinja template or an XCom reference."""

    def __repr__(self) -> str:
        return "<unrendered>"


UNRENDERED: Any = _Unrendered()


@dataclass(frozen=True)
class Field:
    """How one parameter is checked and normalised.

    :param check: normalises a present value or raises :class:`StripeValidationError`.
    :param required: whether the parameter must be present (not ``None`` and not empty).
    """

    check: Check
    required: bool = False


def required(spec_field: Field) -> Field:
    return replace(spec_field, required=True)


def _split(names: Sequence[str], present: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Which of ``names`` are present with a known value, and which are present but unrendered."""
    known = [name for name in names if name in present and present[name] is not UNRENDERED]
    pending = [name for name in names if present.get(name) is UNRENDERED]
    return known, pending


@dataclass(frozen=True)
class AtLeastOne:
    """One or more of ``names`` must be present."""

    names: tuple[str, ...]
    exclusive: ClassVar[bool] = False

    def check(self, present: Mapping[str, Any]) -> None:
        known, pending = _split(self.names, present)
        either = " or ".join(self.names)
        if not known and not pending:
            need = f"exactly one of {either}" if self.exclusive else f"{either} (at least one is required)"
            raise invalid(self.names[0], f"give {need}", show_value=False)
        if self.exclusive and len(known) > 1:
            raise invalid(known[1], f"give only one of {either}, not both", show_value=False)


@dataclass(frozen=True)
class ExactlyOne(AtLeastOne):
    """Exactly one of ``names`` must be present."""

    exclusive: ClassVar[bool] = True


@dataclass(frozen=True)
class RequiredWhen:
    """``needed`` must be present when the value of ``name`` starts with one of ``prefixes``."""

    needed: str
    name: str
    prefixes: tuple[str, ...]
    why: str

    def check(self, present: Mapping[str, Any]) -> None:
        value = present.get(self.name)
        if isinstance(value, str) and value.startswith(self.prefixes) and self.needed not in present:
            raise invalid(
                self.needed,
                f"it is required when {self.name} is {_preview(value)}: {self.why}",
                show_value=False,
            )


@dataclass(frozen=True)
class ChargeableAmount:
    """``amount`` (in the smallest unit of ``currency``) must be one Stripe charges: at least the
    currency's minimum, and ending in 0 in a three-decimal currency (see
    :func:`~airflow_provider_stripe.currencies.charge_amount_problem`)."""

    amount: str
    currency: str

    def check(self, present: Mapping[str, Any]) -> None:
        amount, currency = present.get(self.amount), present.get(self.currency)
        if isinstance(amount, int) and isinstance(currency, str):  # both known and well-formed
            problem = charge_amount_problem(amount, currency)
            if problem:
                raise invalid(self.amount, problem, amount)


Rule = ExactlyOne | AtLeastOne | RequiredWhen | ChargeableAmount


@dataclass(frozen=True)
class Spec:
    """The parameters of one call: a field per parameter, and rules across them."""

    fields: Mapping[str, Field]
    rules: tuple[Rule, ...] = field(default=())

    def validate(self, values: Mapping[str, Any], extra_params: Any = None) -> dict[str, Any]:
        """Check ``values`` (one per field) and return the present ones, normalised, plus ``extra_params``.

        :param extra_params: other parameters of the call, sent as given; none may be a field.
        :raises StripeValidationError: naming the first field found wrong.
        """
        checked = {
            name: _check_field(spec_field, name, values.get(name)) for name, spec_field in self.fields.items()
        }
        present = {name: value for name, value in checked.items() if not is_absent(value)}
        for rule in self.rules:
            rule.check(present)
        return {**present, **self._check_extra_params(extra_params)}

    def check_literals(self, values: Mapping[str, Any], extra_params: Any = None) -> None:
        """The same checks on what is known at DAG-parse time: templates and XComArgs are skipped."""
        self.validate(
            {name: _literal_view(value) for name, value in values.items()}, _literal_view(extra_params)
        )

    def _check_extra_params(self, extra_params: Any) -> Mapping[str, Any]:
        if extra_params is None or extra_params is UNRENDERED:
            return {}
        if not isinstance(extra_params, Mapping):
            raise invalid(
                "extra_params", f"it must be a dict of Stripe parameters{_NATIVE_HINT}", extra_params
            )
        for key in extra_params:
            if not isinstance(key, str) or not key:
                raise invalid("extra_params", "its keys must be Stripe parameter names", key)
            if key in self.fields:
                raise invalid(
                    f"extra_params[{key!r}]",
                    f"{key} is a parameter of this operator: pass it as {key}= instead",
                    show_value=False,
                )
        return extra_params


def is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, (str, Mapping, list, tuple)) and len(value) == 0)


def invalid(name: str, problem: str, value: Any = None, *, show_value: bool = True) -> StripeValidationError:
    """The error for one field: its name first, then what is wrong (and what was given)."""
    given = f"; got {_preview(value)}" if show_value else ""
    return StripeValidationError(f"Invalid {name}: {problem}{given}", param=name)


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _check_field(spec_field: Field, name: str, value: Any) -> Any:
    if value is UNRENDERED:
        return value
    if is_absent(value):
        if spec_field.required:
            raise invalid(name, "it is required", value, show_value=value is not None)
        return None
    return spec_field.check(name, value)


_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def is_unrendered(value: Any) -> bool:
    """Whether ``value`` is only known once the task runs: a Jinja template or an XCom reference."""
    return _literal_view(value) is UNRENDERED


def _literal_view(value: Any) -> Any:
    """``value`` with every part not known until the task runs replaced by :data:`UNRENDERED`."""
    if isinstance(value, str):
        return UNRENDERED if any(marker in value for marker in _TEMPLATE_MARKERS) else value
    if value is None or isinstance(value, numbers.Number):  # Decimal too: a literal, checked now
        return value
    if isinstance(value, Mapping):
        return {key: _literal_view(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_literal_view(item) for item in value]
    return UNRENDERED


# Field kinds. Each returns a Field whose check normalises a present value.


def text(
    max_length: int | None = None,
    *,
    pattern: str | None = None,
    lower: bool = False,
    non_blank: bool = False,
    expected: str = "",
) -> Field:
    """A string; ``pattern`` must match all of it (``expected`` says what it looks like).

    :param lower: normalise to lower case (currencies).
    :param non_blank: refuse a value made of whitespace only.
    """
    compiled = re.compile(pattern) if pattern else None

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(name, f"it must be a string{_like(expected)}", value)
        if non_blank and not value.strip():
            raise invalid(name, "it must not be blank", value)
        if max_length is not None and len(value) > max_length:
            raise invalid(name, f"it must be at most {max_length} characters, not {len(value)}", value)
        if compiled and not compiled.fullmatch(value):
            raise invalid(name, f"it must be {expected}", value)
        return value.lower() if lower else value

    return Field(check)


def currency() -> Field:
    """A currency Stripe supports, as its ISO 4217 code in any case; normalised to lower case."""
    shape = text(pattern=r"[A-Za-z]{3}", lower=True, expected="a 3-letter ISO currency code such as usd")

    def check(name: str, value: Any) -> str:
        code: str = shape.check(name, value)
        if code not in SUPPORTED_CURRENCIES:
            raise invalid(
                name,
                "it is not a currency Stripe supports (see https://docs.stripe.com/currencies)",
                value,
            )
        return code

    return Field(check)


def _like(expected: str) -> str:
    return f" ({expected})" if expected else ""


def email(max_length: int | None = None) -> Field:
    """An email address, of at most ``max_length`` characters where Stripe documents a limit."""
    return text(
        max_length, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", expected="an email address like ada@example.com"
    )


_DIGITS = re.compile(r"\d+")


def integer(minimum: int | None = None, *, max_digits: int | None = None, unit: str = "") -> Field:
    """A whole number; an integer-valued string (a rendered template, e.g. ``"100"``) is accepted.

    Floats (even ``1.0``), decimal strings and booleans are refused: Stripe wants whole numbers,
    and silently rounding money is worse than failing.

    :param unit: what the number counts, for the error message.
    """
    what = f"a whole number {unit}" if unit else "a whole number"

    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise invalid(name, f"it must be {what}", value)
        if isinstance(value, str):
            if not _DIGITS.fullmatch(value.strip()):
                raise invalid(name, f"it must be {what}, written with digits only", value)
            number = int(value.strip())
        else:
            number = value
        if minimum is not None and number < minimum:
            raise invalid(name, f"it must be at least {minimum}", value)
        if max_digits is not None and len(str(abs(number))) > max_digits:
            raise invalid(name, f"it must have at most {max_digits} digits", value)
        return number

    return Field(check)


def number(
    minimum: float,
    maximum: float,
    *,
    whole: bool = False,
    strings: bool = True,
    durations: bool = False,
    hint: str = "",
) -> Field:
    """A finite number from ``minimum`` to ``maximum`` (a setting: a timeout, a retry count).

    The one home of numeric range checks: call ``number(...).check(name, value)`` to check a
    single value outside a :class:`Spec`. Booleans, NaN and infinities are refused.

    :param whole: only whole numbers (``2.5`` is refused); the value is returned as an ``int``.
    :param strings: accept a numeric string, as connection forms and templates give.
    :param durations: accept a ``timedelta`` too, as its seconds (a poke interval, a lookback).
    :param hint: why the range is what it is, for the error message.
    """
    what = f"{'a whole number' if whole else 'a number'} from {minimum:g} to {maximum:g}"
    why = f" ({hint})" if hint else ""

    def check(name: str, value: Any) -> float:
        number = _as_number(
            value.total_seconds() if durations and isinstance(value, timedelta) else value, strings
        )
        if number is None or not minimum <= number <= maximum or (whole and not number.is_integer()):
            raise invalid(name, f"it must be {what}{why}", value)
        return int(number) if whole else number

    return Field(check)


def _as_number(value: Any, strings: bool) -> float | None:
    """``value`` as a finite float, or None when it is not a number (or not one that is allowed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and strings:
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def flag() -> Field:
    """A boolean; the strings ``"true"`` / ``"false"`` (any case, as templates render) are accepted."""

    def check(name: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise invalid(name, "it must be true or false", value)

    return Field(check)


def choice(*choices: str) -> Field:
    """One of a fixed set of strings."""

    def check(name: str, value: Any) -> str:
        if value not in choices:
            raise invalid(name, f"it must be one of {', '.join(choices)}", value)
        return str(value)

    return Field(check)


def strings(max_items: int | None = None, *, expected: str = "strings") -> Field:
    """A list of non-empty strings (``images``)."""

    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise invalid(name, f"it must be a list of {expected}{_NATIVE_HINT}", value)
        if max_items is not None and len(value) > max_items:
            raise invalid(name, f"it can hold at most {max_items} items, not {len(value)}", show_value=False)
        for index, item in enumerate(value):
            if item is not UNRENDERED and (not isinstance(item, str) or not item.strip()):
                raise invalid(f"{name}[{index}]", "it must be a non-empty string", item)
        return list(value)

    return Field(check)


_NATIVE_HINT = "; a Jinja template renders a string unless the DAG sets render_template_as_native_obj=True"


def mapping(fields: Mapping[str, Field]) -> Field:
    """A dict with its own fields (an address, shipping details); unknown keys are refused."""

    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise invalid(name, f"it must be a dict{_NATIVE_HINT}", value)
        for key in value:
            if key not in fields:
                raise invalid(
                    f"{name}.{key}",
                    f"{name} has no such field; it takes {', '.join(fields)}",
                    show_value=False,
                )
        checked = {key: _check_field(sub, f"{name}.{key}", value.get(key)) for key, sub in fields.items()}
        return {key: item for key, item in checked.items() if not is_absent(item)}

    return Field(check)


_LATIN_LETTER = re.compile(r"[A-Za-z]")


def statement_descriptor(*, complete: bool) -> Field:
    """Text for a card or bank statement, checked as Stripe does
    (https://docs.stripe.com/get-started/account/statement-descriptors#requirements).

    Every descriptor has at least one Latin letter and none of ``< > \\ ' " *``, and at most 22
    characters. A ``complete`` descriptor (the whole text, not a suffix after the account's
    prefix) has at least 5.
    """
    minimum = STATEMENT_DESCRIPTOR_MIN_LENGTH if complete else 1
    length = f"from {minimum} to {STATEMENT_DESCRIPTOR_MAX_LENGTH} characters"

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(name, "it must be a string", value)
        if not minimum <= len(value) <= STATEMENT_DESCRIPTOR_MAX_LENGTH:
            raise invalid(name, f"it must be {length}, not {len(value)}", value)
        if not _LATIN_LETTER.search(value):
            raise invalid(name, "it must contain at least one letter (A-Z)", value)
        forbidden = sorted({char for char in value if char in STATEMENT_DESCRIPTOR_FORBIDDEN})
        if forbidden:
            raise invalid(name, f"it cannot contain {' '.join(forbidden)}", value)
        return value

    return Field(check)


def metadata() -> Field:
    """Stripe's key/value store: at most 50 keys, keys up to 40 characters (no square brackets)
    and values up to 500. Stripe stores values as strings: a number (``42``, ``1.5``) is sent as its
    text (``"42"``), as the form encoding sends it."""

    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise invalid(name, f"it must be a dict of strings{_NATIVE_HINT}", value)
        if len(value) > METADATA_MAX_KEYS:
            raise invalid(
                name, f"it can hold at most {METADATA_MAX_KEYS} keys, not {len(value)}", show_value=False
            )
        checked: dict[str, Any] = {}
        for key, item in value.items():
            where = f"{name}[{key!r}]"
            if not isinstance(key, str) or not key:
                raise invalid(name, "its keys must be non-empty strings", key)
            _at_most(where, "keys", key, METADATA_KEY_MAX_LENGTH)
            if "[" in key or "]" in key:
                raise invalid(where, "keys cannot contain square brackets", show_value=False)
            if item is UNRENDERED:
                checked[key] = item
                continue
            if isinstance(item, numbers.Real) and not isinstance(item, bool) and math.isfinite(item):
                item = str(item)  # sent as its text, as Stripe stores every value (API reference, Metadata)
            if not isinstance(item, str):
                raise invalid(where, "values must be strings or numbers", item)
            _at_most(where, "values", item, METADATA_VALUE_MAX_LENGTH)
            checked[key] = item
        return checked

    return Field(check)


def _at_most(where: str, what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise invalid(where, f"{what} can be at most {limit} characters, not {len(value)}", show_value=False)
