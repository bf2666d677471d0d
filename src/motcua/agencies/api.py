"""Calendar endpoints (filled in by the agencies work)."""

from ninja import Router

router = Router(tags=["calendar"])
