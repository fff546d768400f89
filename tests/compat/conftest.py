"""OpenCRVS's Postman collections send client secrets in the /token query string."""

from __future__ import annotations

import pytest

from crvshub.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with the OpenCRVS query-credentials opt-in turned on explicitly."""
    return settings.model_copy(update={"token_query_credentials": True})
