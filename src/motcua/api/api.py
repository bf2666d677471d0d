"""The REST API (Django Ninja), mounted under /api/v1/ with OpenAPI docs at /api/v1/docs.

Every error answers ``{"code": "<stable machine code>", "message": "<Vietnamese>"}``.
Each app contributes one router from its own ``api.py``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from motcua.core.errors import DomainError

api = NinjaAPI(
    title="motcua API",
    version="1",
    description=(
        "API của hệ thống một cửa điện tử motcua. Lỗi trả về dạng "
        '`{"code": "...", "message": "..."}` với mã lỗi ổn định và thông điệp tiếng Việt.'
    ),
    urls_namespace="api-v1",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    fields = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path")]
        fields.append({"field": ".".join(loc), "error": error.get("msg", "")})
    names = ", ".join(f["field"] for f in fields if f["field"]) or "yêu cầu"
    body = {
        "code": "invalid_parameters",
        "message": f"Tham số không hợp lệ: {names}.",
        "details": {"fields": fields},
    }
    return api.create_response(request, body, status=400)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError):
    body = {"code": "unauthenticated", "message": "Chưa xác thực hoặc mã truy cập không hợp lệ."}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    codes = {404: "not_found", 403: "forbidden", 405: "method_not_allowed"}
    body = {"code": codes.get(exc.status_code, "http_error"), "message": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled):
    body = {"code": "too_many_requests", "message": "Quá nhiều yêu cầu. Vui lòng thử lại sau."}
    response = api.create_response(request, body, status=429)
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response


def _register_routers() -> None:
    # Imported here so each app owns its router and the API module stays a thin shell.
    from motcua.agencies.api import router as agencies_router
    from motcua.catalog.api import router as catalog_router
    from motcua.dossiers.api import lookup_router
    from motcua.dossiers.api import router as dossiers_router
    from motcua.monitoring.api import router as monitoring_router

    api.add_router("/calendar", agencies_router)
    api.add_router("/procedures", catalog_router)
    api.add_router("/dossiers", dossiers_router)
    api.add_router("/lookup", lookup_router)
    api.add_router("/monitoring", monitoring_router)


_register_routers()
