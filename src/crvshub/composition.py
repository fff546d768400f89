"""The one place that wires a process: routers, event listeners, job handlers, pollers, caches.

Every process (API, `crvshub worker`, CLI commands) builds its context with `build_context`,
so they all run the same listeners and handlers: nothing depends on which modules happened
to be imported.
"""

from __future__ import annotations

from types import MappingProxyType

from fastapi import APIRouter

from crvshub import ops
from crvshub.auth import endpoints as auth_endpoints
from crvshub.auth.cutoff import ActiveCache, CredentialCache
from crvshub.auth.keys import KeyRing
from crvshub.auth.ratelimit import AuthLimits, TokenBucket
from crvshub.auth.throttle import Policy, Throttle
from crvshub.certificate import endpoints as certificate_endpoints
from crvshub.certificate import service as certificate_service
from crvshub.certificate.cache import VerifyCache
from crvshub.certificate.keys import CertificateKeys
from crvshub.context import AppContext, Wiring
from crvshub.db import Database
from crvshub.dci import endpoints as dci_endpoints
from crvshub.dci import service as dci_service
from crvshub.dci import worker as dci_worker
from crvshub.fhir_records import endpoints as fhir_records_endpoints
from crvshub.fhir_records.fhir_capability import RECORD_RESOURCES
from crvshub.graphql import endpoints as graphql_endpoints
from crvshub.location import endpoints as location_endpoints
from crvshub.location.cache import LocationCache
from crvshub.location.fhir_capability import LOCATION
from crvshub.notification import endpoints as notification_endpoints
from crvshub.outbox.service import EventListeners
from crvshub.outbox.wakeup import Wakeup
from crvshub.record import endpoints as record_endpoints
from crvshub.registration_hook import endpoints as registration_hook_endpoints
from crvshub.registration_hook import service as registration_hook_service
from crvshub.registration_hook import worker as registration_hook_worker
from crvshub.search.service import vocabulary_of
from crvshub.settings import Settings
from crvshub.statistics import endpoints as statistics_endpoints
from crvshub.statistics import exports as statistics_exports
from crvshub.statistics import worker as statistics_worker
from crvshub.statistics.fhir_capability import EXPORT_OPERATIONS
from crvshub.web import certificates as web_certificates
from crvshub.web import endpoints as web_endpoints
from crvshub.web import forms as web_forms
from crvshub.web import integrations as web_integrations
from crvshub.web import performance as web_performance
from crvshub.web import records as web_records
from crvshub.web import reversal as web_reversal
from crvshub.web import users as web_users
from crvshub.webhook import endpoints as webhook_endpoints
from crvshub.webhook import fanout
from crvshub.webhook.delivery import DeliveryEngine
from crvshub.webhook.service import VerifySlots


def wiring() -> Wiring:
    """Name every domain-event listener, outbox job handler, worker poller and FHIR resource."""
    return Wiring(
        # In the emitting transaction: every event becomes a delivery per matching subscription.
        # A correction supersedes the record's earlier certificates; DCI subscriptions get a
        # notify queued per matching subscription.
        listeners=EventListeners((fanout.fan_out, certificate_service.supersede_on_correction,
                                  dci_service.notify_subscribers)),
        handlers=MappingProxyType({
            registration_hook_service.JOB_KIND: registration_hook_worker.call_hook,
            # An asynchronous DCI search, run after its ACK (dci.worker).
            dci_service.SEARCH_JOB: dci_worker.run_search,
            # Bulk exports, in short resumable steps (statistics.exports).
            statistics_exports.JOB_KIND: statistics_worker.run_export_step,
        }),
        # Drained by the worker loop beside the outbox jobs (recording while the next is sent).
        pollers=(DeliveryEngine.in_worker, statistics_worker.Housekeeping.in_worker),
        # DCI callbacks and notifies are webhook deliveries, signed at each attempt.
        delivery_bodies=MappingProxyType({dci_service.STYLE: dci_worker.sign_delivery}),
        # What /fhir/metadata declares.
        capabilities=(LOCATION, *RECORD_RESOURCES),
        operations=EXPORT_OPERATIONS,
        # The record workflow's port to the registration hook (record never imports it).
        external_validation=registration_hook_service.EXTERNAL_VALIDATION,
    )


def routers() -> tuple[APIRouter, ...]:
    """Return every feature router, in the order the API mounts them."""
    return (
        certificate_endpoints.verify_router,  # the public check most called (issue 16)
        ops.router,
        auth_endpoints.router,
        # Before any /fhir/Patient/{id} route: /fhir/Patient/$export is the bulk export.
        statistics_endpoints.router,
        location_endpoints.router,
        fhir_records_endpoints.router,
        notification_endpoints.router,
        record_endpoints.router,
        webhook_endpoints.router,
        registration_hook_endpoints.router,
        graphql_endpoints.router,
        certificate_endpoints.router,
        dci_endpoints.router,
        web_endpoints.router,
        web_forms.router,  # before web_records: /records/new is not a record id
        web_records.router,
        web_reversal.router,
        web_integrations.router,
        web_users.router,
        web_certificates.router,
        web_performance.router,
    )


def build_context(settings: Settings) -> AppContext:
    """Create a process's context: database, keys, caches and wiring (no database I/O)."""
    db = Database(settings.database_url, pool_size=5 if settings.is_sqlite else 10)
    wired = wiring()
    wired.listeners.attach(db.sessionmaker)
    wired.external_validation.attach(db.sessionmaker)
    location_cache = LocationCache(db, settings.location_cache_seconds)
    location_cache.watch(db.sessionmaker)
    # Commits that queued outbox jobs or webhook deliveries wake the workers (polling remains).
    wakeup = Wakeup(db.engine)
    wakeup.attach(db.sessionmaker)
    return AppContext(
        settings=settings,
        db=db,
        keys=KeyRing(settings.derived_key("encryption")),
        wiring=wired,
        location_cache=location_cache,
        active_cache=ActiveCache(),
        credential_cache=CredentialCache(),
        auth_limits=AuthLimits.from_settings(settings),
        auth_throttle=Throttle(db, Policy.from_settings(settings)),
        vocabulary=vocabulary_of(db.engine),
        webhook_verify_slots=VerifySlots(),
        wakeup=wakeup,
        certificate_keys=CertificateKeys(settings.derived_key("encryption")),
        verify_limit=TokenBucket(settings.verify_rate_per_second, settings.verify_rate_burst),
        verify_cache=VerifyCache(),
    )
