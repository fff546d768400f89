#!/usr/bin/env bash
# Run OpenCRVS's own Postman collections (with newman) against a live CRVS Hub server.
# The collections are found via CRVSHUB_OPENCRVS_POSTMAN_DIR
# (default: ../shared/compat/opencrvs-postman); the tests skip with a message if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
# The collections send client secrets in the /token query string: an explicit opt-in.
export CRVSHUB_TOKEN_QUERY_CREDENTIALS=true
exec .venv/bin/python -m pytest tests/compat -v "$@"
