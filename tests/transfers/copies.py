"""A current copy of Stripe in tests: a seeded workload of changes, and applying export folders to a copy."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stripe

from airflow_provider_stripe.testing import StripeEmulator
from tests.emulator.conftest import sdk_client
from tests.transfers.conftest import read_lines

Copy = dict[str, dict[str, Any]]


class Workload:
    """Random changes through the official SDK, at seconds the test chooses on the emulator's clock."""

    def __init__(self, emulator: StripeEmulator, rng: random.Random) -> None:
        self.emulator = emulator
        self.client = sdk_client(emulator)
        self.rng = rng
        self.customers: list[str] = []
        self.products: list[str] = []
        self.charges: dict[str, int] = {}  # id -> amount left to refund
        self.refunds: list[str] = []

    def at(self, second: int) -> None:
        self.emulator.clock.freeze(at=second)

    def new_customer(self) -> str:
        customer = self.client.v1.customers.create(
            params={"email": f"c{self.rng.randrange(10**6)}@example.com"}
        )
        self.customers.append(customer.id)
        return customer.id

    def update_customer(self, customer_id: str | None = None) -> None:
        customer_id = customer_id or self.rng.choice(self.customers)
        self.client.v1.customers.update(
            customer_id,
            params={"name": f"N{self.rng.randrange(10**6)}", "metadata": {"n": str(self.rng.random())}},
        )

    def delete_customer(self, customer_id: str | None = None) -> None:
        customer_id = customer_id or self.rng.choice(self.customers)
        self.customers.remove(customer_id)
        self.client.v1.customers.delete(customer_id)

    def new_product(self) -> str:
        product = self.client.v1.products.create(params={"name": f"P{self.rng.randrange(10**6)}"})
        self.products.append(product.id)
        return product.id

    def update_product(self) -> None:
        self.client.v1.products.update(
            self.rng.choice(self.products), params={"active": self.rng.random() < 0.5, "description": "d"}
        )

    def delete_product(self, product_id: str | None = None) -> None:
        product_id = product_id or self.rng.choice(self.products)
        self.products.remove(product_id)
        self.client.v1.products.delete(product_id)

    def new_charge(self) -> None:
        amount = self.rng.randrange(100, 5000)
        if self.rng.random() < 0.15:  # declined: Stripe keeps the failed charge (charge.failed)
            with pytest.raises(stripe.CardError):
                self.client.v1.charges.create(
                    params={"amount": amount, "currency": "usd", "source": "tok_chargeDeclined"}
                )
            return
        charge = self.client.v1.charges.create(
            params={"amount": amount, "currency": "usd", "source": "tok_visa"}
        )
        self.charges[charge.id] = amount

    def update_charge(self) -> None:
        self.client.v1.charges.update(
            self.rng.choice(sorted(self.charges)), params={"metadata": {"order": str(self.rng.randrange(99))}}
        )

    def refund(self) -> None:
        refundable = sorted(charge for charge, left in self.charges.items() if left > 0)
        if not refundable:
            return self.new_charge()
        charge = self.rng.choice(refundable)
        amount = self.rng.randrange(1, self.charges[charge] + 1)
        self.charges[charge] -= amount
        refund = self.client.v1.refunds.create(params={"charge": charge, "amount": amount})
        self.refunds.append(refund.id)

    def update_refund(self) -> None:
        if not self.refunds:
            return self.refund()
        self.client.v1.refunds.update(self.rng.choice(self.refunds), params={"metadata": {"k": "v"}})

    def random_change(self) -> None:
        changes: list[Callable[[], Any]] = [self.new_customer, self.new_product, self.new_charge]
        if self.customers:
            changes += [self.update_customer, self.update_customer, self.delete_customer]
        if self.products:
            changes += [self.update_product, self.delete_product]
        if self.charges:
            changes += [self.update_charge, self.refund, self.refund, self.update_refund]
        self.rng.choice(changes)()

    def interval(self, start: int, end: int) -> None:
        """About 25 random changes between ``start`` and ``end - 1``, plus the hard cases."""
        self.at(start)
        if self.customers:
            self.delete_customer()  # on the interval's first second, right after the last export
        seconds = sorted(self.rng.randrange(start, end - 1) for _ in range(25))
        burst = self.rng.choice(seconds)
        for second in seconds:
            self.at(second)
            self.random_change()
            if second == burst:  # several changes of one object in one second
                customer = self.new_customer()
                for _ in range(3):
                    self.update_customer(customer)
        self.at(start + 10)
        short_lived = self.new_customer(), self.new_product()  # created and deleted in one interval
        while len(self.customers) < 4:  # one to delete on the last second
            self.new_customer()
        self.at(end - 2)
        self.delete_customer(short_lived[0])
        self.delete_product(short_lived[1])
        self.at(end - 1)
        self.delete_customer()  # on the interval's last second


def apply(copy: Copy, folder: Path) -> int:
    """Upsert each row by id, delete on a stub (what docs/current-copy.md's MERGE statements do);
    the number of stubs."""
    rows = read_lines(folder)
    assert len({row["id"] for row in rows}) == len(rows), "an object appears twice in one folder"
    for row in rows:
        if row.get("deleted"):
            copy.pop(row["id"], None)
        else:
            copy[row["id"]] = row
    return sum(1 for row in rows if row.get("deleted"))


def stripe_holds(emulator: StripeEmulator, resource: str) -> Copy:
    """Every object of the list, as the official SDK lists it."""
    listed = getattr(sdk_client(emulator).v1, resource).list(params={"limit": 100}).auto_paging_iter()
    return {obj.id: obj.to_dict() for obj in listed}


def as_json(copy: Copy) -> dict[str, str]:
    return {object_id: json.dumps(obj, sort_keys=True) for object_id, obj in copy.items()}
