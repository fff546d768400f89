"""Request bodies of the certificate API."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class PrintBody(BaseModel):
    """Who collected the certificate, the fee paid, and for a reprint the reason."""

    model_config = ConfigDict(populate_by_name=True)

    collector: str = Field(max_length=16, description="MOTHER, FATHER, INFORMANT or OTHER")
    collector_name: str | None = Field(default=None, alias="collectorName", max_length=200)
    id_type: str | None = Field(default=None, alias="idType", max_length=32)
    id_number: str | None = Field(default=None, alias="idNumber", max_length=64)
    fee: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    receipt: str | None = Field(default=None, max_length=64)
    reprint_reason: str | None = Field(default=None, alias="reprintReason", max_length=2000)
    paper: str = Field(default="A4", pattern="^(A4|Letter)$")


class RevokeBody(BaseModel):
    """Why a certificate is revoked."""

    reason: str = Field(min_length=1, max_length=2000)
