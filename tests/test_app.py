"""The application's start: a warm start leaves no preparation to the first requests."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from crvshub.app import create_app
from crvshub.settings import Settings
from tests.helpers import new_client

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _preparations_during_first_requests(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """Start the app, then count route preparations and location loads of three requests."""
    app = create_app(settings, start_worker=False)
    calls = {"routes": 0, "locations": 0}
    with TestClient(app, raise_server_exceptions=False) as client:
        ctx = app.state.ctx
        prepare = fastapi.routing._EffectiveRouteContext.from_api_route
        load = ctx.location_cache._refresh

        def counted_prepare(*args: Any, **kwargs: Any) -> Any:
            calls["routes"] += 1
            return prepare(*args, **kwargs)

        def counted_load() -> None:
            calls["locations"] += 1
            load()

        monkeypatch.setattr(fastapi.routing._EffectiveRouteContext, "from_api_route",
                            staticmethod(counted_prepare))
        monkeypatch.setattr(ctx.location_cache, "_refresh", counted_load)
        _creds, token = new_client(ctx, "HEALTH")
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/location?type=CRVS_OFFICE&_count=1", headers=headers).status_code == 200
        assert client.get("/fhir/metadata").status_code == 200
        assert client.post("/notification", json={}, headers=headers).status_code == 400
    return calls["routes"], calls["locations"]


def test_a_warm_start_prepares_every_route_and_the_location_tree(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = settings.model_copy(update={"warm_start": True, "location_cache_seconds": 60})
    assert _preparations_during_first_requests(warm, monkeypatch) == (0, 0)


def test_a_cold_start_leaves_the_preparation_to_the_first_requests(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The counterpart of the test above: it proves the counting sees the work when it is done.
    cold = settings.model_copy(update={"warm_start": False, "location_cache_seconds": 60})
    routes, locations = _preparations_during_first_requests(cold, monkeypatch)
    assert routes > 0 and locations == 1


def test_a_warm_start_learns_the_known_name_terms(settings: Settings) -> None:
    """The first name searched after a restart does not wait for the vocabulary to load."""
    from tests.record.graphql_helpers import birth, notify

    first = create_app(settings, start_worker=False)
    with TestClient(first) as client:
        notify(client, first.state.ctx, birth(child="Tendai"))
    for warm_start, learnt in ((False, 0), (True, 1)):
        app = create_app(settings.model_copy(update={"warm_start": warm_start}),
                         start_worker=False)
        with TestClient(app):
            vocabulary = app.state.ctx.vocabulary._vocabulary
            assert (vocabulary.version > 0) == bool(learnt), warm_start
            assert ("tendai" in vocabulary.alike(["tendai"])) == bool(learnt)


def test_a_warm_start_hides_what_it_loaded_from_the_garbage_collector(
    settings: Settings,
) -> None:
    """Full collections do not walk the known name terms on every search that triggers one."""
    import gc

    gc.unfreeze()
    try:
        app = create_app(settings.model_copy(update={"warm_start": True}), start_worker=False)
        with TestClient(app):
            vocabulary = app.state.ctx.vocabulary._vocabulary
            assert gc.get_freeze_count() > 0
            assert gc.is_tracked(vocabulary)
            assert all(o is not vocabulary for o in gc.get_objects())  # frozen
    finally:
        gc.unfreeze()
