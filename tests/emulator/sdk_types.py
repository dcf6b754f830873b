"""Compare a JSON object from the emulator with stripe-python 16.1.0's type for it, field by field.

The SDK's resource classes (``stripe.Charge``, ``stripe.Charge.PaymentMethodDetails.Card``...) are
generated from Stripe's OpenAPI spec for the pinned API version: their annotations are the fields
Stripe sends and the types of their values. :func:`differences` walks an object against them and
lists each field the emulator leaves out, each it adds, and each value of the wrong type.

The SDK types say what a field holds, not whether Stripe sends it: many optional fields appear only
when they apply (``company`` on a company account, ``moto`` on a MOTO payment). So a field counts as
missing when Stripe's own object fixture (``objects.json``, given as ``fixture``) has it, or, where
there is no fixture for that part of the object, when the SDK does not type it ``Optional``.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, ForwardRef

from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject

OMITTED: Mapping[str, frozenset[str]] = {
    # Shown only when expanded (changelog 2022-11-15; changelog 2020-08-27; Customer object).
    "Charge": frozenset({"refunds"}),
    "Customer": frozenset({"cash_balance", "deleted", "invoice_credit_balance", "sources", "subscriptions",
                           "tax", "tax_ids"}),
    # Sent only on a deleted object.
    "Product": frozenset({"deleted"}),
    "Card": frozenset({"deleted"}),
    # Sent only for the balance types an account has (API reference, Balance object).
    "Balance": frozenset({"connect_reserved", "instant_available", "issuing",
                          "refund_and_dispute_prefunding"}),
}  # fmt: skip
"""Per SDK class, the fields Stripe leaves out of a response unless they apply."""

ONE_OF: Mapping[str, str] = {"PaymentMethodDetails": "type", "DestinationDetails": "type"}
"""Hashes holding only the sub-hash their ``type`` names (``payment_method_details.card``)."""


@cache
def _resources() -> dict[str, type]:
    by_depth = sorted(
        (getattr(importlib.import_module(module), name) for module, name in OBJECT_CLASSES.values()),
        key=lambda cls: -cls.__module__.count("."),
    )
    return {cls.__name__: cls for cls in by_depth}


def sdk_class(object_name: str) -> type:
    module, name = OBJECT_CLASSES[object_name]
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def _resolve(annotation: Any) -> Any:
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        return _resources().get(annotation.removesuffix("Resource"), object)
    return annotation


def _alternatives(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _alternatives(arg)]
    return [_resolve(annotation)]


def fields(cls: type) -> dict[str, Any]:
    """The annotated fields of an SDK object class (its own and its StripeObject bases'), no ClassVars."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if isinstance(klass, type) and issubclass(klass, StripeObject) and klass is not StripeObject:
            for name, annotation in inspect.get_annotations(klass).items():
                if typing.get_origin(annotation) is not typing.ClassVar:
                    found[name] = annotation
    return found


def differences(value: Mapping[str, Any], cls: type, where: str, fixture: Any = None) -> Iterator[str]:
    """``missing <path>``, ``extra <path>`` and ``wrong type <path>`` for ``value`` against ``cls``.

    :param fixture: Stripe's own object of the same type, when there is one: what Stripe sends.
    """
    expected = fields(cls)
    object_name = getattr(cls, "OBJECT_NAME", None)
    if object_name and "object" not in expected:  # ListObject types its data, not its object: "list"
        expected["object"] = typing.Literal[object_name]
    selector = ONE_OF.get(cls.__name__)
    chosen = value.get(selector) if selector else None
    sample = fixture if isinstance(fixture, Mapping) else None
    for name, annotation in expected.items():
        path = f"{where}.{name}"
        if name not in value:
            sent = name in sample if sample is not None else type(None) not in _alternatives(annotation)
            omitted = name in OMITTED.get(cls.__name__, ()) or (selector and name not in (selector, chosen))
            if sent and not omitted:
                yield f"missing {path}"
            continue
        yield from _check(value[name], annotation, path, sample.get(name) if sample is not None else None)
    for name in value:
        if name not in expected:
            yield f"extra {where}.{name}"


def _check(value: Any, annotation: Any, path: str, fixture: Any = None) -> Iterator[str]:
    alternatives = _alternatives(annotation)
    if value is None:
        if type(None) not in alternatives:
            yield f"wrong type {path}: null"
        return
    candidates = [alt for alt in alternatives if alt is not type(None)]
    if isinstance(value, dict) and "object" in value:  # a union of objects: the one it says it is
        named = [alt for alt in candidates if getattr(alt, "OBJECT_NAME", None) == value["object"]]
        candidates = named or candidates
    attempts = [list(_check_one(value, alt, path, fixture)) for alt in candidates]
    if not attempts or any(not problems for problems in attempts):
        return
    if len(attempts) == 1 or isinstance(value, (dict, list)):
        yield from min(attempts, key=len)  # the shape it comes closest to, and how it differs
    else:
        yield f"wrong type {path}: {type(value).__name__} {value!r:.40}"


def _check_one(value: Any, annotation: Any, path: str, fixture: Any) -> Iterator[str]:
    origin = typing.get_origin(annotation)
    if annotation is Any or annotation is object or isinstance(annotation, typing.TypeVar):
        return  # a list's items: checked against their own type
    if origin is typing.Literal:
        if value not in typing.get_args(annotation):
            yield f"wrong type {path}: {value!r} not one of {typing.get_args(annotation)}"
        return
    if annotation is str or annotation is bool:
        if type(value) is not annotation:
            yield f"wrong type {path}: {type(value).__name__}"
        return
    if annotation is int:
        if type(value) is not int:
            yield f"wrong type {path}: {type(value).__name__}"
        return
    if annotation in (float, Decimal):
        if type(value) not in (int, float, str):
            yield f"wrong type {path}: {type(value).__name__}"
        return
    if origin in (list, typing.List):  # noqa: UP006 - the SDK annotates with typing.List
        if not isinstance(value, list):
            yield f"wrong type {path}: {type(value).__name__}"
            return
        (item,) = typing.get_args(annotation)
        sample = fixture[0] if isinstance(fixture, list) and fixture else None
        for index, element in enumerate(value):
            yield from _check(element, item, f"{path}[{index}]", sample)
        return
    if origin is ListObject or annotation is ListObject:
        if not isinstance(value, dict) or value.get("object") != "list":
            yield f"wrong type {path}: not a list object"
            return
        (item,) = typing.get_args(annotation) or (object,)
        for index, element in enumerate(value["data"]):
            yield from _check(element, item, f"{path}.data[{index}]")  # Stripe's fixtures list nothing
        return
    if origin in (dict, typing.Dict) or getattr(origin, "__name__", "") == "UntypedStripeObject":  # noqa: UP006
        if not isinstance(value, dict):
            yield f"wrong type {path}: {type(value).__name__}"
        return
    if isinstance(annotation, type) and issubclass(annotation, StripeObject):
        if not isinstance(value, dict):
            yield f"wrong type {path}: {type(value).__name__}"
            return
        object_name = getattr(annotation, "OBJECT_NAME", None)
        if object_name and value.get("object") not in (object_name, None):
            yield f"wrong type {path}: a {value.get('object')}, not a {object_name}"
            return
        same_kind = isinstance(fixture, Mapping) and fixture.get("object") == value.get("object")
        yield from differences(value, annotation, path, fixture if same_kind else None)
        return
    yield f"wrong type {path}: no check for {annotation!r}"
