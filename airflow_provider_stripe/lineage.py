"""What a Stripe task read and wrote, as OpenLineage datasets.

Airflow's OpenLineage provider (``apache-airflow-providers-openlineage``, the extra ``openlineage``)
calls ``get_openlineage_facets_on_complete`` on operators and sensors that have it. Stripe lists
are the datasets: namespace ``stripe://<account>`` (the connected account a call acted for, else the
key's mode, ``test`` or ``live``), name the list (``charges``, ``refunds``, ``customers``...). A
task that lists or retrieves reads its list; one that creates writes to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset, RunFacet
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_stripe.api.settings import ClientSettings
    from airflow_provider_stripe.hooks.stripe import StripeHook

    #: What ``get_openlineage_facets_on_complete`` returns: Stripe lists in, Stripe lists out.
    StripeLineage = OperatorLineage[Dataset, RunFacet]

SCHEME = "stripe"


def namespace(settings: ClientSettings) -> str:
    """``stripe://acct_...`` for a Connect call, else ``stripe://test`` or ``stripe://live``."""
    return f"{SCHEME}://{settings.stripe_account or settings.api_key.mode}"


def list_name(path: str) -> str:
    """The Stripe list an API path belongs to: ``/v1/customers/cus_1`` -> ``customers``."""
    return path.removeprefix("/v1/").split("/", 1)[0]


def stripe_lineage(hook: StripeHook, *, read: Sequence[str] = (), wrote: Sequence[str] = ()) -> StripeLineage:
    """The lineage of a task that read the lists of the API paths ``read`` and wrote those of ``wrote``.

    Needs the OpenLineage provider, imported here: only it calls this.
    """
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    where = namespace(hook.settings)
    return OperatorLineage(
        inputs=[Dataset(namespace=where, name=list_name(path)) for path in read],
        outputs=[Dataset(namespace=where, name=list_name(path)) for path in wrote],
    )
