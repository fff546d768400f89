"""HTTP routes of the webhook feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
