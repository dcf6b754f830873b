"""StripeHook: the provider's one door to the Stripe API."""

from __future__ import annotations

import asyncio
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.providers.common.compat.sdk import BaseHook, mask_secret

from airflow_provider_stripe.api.calls import (
    StripeAnswer,
    StripeCall,
    basic_token,
    build_call,
    client_headers,
    log_attempt,
    parse_answer,
)
from airflow_provider_stripe.api.pages import (
    Page,
    first_page_params,
    next_page_params,
    page_objects,
    stripe_time,
)
from airflow_provider_stripe.api.retries import asend_with_retries, send_with_retries
from airflow_provider_stripe.api.settings import ClientSettings
from airflow_provider_stripe.api.tls import ca_bundle, ssl_context
from airflow_provider_stripe.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from airflow_provider_stripe.exceptions import (
    StripeAuthenticationError,
    StripeConnectionError,
    StripeError,
    StripePermissionError,
    StripeTLSError,
)
from airflow_provider_stripe.resources import ACCOUNTS, CHARGES, CUSTOMERS, PRODUCTS, REFUNDS, StripeResource

if TYPE_CHECKING:
    import aiohttp
    import requests

StripeObject = dict[str, Any]
#: A call's parameters, form-encoded as Stripe expects (nested dicts and lists included).
Params = Mapping[str, Any]


class Reply(NamedTuple):
    """Stripe's JSON object, whether Stripe replayed it for a reused idempotency key, and the
    ``Date`` header of the answer (Stripe's clock)."""

    object: StripeObject
    replayed: bool
    date: str | None = None


#: Shorter "keys" are stubs (an empty field, a bare prefix), not secrets worth masking.
_MIN_MASKED_LENGTH = 12
_PERMISSION = re.compile(r"'(rak_[a-z_]+)'")
_OS_ERROR = re.compile(r"\[Errno -?\d+\] [^'\")]+|\[SSL: \w+\] [^'\")(]+")


def environment_proxies(url: str) -> dict[str, str]:
    """The proxies requests would read from the environment for ``url``: ``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``ALL_PROXY`` by scheme, none when ``NO_PROXY`` exempts the host."""
    from requests.utils import get_environ_proxies

    return {scheme: proxy for scheme, proxy in get_environ_proxies(url).items() if scheme != "no"}


def _reason(error: Exception) -> str:
    """The gist of an HTTP client's exception (the OS or TLS error), without urllib3's nested reprs."""
    os_error = _OS_ERROR.search(str(error))
    return f"{type(error).__name__} ({os_error.group(0).strip() if os_error else str(error)[:200]})"


class ResourceCalls:
    """The typed calls for one kind of Stripe object through one hook, e.g. ``hook.customers``.

    Each is the hook's own call (:meth:`StripeHook.create`, :meth:`StripeHook.request`,
    :meth:`StripeHook.paginate`) at the resource's path, with its retries, logging and errors.
    """

    def __init__(self, hook: StripeHook, resource: StripeResource) -> None:
        self.hook = hook
        self.resource = resource

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hook!r}, {self.resource.path!r})"

    def create(self, params: Params, *, idempotency_key: str | None = None) -> Reply:
        """POST a new object; ``Reply.object`` is it, ``Reply.replayed`` says whether Stripe replayed it.

        :param idempotency_key: a fresh one is generated when omitted; retries reuse it.
        """
        return self.hook.create(self.resource.path, params, idempotency_key=idempotency_key)

    def retrieve(self, object_id: str, params: Params | None = None) -> StripeObject:
        """GET one object by id; ``params`` such as ``{"expand": [...]}`` go in the query string.

        :raises StripeNotFoundError: no such object.
        """
        return self.hook.request("GET", self.resource.object_path(object_id), params)

    def list(self, params: Params | None = None) -> Iterator[StripeObject]:
        """Every object of the list matching ``params``, newest first, one page held at a time."""
        return self.hook.paginate(self.resource.path, params)


