"""Import every table so that the metadata is complete (for Alembic and the model check)."""

from crvshub import bulk_load
from crvshub.auth import models as auth_models
from crvshub.certificate import models as certificate_models
from crvshub.db import Base
from crvshub.dci import models as dci_models
from crvshub.location import models as location_models
from crvshub.notification import models as notification_models
from crvshub.outbox import models as outbox_models
from crvshub.record import models as record_models
from crvshub.registration_hook import models as registration_hook_models
from crvshub.search import models as search_models
from crvshub.statistics import models as statistics_models
from crvshub.webhook import models as webhook_models

__all__ = [
    "Base",
    "auth_models",
    "bulk_load",
    "certificate_models",
    "dci_models",
    "location_models",
    "notification_models",
    "outbox_models",
    "record_models",
    "registration_hook_models",
    "search_models",
    "statistics_models",
    "webhook_models",
]
