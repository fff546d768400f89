"""ASGI entry point for uvicorn and other servers: `uvicorn --factory crvshub.asgi:create`."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from crvshub.app import create_app


def create() -> FastAPI:
    """Create the application from the environment's settings."""
    app = create_app()
    # Everything loaded so far (modules, routes, settings) lives as long as the server process:
    # keep it out of the garbage collector's scans, which then only walk per-request objects.
    gc.freeze()
    return app