class _CallsFor:
    """A hook attribute giving the :class:`ResourceCalls` of one resource (one line per resource)."""

    def __init__(self, resource: StripeResource) -> None:
        self.resource = resource

    @overload
    def __get__(self, hook: None, owner: type[StripeHook]) -> _CallsFor: ...
    @overload
    def __get__(self, hook: StripeHook, owner: type[StripeHook]) -> ResourceCalls: ...
    def __get__(self, hook: StripeHook | None, owner: type[StripeHook]) -> ResourceCalls | _CallsFor:
        return self if hook is None else hook.calls(self.resource)


class StripeHook(BaseHook):
    """Talk to the Stripe API with the API key of an Airflow connection.

    Nothing is looked up when the hook is built (DAG files are parsed constantly): the connection
    is read at the first call. Every request pins ``Stripe-Version``, form-encodes its parameters
    the way Stripe's libraries do, carries an ``Idempotency-Key`` when it is a POST, is retried
    with exponential backoff and jitter on connection errors, 409, 429 and 5xx (Stripe's
    ``Stripe-Should-Retry`` header overrides), and is logged on one line without the key.

    :param stripe_conn_id: the Airflow connection holding the key (type ``stripe``).
    :param stripe_version: overrides the connection's ``stripe_version`` extra.
    :param stripe_account: overrides the ``stripe_account`` extra (Stripe Connect).
    :param max_retries: overrides the ``max_retries`` extra.
    :param timeout: overrides the ``timeout`` extra (seconds per request).
    :param backoff_initial: overrides the ``backoff_initial`` extra (seconds before the first retry).
    """

    conn_name_attr = "stripe_conn_id"
    default_conn_name = "stripe_default"
    conn_type = "stripe"
    hook_name = "Stripe"

    def __init__(
        self,
        stripe_conn_id: str = default_conn_name,
        *,
        stripe_version: str | None = None,
        stripe_account: str | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
        backoff_initial: float | None = None,
    ) -> None:
        super().__init__()
        self.stripe_conn_id = stripe_conn_id
        self._overrides: dict[str, Any] = {
            "stripe_version": stripe_version,
            "stripe_account": stripe_account,
            "max_retries": max_retries,
            "timeout": timeout,
            "backoff_initial": backoff_initial,
        }
        self._async_session: aiohttp.ClientSession | None = None
        self._async_proxy: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stripe_conn_id={self.stripe_conn_id!r})"

    @cached_property
    def settings(self) -> ClientSettings:
        """The validated connection settings; the key is registered with the secrets masker."""
        conn = self.get_connection(self.stripe_conn_id)
        return self._settings_from(conn.password, conn.host, conn.extra_dejson)

    async def asettings(self) -> ClientSettings:
        """:attr:`settings` for code on an event loop (the triggerer): the lookup does not block it."""
        if "settings" not in self.__dict__:
            from airflow.providers.common.compat.connection import (
                get_async_connection,
                get_async_extra_dejson,
            )

            conn = await get_async_connection(self.stripe_conn_id, hook=self)
            extras = await get_async_extra_dejson(conn)
            self.__dict__["settings"] = self._settings_from(conn.password, conn.host, extras)
        return self.settings

    def _settings_from(
        self, password: str | None, host: str | None, extras: Mapping[str, Any]
    ) -> ClientSettings:
        pasted = (password or "").strip()
        if len(pasted) >= _MIN_MASKED_LENGTH:
            # Registered before the checks, so a refused (malformed) key is masked too; but not a
            # stub like "sk_test_", which would mask only the start of every key that shares it.
            mask_secret(pasted)
        settings = ClientSettings.from_connection(password, host, extras, **self._overrides)
        # Also the key inside the Authorization header, which HTTP debug output prints.
        mask_secret(settings.api_key.secret)
        mask_secret(basic_token(settings.api_key.secret))
        self.log.info(
            "Stripe connection %r: %s mode, %s key %s, %s",
            self.stripe_conn_id,
            settings.api_key.mode,
            settings.api_key.kind,
            settings.api_key.hint,
            settings.base_url,
        )
        return settings

    @property
    def mode(self) -> str:
        """``test`` or ``live``, from the key."""
        return self.settings.api_key.mode

    @property
    def key_kind(self) -> str:
        """``secret`` or ``restricted``, from the key."""
        return self.settings.api_key.kind

    @property
    def base_url(self) -> str:
        """The API's base URL, ``https://api.stripe.com`` unless the connection's host says otherwise."""
        return self.settings.base_url

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive HTTP session for all of this hook's requests (see :meth:`get_conn`).

        The proxy environment is read once, here: with ``trust_env`` requests reads it again on
        every request (and looks for a ``.netrc``), about a quarter of a loopback call.
        """
        import requests

        session = requests.Session()
        session.trust_env = False
        session.headers.update(client_headers(self.settings, "requests"))
        session.proxies = environment_proxies(self.settings.base_url)
        session.verify = ca_bundle()
        return session

    def get_conn(self) -> requests.Session:
        """An authenticated ``requests.Session`` for Stripe calls the hook has no method for.

        It carries the connection's key (``Authorization``), the pinned ``Stripe-Version``, the
        ``Stripe-Account`` if set, and the provider's ``User-Agent``; it verifies TLS with the
        provider's CA bundle. Prefix paths with :attr:`base_url`::

            hook = StripeHook("stripe_default")
            balance = hook.get_conn().get(f"{hook.base_url}/v1/balance", timeout=30).json()

        Unlike :meth:`request`, calls made through it are not retried, logged, form-encoded the
        Stripe way, given idempotency keys or turned into
        :class:`~airflow_provider_stripe.exceptions.StripeError`.
        """
        return self.session

    def request(
        self, method: str, path: str, params: Params | None = None, *, idempotency_key: str | None = None
    ) -> StripeObject:
        """Send one API request (retried as the connection allows) and return Stripe's JSON object.

        :param method: ``GET``, ``POST`` or ``DELETE``.
        :param path: the API path, e.g. ``/v1/charges``.
        :param params: parameters, form-encoded as Stripe expects (query string for GET/DELETE).
        :param idempotency_key: for a POST; a fresh one is generated when omitted. Retries reuse it.
        :raises StripeError: the subclass matching Stripe's answer.
        """
        return self._exchange(method, path, params, idempotency_key).object

    def list_page(self, path: str, query: Mapping[str, Any]) -> Page:
        """GET one page of a list, with Stripe's clock from the answer (what a watch's poll needs)."""
        reply = self._exchange("GET", path, query, None)
        return Page(reply.object, stripe_time(reply.date))

    def create(self, path: str, params: Params, *, idempotency_key: str | None = None) -> Reply:
        """POST a new object, like :meth:`request`, and also say whether Stripe replayed it.

        ``Reply.replayed`` is true when Stripe answered ``Idempotent-Replayed: true``: an earlier
        request with the same idempotency key and parameters already created this object (an
        Airflow retry of a create whose first answer was lost), and nothing new was created.
        """
        return self._exchange("POST", path, params, idempotency_key)

    def _exchange(self, method: str, path: str, params: Params | None, idempotency_key: str | None) -> Reply:
        call = build_call(
            self.settings, method, path, params, http_library="requests", idempotency_key=idempotency_key
        )
        return send_with_retries(self.settings, lambda: self._send(call))

    def _send(self, call: StripeCall) -> Reply:
        import requests

        started = time.monotonic()
        try:
            # A prepared request sent on the session, as requests documents ("Prepared Requests"):
            # Session.request would merge the session's cookies, auth, params and environment into
            # every request, a sixth of a loopback call, for settings this session does not use.
            prepared = requests.PreparedRequest()
            prepared.prepare(
                method=call.method,
                url=call.url,
                headers={**self.session.headers, **call.headers},
                data=call.body,
            )
            response = self.session.send(prepared, timeout=self.settings.timeout)
        except requests.RequestException as error:
            tls = isinstance(error, requests.exceptions.SSLError)
            raise self._no_answer(call, error, started, tls=tls) from None
        return self._answered(
            call, StripeAnswer(response.status_code, response.headers, response.content), started
        )

    def _answered(self, call: StripeCall, answer: StripeAnswer, started: float) -> Reply:
        log_attempt(self.settings, call, time.monotonic() - started, answer=answer)
        return Reply(parse_answer(call, answer), answer.replayed, answer.headers.get("Date"))

    def _no_answer(
        self, call: StripeCall, error: Exception, started: float, *, tls: bool
    ) -> StripeConnectionError:
        """The error for an attempt that got no answer; a failed TLS handshake is not transient."""
        cls = StripeTLSError if tls else StripeConnectionError
        hint = f" {cls.hint}" if cls.hint else ""
        failure = cls(f"No answer from Stripe for {call.description}: {_reason(error)}.{hint}")
        log_attempt(self.settings, call, time.monotonic() - started, failure=failure)
        return failure

    async def arequest(
        self, method: str, path: str, params: Params | None = None, *, idempotency_key: str | None = None
    ) -> StripeObject:
        """:meth:`request` on an event loop (aiohttp), with the same encoding, retries and errors.

        Call :meth:`aclose` when done, to release the keep-alive session.
        """
        return (await self._aexchange(method, path, params, idempotency_key)).object

    async def alist_page(self, path: str, query: Mapping[str, Any]) -> Page:
        """:meth:`list_page` on an event loop."""
        reply = await self._aexchange("GET", path, query, None)
        return Page(reply.object, stripe_time(reply.date))

    async def _aexchange(
        self, method: str, path: str, params: Params | None, idempotency_key: str | None
    ) -> Reply:
        settings = await self.asettings()
        call = build_call(
            settings, method, path, params, http_library="aiohttp", idempotency_key=idempotency_key
        )
        return await asend_with_retries(settings, lambda: self._asend(call))

    async def _asend(self, call: StripeCall) -> Reply:
        import aiohttp

        if self._async_session is None:
            self._async_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_context()))
            self._async_proxy = environment_proxies(self.settings.base_url).get(
                self.settings.base_url.partition(":")[0]
            )
        started = time.monotonic()
        try:
            async with self._async_session.request(
                call.method,
                call.url,
                data=call.body,
                headers=dict(call.headers),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                proxy=self._async_proxy,
            ) as response:
                answer = StripeAnswer(response.status, response.headers, await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            tls = isinstance(error, aiohttp.ClientSSLError)
            raise self._no_answer(call, error, started, tls=tls) from None
        return self._answered(call, answer, started)

    async def aclose(self) -> None:
        """Close the aiohttp session that :meth:`arequest` opened, if any."""
        if self._async_session is not None:
            await self._async_session.close()
            self._async_session = None

    def paginate(self, path: str, params: Params | None = None) -> Iterator[StripeObject]:
        """Yield every object of a list, holding one page (at most 100 objects) at a time.

        Newest first; with ``ending_before`` in ``params``, oldest first (walking toward newer).
        """
        query: dict[str, Any] | None = first_page_params(params)
        while query is not None:
            page = self.request("GET", path, query)
            yield from page_objects(query, page)
            query = next_page_params(query, page)

    def server_time(self, path: str) -> datetime:
        """Stripe's clock: the ``Date`` header of a one-object page of the list at ``path``.

        Reading a list the caller is about to read needs no permission beyond that list's.
        Stripe's clock, not this machine's, decides which objects Stripe already shows.
        """
        return self.list_page(path, {"limit": 1}).clock(path)

    def calls(self, resource: StripeResource) -> ResourceCalls:
        """The typed calls for ``resource`` (also reachable by name: :attr:`customers`, ...)."""
        return ResourceCalls(self, resource)

    #: Charges (``/v1/charges``): ``hook.charges.create/retrieve/list``, see :class:`ResourceCalls`.
    charges = _CallsFor(CHARGES)
    #: Customers (``/v1/customers``); a deleted one is retrieved as ``{"id": ..., "deleted": True}``.
    customers = _CallsFor(CUSTOMERS)
    #: Products (``/v1/products``).
    products = _CallsFor(PRODUCTS)
    #: Refunds (``/v1/refunds``).
    refunds = _CallsFor(REFUNDS)
    #: The platform's connected accounts (``/v1/accounts``, Stripe Connect); only the platform
    #: itself may list them, not a hook acting for a connected account.
    accounts = _CallsFor(ACCOUNTS)

    def test_connection(self) -> tuple[bool, str]:
        """For the UI's Test button: read the balance, which any working secret key may do.

        A restricted key without the balance permission gets a 403, which still proves the key is
        valid: the answer says so and names the permission Stripe asked for.
        """
        try:
            where = f"{self.settings.api_key.mode} mode, {self.settings.api_key.kind} key"
            self.request("GET", "/v1/balance")
        except StripePermissionError as error:
            permission = _PERMISSION.search(error.message)
            missing = permission.group(1) if permission else "the balance read permission"
            return True, f"Connected to Stripe ({where}); the key works but lacks {missing}."
        except StripeAuthenticationError as error:
            return False, f"Stripe rejected the API key as invalid (401): {error.message}"
        except StripeError as error:
            return False, f"Could not use the Stripe connection: {error}"
        return True, f"Connected to Stripe ({where})."

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Airflow 2.x form widgets, built from the same declaration Airflow 3 reads."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, StringField
        from wtforms.validators import NumberRange, Optional

        widgets: dict[str, Any] = {}
        for name, field in CONN_FIELDS.items():
            schema_type = field["schema"]["type"]
            types = schema_type if isinstance(schema_type, list) else [schema_type]
            if "integer" in types:
                limits = NumberRange(min=field["schema"]["minimum"], max=field["schema"]["maximum"])
                widgets[name] = IntegerField(
                    lazy_gettext(field["label"]),
                    validators=[Optional(), limits],
                    widget=BS3TextFieldWidget(),
                    description=field["description"],
                )
            else:
                widgets[name] = StringField(
                    lazy_gettext(field["label"]),
                    widget=BS3TextFieldWidget(),
                    description=field["description"],
                )
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow 2.x field behaviour, from the same declaration Airflow 3 reads."""
        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }


