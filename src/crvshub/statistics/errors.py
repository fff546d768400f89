"""Errors of vital statistics and bulk export."""

from __future__ import annotations

from crvshub.errors import AppError


class InvalidStatisticsQuery(AppError):
    """A statistics query has a wrong period, event, level, area or dimension."""

    code = "STAT-400-001"
    status = 400
    issue_type = "value"
    title = "The statistics query is invalid"


class InvalidExportRequest(AppError):
    """A bulk export kick-off has a wrong `_type`, `_since`, `_outputFormat` or header."""

    code = "STAT-400-002"
    status = 400
    issue_type = "value"
    title = "The export request is invalid"


class ExportNotFound(AppError):
    """No export job with this id for this caller (or its file does not exist)."""

    code = "STAT-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such export"


class ExportExpired(AppError):
    """The export finished longer ago than its expiry: its files were deleted."""

    code = "STAT-410-001"
    status = 410
    issue_type = "not-found"
    title = "The export has expired"


class ExportFailed(AppError):
    """The export job failed; its status says why."""

    code = "STAT-500-001"
    status = 500
    issue_type = "exception"
    title = "The export failed"
