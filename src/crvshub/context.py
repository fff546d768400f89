"""Process-wide objects shared by requests and workers: settings, database, keys, caches, wiring.

An `AppContext` is built only by `crvshub.composition.build_context`, which wires the listeners,
job handlers and pollers the process needs and creates its caches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from crvshub import models as _all_models  # noqa: F401  (complete metadata for FKs)
from crvshub.auth.keys import KeyRing
from crvshub.db import Database
from crvshub.settings import Settings

if TYPE_CHECKING:
    from crvshub.auth.cutoff import ActiveCache, CredentialCache
    from crvshub.auth.ratelimit import AuthLimits, TokenBucket
    from crvshub.auth.throttle import Throttle
    from crvshub.certificate.cache import VerifyCache
    from crvshub.certificate.keys import CertificateKeys
    from crvshub.fhir.capability import Operation, ResourceCapability
    from crvshub.location.cache import LocationCache
    from crvshub.outbox.service import EventListeners
    from crvshub.outbox.wakeup import Wakeup
    from crvshub.outbox.worker import Handler, PollerFactory
    from crvshub.record.ports import ExternalValidation
    from crvshub.search.service import VocabularyCache
    from crvshub.webhook.delivery import BodyFinaliser
    from crvshub.webhook.service import VerifySlots


@dataclass(frozen=True)
class Wiring:
    """What runs in a process besides its routes, named once for every process kind."""

    listeners: EventListeners
    handlers: Mapping[str, Handler]
    pollers: tuple[PollerFactory, ...]
    capabilities: tuple[ResourceCapability, ...]
    external_validation: ExternalValidation
    operations: tuple[Operation, ...] = ()  # FHIR operations, for the CapabilityStatement
    # Webhook deliveries whose body is made when sent, by subscription style (DCI: signed).
    delivery_bodies: Mapping[str, BodyFinaliser] = field(default_factory=dict)


@dataclass
class AppContext:
    """Everything a request handler or worker needs besides its session."""

    settings: Settings
    db: Database
    keys: KeyRing
    wiring: Wiring
    location_cache: LocationCache
    active_cache: ActiveCache
    credential_cache: CredentialCache
    auth_limits: AuthLimits
    auth_throttle: Throttle
    vocabulary: VocabularyCache
    webhook_verify_slots: VerifySlots
    wakeup: Wakeup
    certificate_keys: CertificateKeys
    verify_limit: TokenBucket
    verify_cache: VerifyCache


def get_context(request: Request) -> AppContext:
    """Return the application context of the current request."""
    ctx: AppContext = request.app.state.ctx
    return ctx
