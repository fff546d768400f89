"""HTTP routes of the notification feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
