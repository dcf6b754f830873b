"""Stripe actions: create a charge, a customer, a product or a refund, find a customer, and list the
platform's connected accounts.

Each operator is thin: its parameters (all templated), the :class:`~airflow_provider_stripe.validation.Spec`
that checks them before anything is sent, one hook call, a log line, and the Stripe object as its
return value (XCom ``return_value``).

Creates are safe to retry: each sends an ``Idempotency-Key`` derived from the task instance
(dag_id, task_id, run_id, map_index), never from the try number, so a retry or a clear of the task
within Stripe's 24 hours gets the object the first try created back instead of creating another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_stripe.api.settings import connected_account
from airflow_provider_stripe.exceptions import StripeNotFoundError, StripeValidationError
from airflow_provider_stripe.idempotency import task_idempotency_key
from airflow_provider_stripe.limits import (
    CUSTOMER_DESCRIPTION_MAX_LENGTH,
    CUSTOMER_NAME_MAX_LENGTH,
    CUSTOMER_PHONE_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    PRODUCT_MAX_IMAGES,
    PRODUCT_NAME_MAX_LENGTH,
    PRODUCT_UNIT_LABEL_MAX_LENGTH,
)
from airflow_provider_stripe.lineage import stripe_lineage
from airflow_provider_stripe.resources import ACCOUNTS, CHARGES, CUSTOMERS, PRODUCTS, REFUNDS, StripeResource
from airflow_provider_stripe.validation import (
    AtLeastOne,
    ChargeableAmount,
    ExactlyOne,
    RequiredWhen,
    Spec,
    choice,
    currency,
    email,
    flag,
    integer,
    is_unrendered,
    mapping,
    metadata,
    required,
    statement_descriptor,
    strings,
    text,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_stripe.hooks.stripe import StripeHook, StripeObject
    from airflow_provider_stripe.lineage import StripeLineage

# The parameters Stripe documents for each call, as data (see airflow_provider_stripe.validation),
# as strict as Stripe's API reference for the pinned version and no stricter.

# Every line is optional, in a charge's shipping address too: the API reference for the pinned
# version (as stripe-python 16.1.0's ChargeCreateParamsShippingAddress has it) requires no line1.
_ADDRESS = mapping({name: text() for name in ("city", "country", "line1", "line2", "postal_code", "state")})
_CUSTOMER_ID = text(pattern=r"cus_[A-Za-z0-9]+", expected="a Stripe customer id like cus_NffrFeUfNV2Hib")

CHARGE = Spec(
    fields={
        "amount": required(
            integer(1, max_digits=8, unit="in the currency's smallest unit (1.00 USD is 100)")
        ),
        "currency": required(currency()),
        "customer": _CUSTOMER_ID,
        "source": text(),
        "description": text(DESCRIPTION_MAX_LENGTH),
        "capture": flag(),
        "receipt_email": email(),
        # On a card charge Stripe uses statement_descriptor as the suffix when none is given, so
        # neither has to be a complete (5+ character) descriptor.
        "statement_descriptor": statement_descriptor(complete=False),
        "statement_descriptor_suffix": statement_descriptor(complete=False),
        "shipping": mapping(
            {
                "name": required(text()),
                "address": required(_ADDRESS),
                "carrier": text(),
                "phone": text(),
                "tracking_number": text(),
            }
        ),
        "metadata": metadata(),
    },
    rules=(
        ChargeableAmount("amount", "currency"),
        AtLeastOne(("source", "customer")),
        RequiredWhen(
            "customer",
            "source",
            ("card_", "ba_"),
            "a saved card or bank account can only be charged through the customer it belongs to",
        ),
    ),
)

CUSTOMER = Spec(
    fields={
        "name": text(CUSTOMER_NAME_MAX_LENGTH),
        "email": email(EMAIL_MAX_LENGTH),
        "phone": text(CUSTOMER_PHONE_MAX_LENGTH),
        "description": text(CUSTOMER_DESCRIPTION_MAX_LENGTH),
        "address": _ADDRESS,
        "shipping": mapping({"name": required(text()), "address": required(_ADDRESS), "phone": text()}),
        "metadata": metadata(),
        "payment_method": text(),
    }
)

FIND_CUSTOMER = Spec(
    fields={"customer_id": _CUSTOMER_ID, "email": email(), "fail_if_missing": flag()},
    rules=(ExactlyOne(("customer_id", "email")),),
)

PRODUCT = Spec(
    fields={
        "name": required(text(PRODUCT_NAME_MAX_LENGTH, non_blank=True)),
        "description": text(DESCRIPTION_MAX_LENGTH),
        "active": flag(),
        "images": strings(PRODUCT_MAX_IMAGES, expected="image URLs"),
        "url": text(),
        "unit_label": text(PRODUCT_UNIT_LABEL_MAX_LENGTH),
        "shippable": flag(),
        "statement_descriptor": statement_descriptor(complete=True),
        "tax_code": text(),
        "metadata": metadata(),
    }
)

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

REFUND = Spec(
    fields={
        "charge": text(),
        "payment_intent": text(),
        "amount": integer(1, max_digits=8, unit="in the charge currency's smallest unit"),
        "reason": choice(*REFUND_REASONS),
        "metadata": metadata(),
    },
    rules=(ExactlyOne(("charge", "payment_intent")),),
)

#: ``GET /v1/accounts`` names no parameter of its own: ``extra_params`` carries ``created`` or ``expand``.
LIST_CONNECTED_ACCOUNTS = Spec(fields={})

#: What a create operator takes besides Stripe's parameters.
CREATE_OPTIONS = Spec(fields={"idempotency_key": text(IDEMPOTENCY_KEY_MAX_LENGTH, non_blank=True)})


#: The templated parameters every Stripe operator has (see :class:`StripeBaseOperator`).
BASE_TEMPLATE_FIELDS = ("extra_params", "stripe_account")


class StripeBaseOperator(BaseOperator):
    """What every Stripe action shares: the connection, the connected account, ``extra_params``,
    checks, a lazy hook.

    Subclasses set :attr:`spec`, store one attribute per field of it, list
    :data:`BASE_TEMPLATE_FIELDS` in their ``template_fields``, and call :meth:`check_known_values`
    at the end of ``__init__``.

    :param stripe_conn_id: the Airflow connection holding the Stripe API key (type ``stripe``).
    :param stripe_account: act for this connected account (``acct_...``, Stripe Connect), sent as
        ``Stripe-Account`` and overriding the connection's ``stripe_account`` extra; empty means
        none. ``.partial(...).expand(stripe_account=[...])`` runs one task per account. (templated)
    :param extra_params: any other parameter Stripe documents for the call, sent as given
        (nested dicts and lists are form-encoded as Stripe expects). It may not repeat a parameter
        the operator names. (templated)
    """

    spec: ClassVar[Spec]
    ui_color = "#635bff"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        stripe_conn_id: str = "stripe_default",
        stripe_account: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stripe_conn_id = stripe_conn_id
        self.stripe_account = stripe_account
        self.extra_params = extra_params

    @cached_property
    def hook(self) -> StripeHook:
        """Built on first use: importing the hook (and requests) is for running tasks, not DAG parsing.

        :raises StripeValidationError: for a rendered ``stripe_account`` that is not an account id.
        """
        from airflow_provider_stripe.hooks.stripe import StripeHook

        return StripeHook(self.stripe_conn_id, stripe_account=connected_account(self.stripe_account))

    def _field_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.spec.fields}

    def check_known_values(self) -> None:
        """Fail the DAG file at parse time for a value that is already wrong (templates wait)."""
        self.spec.check_literals(self._field_values(), self.extra_params)
        if not is_unrendered(self.stripe_account):
            connected_account(self.stripe_account)

    def stripe_params(self) -> dict[str, Any]:
        """The rendered parameters, checked and normalised, plus ``extra_params``.

        :raises StripeValidationError: naming the field, before any request is sent.
        """
        return self.spec.validate(self._field_values(), self.extra_params)


class StripeCreateOperator(StripeBaseOperator):
    """A ``POST`` that creates one Stripe object, safe to retry; returns the object.

    :param idempotency_key: overrides the ``Idempotency-Key`` derived from the task instance
        (dag_id, task_id, run_id, map_index). Stripe returns the object first created with a key
        for 24 hours; pass your own to tie the object to something else, e.g. an order id.
    """

    resource: ClassVar[StripeResource]

    def __init__(self, *, idempotency_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idempotency_key = idempotency_key

    def check_known_values(self) -> None:
        super().check_known_values()
        CREATE_OPTIONS.check_literals({"idempotency_key": self.idempotency_key})

    def idempotency_key_for(self, context: Context) -> str:
        """The ``idempotency_key`` given, else the one derived from this task instance."""
        given = CREATE_OPTIONS.validate({"idempotency_key": self.idempotency_key})
        if given:
            return str(given["idempotency_key"])
        ti = context["ti"]
        return task_idempotency_key(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)

    def execute(self, context: Context) -> StripeObject:
        params = self.stripe_params()
        key = self.idempotency_key_for(context)
        created = self.hook.calls(self.resource).create(params, idempotency_key=key)
        kind, stripe_id = self.resource.object_type, created.object.get("id")
        if created.replayed:
            self.log.info(
                "Stripe replayed %s %s: an earlier request with Idempotency-Key %s (an earlier try "
                "of this task, or a run since cleared) created it; nothing new was created.",
                kind,
                stripe_id,
                key,
            )
        else:
            self.log.info("Created Stripe %s %s (Idempotency-Key %s).", kind, stripe_id, key)
        return created.object

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> StripeLineage:
        """OpenLineage: this task wrote to its Stripe list (see :mod:`airflow_provider_stripe.lineage`)."""
        return stripe_lineage(self.hook, wrote=[self.resource.path])


_CREATE_TEMPLATE_FIELDS = (*BASE_TEMPLATE_FIELDS, "idempotency_key")


class StripeCreateChargeOperator(StripeCreateOperator):
    """Charge a card, bank account or customer (``POST /v1/charges``) and return the charge.

    Stripe now recommends PaymentIntents for new integrations; the Charges API remains supported
    and is what this operator uses. A declined card fails the task without retries
    (:class:`~airflow_provider_stripe.exceptions.StripeCardError`).

    :param amount: the amount as a whole number of the currency's smallest unit: ``100`` is
        1.00 USD, ``100`` is also 100 JPY (a zero-decimal currency). An integer-valued string such
        as a rendered ``"{{ 100 * 20 }}"`` is accepted; ``1.00``, ``"1.5"``, ``True``, ``0`` and
        negatives are refused, and at most 8 digits are allowed. At least Stripe's minimum for the
        currency (``50``, 0.50 USD); in a three-decimal currency (KWD, BHD, ...) it ends in 0. (templated)
    :param currency: three-letter ISO code of a currency Stripe supports, any case (sent in lower
        case), e.g. ``usd``. (templated)
    :param customer: the Stripe customer id (``cus_...``) to charge: their default source, or
        ``source`` if it is one of theirs. ``customer`` or ``source`` is required. (templated)
    :param source: what to charge: a token (``tok_visa`` in test mode), or a card (``card_...``)
        or bank account (``ba_...``) saved on ``customer``, which is then required too. (templated)
    :param description: an arbitrary string shown in the Dashboard. (templated)
    :param capture: ``False`` only authorises the charge, to capture later. Default: capture now. (templated)
    :param receipt_email: where Stripe sends the receipt. (templated)
    :param statement_descriptor: the text on the customer's statement of a non-card charge; on a
        card charge Stripe uses it as the suffix when ``statement_descriptor_suffix`` is not given.
        At most 22 characters, at least one letter, none of ``< > \\ ' " *``. (templated)
    :param statement_descriptor_suffix: appended to the account's descriptor prefix after ``* ``
        (the whole must fit in 22 characters); at least one letter, none of ``< > \\ ' " *``. (templated)
    :param shipping: shipping details: ``name`` and ``address`` are required when it is given;
        also ``carrier``, ``phone``, ``tracking_number``. (templated)
    :param metadata: up to 50 string key/value pairs (keys up to 40 characters, values up to 500). (templated)
    :param extra_params: any other documented ``/v1/charges`` parameter, e.g.
        ``{"transfer_group": "order_42"}``. (templated)
    :param idempotency_key: overrides the key derived from the task instance. (templated)
    :param stripe_conn_id: the Stripe connection (default ``stripe_default``).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    spec = CHARGE
    resource = CHARGES
    template_fields: Sequence[str] = (*CHARGE.fields, *_CREATE_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "shipping": "json",
        "metadata": "json",
        "extra_params": "json",
    }

    def __init__(
        self,
        *,
        amount: int | str,
        currency: str,
        customer: str | None = None,
        source: str | None = None,
        description: str | None = None,
        capture: bool | str | None = None,
        receipt_email: str | None = None,
        statement_descriptor: str | None = None,
        statement_descriptor_suffix: str | None = None,
        shipping: Mapping[str, Any] | None = None,
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.amount = amount
        self.currency = currency
        self.customer = customer
        self.source = source
        self.description = description
        self.capture = capture
        self.receipt_email = receipt_email
        self.statement_descriptor = statement_descriptor
        self.statement_descriptor_suffix = statement_descriptor_suffix
        self.shipping = shipping
        self.metadata = metadata
        self.check_known_values()


class StripeCreateCustomerOperator(StripeCreateOperator):
    """Create a customer (``POST /v1/customers``) and return it.

    :param name: the customer's full name or business name. (templated)
    :param email: the customer's email address (at most 512 characters). (templated)
    :param phone: the customer's own phone number (at most 20 characters). A phone number for
        deliveries goes in ``shipping["phone"]`` instead. (templated)
    :param description: an arbitrary string shown in the Dashboard. (templated)
    :param address: the billing address: ``line1``, ``line2``, ``city``, ``state``,
        ``postal_code``, ``country``. (templated)
    :param shipping: where to ship: ``name`` and ``address`` are required when it is given, and
        ``phone`` is the shipping contact's phone (not the customer's ``phone``; no 20-character limit).
        (templated)
    :param metadata: up to 50 string key/value pairs (keys up to 40 characters, values up to 500). (templated)
    :param payment_method: a PaymentMethod id (``pm_...``; ``pm_card_visa`` in test mode) to attach.
        (templated)
    :param extra_params: any other documented ``/v1/customers`` parameter, e.g.
        ``{"preferred_locales": ["fr"]}``. (templated)
    :param idempotency_key: overrides the key derived from the task instance. (templated)
    :param stripe_conn_id: the Stripe connection (default ``stripe_default``).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    spec = CUSTOMER
    resource = CUSTOMERS
    template_fields: Sequence[str] = (*CUSTOMER.fields, *_CREATE_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "address": "json",
        "shipping": "json",
        "metadata": "json",
        "extra_params": "json",
    }

    def __init__(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        description: str | None = None,
        address: Mapping[str, Any] | None = None,
        shipping: Mapping[str, Any] | None = None,
        metadata: Mapping[str, str] | None = None,
        payment_method: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.email = email
        self.phone = phone
        self.description = description
        self.address = address
        self.shipping = shipping
        self.metadata = metadata
        self.payment_method = payment_method
        self.check_known_values()


class StripeCreateProductOperator(StripeCreateOperator):
    """Create a product (``POST /v1/products``) and return it.

    :param name: the product's name, shown to customers; required, not blank, at most 250 characters.
        (templated)
    :param description: the product's description, shown to customers. (templated)
    :param active: whether it is available for purchase (Stripe's default: true). (templated)
    :param images: up to 8 image URLs. (templated)
    :param url: a publicly accessible web page for the product. (templated)
    :param unit_label: the unit shown on receipts and invoices, e.g. ``seat`` (at most 12 characters).
        (templated)
    :param shippable: whether it is a physical good that ships. (templated)
    :param statement_descriptor: the complete text on the customer's statement for subscription
        payments: 5 to 22 characters, at least one letter, none of ``< > \\ ' " *``. (templated)
    :param tax_code: a Stripe tax code id, e.g. ``txcd_10000000``. (templated)
    :param metadata: up to 50 string key/value pairs (keys up to 40 characters, values up to 500). (templated)
    :param extra_params: any other documented ``/v1/products`` parameter, e.g.
        ``{"default_price_data": {"currency": "usd", "unit_amount": 1500}}``. (templated)
    :param idempotency_key: overrides the key derived from the task instance. (templated)
    :param stripe_conn_id: the Stripe connection (default ``stripe_default``).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    spec = PRODUCT
    resource = PRODUCTS
    template_fields: Sequence[str] = (*PRODUCT.fields, *_CREATE_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "images": "json",
        "metadata": "json",
        "extra_params": "json",
    }

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        active: bool | str | None = None,
        images: Sequence[str] | None = None,
        url: str | None = None,
        unit_label: str | None = None,
        shippable: bool | str | None = None,
        statement_descriptor: str | None = None,
        tax_code: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.active = active
        self.images = images
        self.url = url
        self.unit_label = unit_label
        self.shippable = shippable
        self.statement_descriptor = statement_descriptor
        self.tax_code = tax_code
        self.metadata = metadata
        self.check_known_values()


class StripeCreateRefundOperator(StripeCreateOperator):
    """Refund a charge, wholly or in part (``POST /v1/refunds``), and return the refund.

    :param charge: the charge to refund (``ch_...``). Give ``charge`` or ``payment_intent``, not both.
        (templated)
    :param payment_intent: the PaymentIntent whose charge to refund (``pi_...``). (templated)
    :param amount: how much to refund, a whole number of the currency's smallest unit; at most
        what is left to refund (Stripe checks that). Default: everything left. (templated)
    :param reason: ``duplicate``, ``fraudulent`` or ``requested_by_customer``. (templated)
    :param metadata: up to 50 string key/value pairs (keys up to 40 characters, values up to 500). (templated)
    :param extra_params: any other documented ``/v1/refunds`` parameter, e.g.
        ``{"refund_application_fee": True}``. (templated)
    :param idempotency_key: overrides the key derived from the task instance. (templated)
    :param stripe_conn_id: the Stripe connection (default ``stripe_default``).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    spec = REFUND
    resource = REFUNDS
    template_fields: Sequence[str] = (*REFUND.fields, *_CREATE_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"metadata": "json", "extra_params": "json"}

    def __init__(
        self,
        *,
        charge: str | None = None,
        payment_intent: str | None = None,
        amount: int | str | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.charge = charge
        self.payment_intent = payment_intent
        self.amount = amount
        self.reason = reason
        self.metadata = metadata
        self.check_known_values()


class StripeFindCustomerOperator(StripeBaseOperator):
    """Find a customer by id or by email, and return it (or ``None``).

    By id (``GET /v1/customers/{id}``): an unknown id fails with
    :class:`~airflow_provider_stripe.exceptions.StripeNotFoundError`; a deleted customer (which
    Stripe still returns, as ``{"id": ..., "deleted": true}``) fails too, saying it was deleted.

    By email (``GET /v1/customers?email=...``): the newest customer with exactly that email
    (Stripe's match is exact and case-sensitive, and sees a customer as soon as it is created,
    unlike the Search API); none fails with ``StripeNotFoundError``.

    These failures do not use the task's retries. With ``fail_if_missing=False`` the task
    succeeds and returns ``None`` instead.

    :param customer_id: the customer's id (``cus_...``). Give ``customer_id`` or ``email``, not both.
        (templated)
    :param email: the email address to look up. (templated)
    :param fail_if_missing: fail when no (live) customer is found. Default: true. (templated)
    :param extra_params: any other documented parameter of the call, e.g. ``{"expand": ["tax"]}``
        by id, or ``{"expand": ["data.tax"]}`` by email (a list). (templated)
    :param stripe_conn_id: the Stripe connection (default ``stripe_default``).
    :param stripe_account: act for this connected account (``acct_...``), sent as ``Stripe-Account``;
        overrides the connection's extra. (templated)
    """

    spec = FIND_CUSTOMER
    template_fields: Sequence[str] = (*FIND_CUSTOMER.fields, *BASE_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"extra_params": "json"}

    def __init__(
        self,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        fail_if_missing: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.customer_id = customer_id
        self.email = email
        self.fail_if_missing = fail_if_missing
        self.check_known_values()

    def execute(self, context: Context) -> StripeObject | None:
        params = self.stripe_params()
        fail_if_missing = params.pop("fail_if_missing", True)
        try:
            customer = self._find(params)
        except StripeNotFoundError as missing:
            if fail_if_missing:
                raise
            self.log.info("%s Returning None (fail_if_missing=False).", missing.message)
            return None
        self.log.info("Found Stripe customer %s.", customer.get("id"))
        return customer

    def _find(self, params: dict[str, Any]) -> StripeObject:
        customer_id = params.pop("customer_id", None)
        if customer_id is not None:
            customer = self.hook.customers.retrieve(customer_id, params)
            if customer.get("deleted"):
                raise StripeNotFoundError(
                    f"Stripe customer {customer_id} was deleted; a deleted customer cannot be used.",
                    param="customer_id",
                )
            return customer
        email = params.pop("email")
        newest_first = self.hook.customers.list({**params, "email": email, "limit": 1})
        newest = next(newest_first, None)
        if newest is None:
            raise StripeNotFoundError(
                f"No Stripe customer has the email {email!r} (the match is exact and case-sensitive).",
                param="email",
            )
        return newest

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> StripeLineage:
        """OpenLineage: this task read Stripe's customers (see :mod:`airflow_provider_stripe.lineage`)."""
        return stripe_lineage(self.hook, read=[CUSTOMERS.path])


class StripeListConnectedAccountsOperator(StripeBaseOperator):
    """List the platform's connected accounts (``GET /v1/accounts``, every page) and return their ids.

    The ids (newest account first) are the task's XCom ``return_value``, ready for one task per
    account: ``StripeToObjectStorageOperator.partial(...).expand(stripe_account=accounts.output)``,
    or a sensor's ``.expand(stripe_account=...)``. An empty list (not a platform, or no accounts
    yet) maps no task.

    Only the platform itself has connected accounts: a connected account's own are out of reach
    (Stripe answers "You cannot access the connected accounts of your platform's connected
    accounts.", stripe/stripe-apps#846). So a ``stripe_account``, given to the task or set as the
    connection's extra, fails the task before any request is sent.

    :param extra_params: other parameters of "List all connected accounts", e.g.
        ``{"created": {"gte": 1700000000}}`` for the accounts created since then. (templated)
    :param stripe_conn_id: the Stripe connection of the platform (default ``stripe_default``),
        without a ``stripe_account`` extra.
    :param stripe_account: must stay empty (see above). (templated)
    """

    spec = LIST_CONNECTED_ACCOUNTS
    template_fields: Sequence[str] = BASE_TEMPLATE_FIELDS
    template_fields_renderers: ClassVar[dict[str, str]] = {"extra_params": "json"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_known_values()

    def check_known_values(self) -> None:
        super().check_known_values()
        if not is_unrendered(self.stripe_account) and connected_account(self.stripe_account):
            raise _not_the_platform(f"stripe_account is {self.stripe_account!r}")

    def execute(self, context: Context) -> list[str]:
        params = self.stripe_params()
        account = self.hook.settings.stripe_account  # the task's, else the connection's extra
        if account is not None:
            raise _not_the_platform(
                f"this task acts for {account} (stripe_account or the connection's extra)"
            )
        ids = [str(account["id"]) for account in self.hook.accounts.list(params)]
        self.log.info("The platform has %d connected account(s): %s", len(ids), ", ".join(ids) or "none")
        return ids

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> StripeLineage:
        """OpenLineage: this task read the accounts list (see :mod:`airflow_provider_stripe.lineage`)."""
        return stripe_lineage(self.hook, read=[ACCOUNTS.path])


def _not_the_platform(why: str) -> StripeValidationError:
    return StripeValidationError(
        f"Invalid stripe_account: connected accounts are listed by the platform, and {why}; a "
        "connected account has no connected accounts of its own (Stripe refuses the request). "
        "Leave stripe_account empty and use a connection without a stripe_account extra.",
        param="stripe_account",
    )
