"""Generate the emulator's accepted parameters and expandable fields from stripe-python's types.

stripe-python 16.1.0 (generated from Stripe's OpenAPI spec for the API version it pins) types each
endpoint's parameters as ``<Resource><Method>Params`` TypedDicts. This script walks the ones the
emulator's endpoints name and writes their shape (types, enums, nested hashes, required keys) to
``airflow_provider_stripe/testing/data/stripe_params.json``, which the emulator reads to accept what
Stripe accepts and refuse the rest ("Received unknown parameter").

The same file holds, per object type the emulator serves (and every type those expand to), the
fields the SDK types ``ExpandableField[...]`` (an id, or the object once expanded), nested ones as
dotted paths (``invoice_settings.default_payment_method``), each with the object types it expands to.

    .venv/airflow-3.3.2/bin/python scripts/generate_stripe_params.py          # rewrite the file
    .venv/airflow-3.3.2/bin/python scripts/generate_stripe_params.py --check  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import decimal
import importlib
import inspect
import json
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import stripe
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_context import StripeContext
from stripe._stripe_object import StripeObject
from typing_extensions import NotRequired, Required, is_typeddict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_stripe.testing.accepted import DATA_FILE  # noqa: E402
from airflow_provider_stripe.testing.resources import ENDPOINTS  # noqa: E402

Spec = dict[str, Any]

REQUEST_OPTIONS = frozenset(stripe.RequestOptions.__annotations__)
"""Per-request options every params class inherits (api_key, idempotency_key...): not parameters."""


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def params_class(name: str) -> type:
    """``ChargeCreateParams`` from ``stripe.params._charge_create_params``."""
    module = importlib.import_module(f"stripe.params._{_snake(name)}")
    cls: type = getattr(module, name)
    return cls


def _alternatives(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (NotRequired, Required):
        return _alternatives(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in _alternatives(arg)]
    return [annotation]


def describe(annotation: Any) -> Spec:
    """One parameter's shape: ``{"type": ..., "unsettable": true?, ...}``."""
    alternatives = [alt for alt in _alternatives(annotation) if alt is not type(None)]
    empty = typing.Literal[""]
    unsettable = empty in alternatives
    alternatives = [alt for alt in alternatives if alt != empty]
    specs = [_describe_one(alt) for alt in alternatives]
    spec = specs[0] if len(specs) == 1 else {"type": "any_of", "options": specs}
    return {**spec, "unsettable": True} if unsettable else spec


def _describe_one(annotation: Any) -> Spec:
    origin = typing.get_origin(annotation)
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation in (float, decimal.Decimal):
        return {"type": "number"}
    if origin is typing.Literal:
        return {"type": "enum", "enum": sorted(str(value) for value in typing.get_args(annotation))}
    if origin in (list, typing.List):  # noqa: UP006 - stripe-python annotates with typing.List
        return {"type": "array", "items": describe(typing.get_args(annotation)[0])}
    if is_typeddict(annotation):
        return {"type": "hash", "fields": fields_of(annotation)}
    if origin in (dict, typing.Dict) or getattr(origin, "__name__", "") == "UntypedStripeObject":  # noqa: UP006
        return {"type": "hash"}
    raise TypeError(f"No parameter shape for {annotation!r}")


def fields_of(cls: Any, skip: frozenset[str] = frozenset()) -> dict[str, Spec]:
    # RequestOptions (inherited) names StripeContext and Mapping, which the params modules do not import.
    hints = typing.get_type_hints(
        cls, localns={"StripeContext": StripeContext, "Mapping": Mapping}, include_extras=True
    )
    required = cls.__required_keys__
    return {
        name: {**describe(hint), **({"required": True} if name in required else {})}
        for name, hint in sorted(hints.items())
        if name not in skip
    }


def api_versions() -> list[str]:
    """Every published API version: the enum of a webhook endpoint's ``api_version`` parameter."""
    spec = fields_of(params_class("WebhookEndpointCreateParams"), REQUEST_OPTIONS)["api_version"]
    versions: list[str] = spec["enum"]
    return versions


SERVED = (
    "account",
    "balance",
    "balance_transaction",
    "card",
    "charge",
    "customer",
    "event",
    "product",
    "refund",
)
"""The object types the emulator answers with (``balance_transaction`` and ``card`` when expanded)."""


def object_classes() -> dict[str, type[StripeObject]]:
    """Every v1 object type of the SDK, by its ``object`` value."""
    return {
        name: getattr(importlib.import_module(module), cls) for name, (module, cls) in OBJECT_CLASSES.items()
    }


def _class_names(classes: Iterable[type]) -> dict[str, type]:
    """Class name to class; a top-level resource (``stripe._account``) wins over a namespaced one."""
    by_depth = sorted(classes, key=lambda cls: -cls.__module__.count("."))
    return {cls.__name__: cls for cls in by_depth}


def _object_kind(alternative: Any, names: Mapping[str, type]) -> str | None:
    """The ``object`` value an annotation names ("" for an object type without one), or None."""
    if isinstance(alternative, typing.ForwardRef):
        alternative = alternative.__forward_arg__
    if isinstance(alternative, str):  # names imported under TYPE_CHECKING ("Card as CardResource")
        alternative = names.get(alternative.removesuffix("Resource"), alternative)
        if isinstance(alternative, str):
            return ""
    if isinstance(alternative, type) and issubclass(alternative, StripeObject):
        return str(getattr(alternative, "OBJECT_NAME", ""))
    return None


def expandable_fields(cls: type, names: Mapping[str, type], prefix: str = "") -> dict[str, list[str]]:
    """``{path: [object types]}`` for the ``ExpandableField`` fields of ``cls``, nested ones dotted."""
    found: dict[str, list[str]] = {}
    for name, annotation in inspect.get_annotations(cls).items():
        alternatives = [alt for alt in _alternatives(annotation) if alt is not type(None)]
        others = [alt for alt in alternatives if alt is not str]
        kinds = [_object_kind(alt, names) for alt in others]
        if str in alternatives and others and None not in kinds:
            found[prefix + name] = sorted({kind for kind in kinds if kind is not None})
        elif len(alternatives) == 1 and kinds == [""] and isinstance(alternatives[0], type):
            found.update(expandable_fields(alternatives[0], names, f"{prefix}{name}."))
    return found


def expandable() -> dict[str, dict[str, list[str]]]:
    """Per object type the emulator serves, and every type reachable by expanding, its expandable fields."""
    classes = object_classes()
    names = _class_names(classes.values())
    result: dict[str, dict[str, list[str]]] = {}
    pending = list(SERVED)
    while pending:
        kind = pending.pop()
        if kind in result or kind not in classes:
            continue
        result[kind] = expandable_fields(classes[kind], names)
        pending.extend(target for targets in result[kind].values() for target in targets)
    return dict(sorted(result.items()))


def generate() -> dict[str, Any]:
    """The pinned versions, the published API versions, per params class its parameters, and per
    object type its expandable fields."""
    names = sorted({endpoint.params for endpoint in ENDPOINTS})
    return {
        "stripe_python": stripe.VERSION,
        "api_version": stripe.api_version,
        "api_versions": api_versions(),
        "params": {name: fields_of(params_class(name), REQUEST_OPTIONS) for name in names},
        "expandable": expandable(),
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the data file is out of date")
    args = parser.parse_args()
    text = render(generate())
    if args.check:
        if DATA_FILE.read_text() != text:
            print(f"{DATA_FILE.relative_to(ROOT)} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    DATA_FILE.write_text(text)
    print(f"wrote {DATA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
