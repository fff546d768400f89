"""OpenCRVS's own Location Postman collection passes, unchanged, against a live server."""

from __future__ import annotations

from tests.compat.newman import run_collection
from tests.helpers import HARAMBO_DISTRICT_SID, NATLSYSADMIN, user_token
from tests.location.helpers import DISTRICT_ID


def test_location_collection(live_server, tmp_path) -> None:
    token = user_token(live_server.ctx, NATLSYSADMIN)
    executions = run_collection(
        "Location.postman_collection.json",
        live_server.url,
        {"statisticalID": HARAMBO_DISTRICT_SID, "fhirID": DISTRICT_ID,
         "natsysadmin-token": token},
        tmp_path,
    )
    assert len(executions) == 12