def _release_one_call(name: str, attribute: str, verb: str) -> Callable[..., Any]:
    """Release one's ``hook.<verb>_<kind>()``, now ``hook.<attribute>.<verb>()``, with a warning."""
    replacement = f"hook.{attribute}.{verb}()" + (".object" if verb == "create" else "")

    def call(hook: StripeHook, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"StripeHook.{name}() is deprecated and will be removed in the next release; use {replacement}.",
            AirflowProviderDeprecationWarning,
            stacklevel=2,
        )
        result = getattr(getattr(hook, attribute), verb)(*args, **kwargs)
        return result.object if verb == "create" else result

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Deprecated: use ``{replacement}``."
    return call


def _keep_release_one_names() -> None:
    """Release one's twelve typed conveniences (``create_charge``, ``retrieve_charge``,
    ``list_charges``, ... for charges, customers, products and refunds) stay for one release."""
    for attribute in ("charges", "customers", "products", "refunds"):
        kind = getattr(StripeHook, attribute).resource.object_type
        for verb, name in (
            ("create", f"create_{kind}"),
            ("retrieve", f"retrieve_{kind}"),
            ("list", f"list_{attribute}"),
        ):
            setattr(StripeHook, name, _release_one_call(name, attribute, verb))


_keep_release_one_names()
