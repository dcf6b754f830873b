"""Every templated parameter says so in its class's docstring, as Airflow's providers do: the API
reference (docs/reference) is generated from these docstrings, and a user reading it must know which
parameters take Jinja."""

from __future__ import annotations

import re

import pytest
from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_stripe.operators import stripe as operators
from airflow_provider_stripe.sensors import stripe as sensors
from airflow_provider_stripe.transfers import stripe_to_object_storage as transfers

PUBLIC_TASK_CLASSES = [
    cls
    for module in (operators, sensors, transfers)
    for name, cls in vars(module).items()
    if isinstance(cls, type)
    and issubclass(cls, BaseOperator)
    and cls.__module__ == module.__name__
    and not name.startswith("_")
    and cls.template_fields
]


def param_docs(cls: type) -> dict[str, str]:
    """Each ``:param name:`` of the class's own docstring, with its continuation lines."""
    blocks = re.split(r"\n\s*:param ", cls.__doc__ or "")[1:]
    return {block.partition(":")[0]: " ".join(block.partition(":")[2].split()) for block in blocks}


def test_the_classes_are_found() -> None:
    names = {cls.__name__ for cls in PUBLIC_TASK_CLASSES}
    assert {"StripeCreateChargeOperator", "StripeNewChargeSensor", "StripeToObjectStorageOperator"} <= names


@pytest.mark.parametrize("cls", PUBLIC_TASK_CLASSES, ids=lambda cls: cls.__name__)
def test_every_template_field_is_documented_as_templated(cls: type[BaseOperator]) -> None:
    documented = param_docs(cls)
    for name in cls.template_fields:
        assert name in documented, f"{cls.__name__} has no :param {name}: in its docstring"
        assert documented[name].endswith("(templated)"), f"{cls.__name__}: say (templated) on {name}"
    for name, text in documented.items():
        if name not in cls.template_fields:
            assert "(templated)" not in text, f"{cls.__name__}: {name} is not templated"
