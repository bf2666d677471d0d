"""Procedure catalogue endpoints."""

from ninja import Router

router = Router(tags=["procedures"])
