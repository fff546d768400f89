"""Fixtures of the DCI tests: loopback callbacks allowed, the worker run by the tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crvshub.settings import Settings
from tests.webhook.receiver import Receiver


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings: no embedded worker (tests run it), callbacks to loopback allowed."""
    return Settings(database_url=database_url, environment="test", embedded_worker=False,
                    log_level="WARNING", webhook_allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A social-protection system's callback endpoint."""
    rec = Receiver().start()
    yield rec
    rec.stop()
