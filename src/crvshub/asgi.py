"""ASGI entry point for uvicorn and other servers: `uvicorn --factory crvshub.asgi:create`."""

from __future__ import annotations

from fastapi import FastAPI

from crvshub.app import create_app


def create() -> FastAPI:
    """Create the application from the environment's settings."""
    return create_app()
