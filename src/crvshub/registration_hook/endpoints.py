"""HTTP routes of the registration hook feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
