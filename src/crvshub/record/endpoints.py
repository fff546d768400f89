"""HTTP routes of the record feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
