"""The tus 1.0.0 server (core + creation, expiration, checksum, termination) as Django views.

Two URLs (mounted by ``motcua.portal.submission.urls``):

* the endpoint (``OPTIONS`` to discover, ``POST`` to create an upload),
* one upload (``HEAD`` for its offset, ``PATCH`` to append, ``DELETE`` to terminate).

Requests come from a signed-in account (the portal's session: state-changing methods carry the
CSRF token in ``X-CSRFToken``, as for any page). Errors answer with the status the protocol asks
for and a JSON body ``{"code", "message"}`` in Vietnamese. ``services.py`` does the work.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _

from motcua.core.errors import DomainError
from motcua.dossiers import files

from . import services
from .models import Upload

TUS_HEADERS = {"Tus-Resumable": services.TUS_VERSION}
EXPOSED = (
    "Location, Upload-Offset, Upload-Length, Upload-Expires, Upload-Metadata, Tus-Resumable, "
    "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"
)
OFFSET_STREAM = "application/offset+octet-stream"


def _response(status: int = 204, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(status=status)
    for name, value in {**TUS_HEADERS, **(headers or {})}.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response["Access-Control-Expose-Headers"] = EXPOSED
    return response


def _error(exc: DomainError) -> HttpResponse:
    response = JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
    for name, value in TUS_HEADERS.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    if exc.status == 412:
        response["Tus-Version"] = services.TUS_VERSION
    offset = exc.details.get("offset") if exc.details else None
    if offset is not None:
        response["Upload-Offset"] = str(offset)
    return response


def _fail(status: int, code: str, message: str) -> HttpResponse:
    error = services.UploadError(message, code=code)
    error.status = status
    return _error(error)


def _method(request: HttpRequest) -> str:
    return (request.headers.get("X-HTTP-Method-Override") or request.method or "").upper()


def _check_version(request: HttpRequest) -> HttpResponse | None:
    if request.headers.get("Tus-Resumable") != services.TUS_VERSION:
        return _fail(
            412,
            "tus_version",
            _("Máy khách phải dùng giao thức tus phiên bản %(v)s (tiêu đề Tus-Resumable).")
            % {"v": services.TUS_VERSION},
        )
    return None


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return _fail(401, "not_signed_in", _("Vui lòng đăng nhập để tải tệp lên."))
    return None


def _options() -> HttpResponse:
    return _response(
        204,
        {
            "Tus-Version": services.TUS_VERSION,
            "Tus-Extension": ",".join(services.TUS_EXTENSIONS),
            "Tus-Max-Size": str(files.max_upload_bytes()),
            "Tus-Checksum-Algorithm": ",".join(services.CHECKSUM_ALGORITHMS),
        },
    )


def _int_header(request: HttpRequest, name: str) -> int | None:
    value = request.headers.get(name)
    if value is None or not value.isdigit():
        return None
    return int(value)


def _expires(upload: Upload) -> dict:
    if upload.state != Upload.State.RECEIVING:
        return {}
    return {"Upload-Expires": http_date(upload.expires_at.timestamp())}


def endpoint(request: HttpRequest) -> HttpResponse:
    """``OPTIONS``: what this server supports; ``POST``: create an upload."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method != "POST":
        return _fail(405, "method_not_allowed", _("Phương thức không được hỗ trợ."))
    refused = _check_version(request) or _signed_in(request)
    if refused:
        return refused
    if request.headers.get("Upload-Defer-Length"):
        return _fail(
            400, "length_required", _("Cần khai báo kích thước tệp (Upload-Length) khi tạo.")
        )
    length = _int_header(request, "Upload-Length")
    if length is None:
        return _fail(400, "missing_length", _("Thiếu hoặc sai tiêu đề Upload-Length."))
    if (request.content_type or "").lower() == OFFSET_STREAM and _int_header(
        request, "Content-Length"
    ):
        return _fail(
            400,
            "creation_with_upload",
            _("Máy chủ không nhận dữ liệu kèm yêu cầu tạo: hãy gửi dữ liệu bằng PATCH."),
        )
    try:
        metadata = services.parse_metadata(request.headers.get("Upload-Metadata", ""))
        upload = services.create_upload(request.user, metadata, length)
    except DomainError as exc:
        return _error(exc)
    location = request.build_absolute_uri(
        reverse("portal:submission:tus_upload", args=[upload.uuid])
    )
    return _response(201, {"Location": location, **_expires(upload)})


def upload(request: HttpRequest, key) -> HttpResponse:
    """``HEAD``: the offset; ``PATCH``: append bytes; ``DELETE``: terminate."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    refused = _check_version(request) or _signed_in(request)
    if refused:
        return refused
    try:
        if method == "HEAD":
            found = services.status_of(request.user, key)
            return _response(
                200,
                {
                    "Upload-Offset": str(found.offset),
                    "Upload-Length": str(found.length),
                    **_expires(found),
                },
            )
        if method == "PATCH":
            return _patch(request, key)
        if method == "DELETE":
            services.terminate(request.user, key)
            return _response(204)
    except DomainError as exc:
        return _error(exc)
    return _fail(405, "method_not_allowed", _("Phương thức không được hỗ trợ."))


def _patch(request: HttpRequest, key) -> HttpResponse:
    content_type = (request.content_type or "").lower()
    if content_type != OFFSET_STREAM:
        return _fail(
            415,
            "invalid_content_type",
            _("Dữ liệu phải gửi với Content-Type: application/offset+octet-stream."),
        )
    offset = _int_header(request, "Upload-Offset")
    if offset is None:
        return _fail(400, "missing_offset", _("Thiếu hoặc sai tiêu đề Upload-Offset."))
    length = _int_header(request, "Content-Length")
    if length is None:
        return _fail(411, "length_required", _("Thiếu tiêu đề Content-Length."))
    checksum = services.parse_checksum(request.headers.get("Upload-Checksum", ""))
    found = services.write_chunk(
        request.user, key, offset=offset, content_length=length, stream=request, checksum=checksum
    )
    return _response(204, {"Upload-Offset": str(found.offset), **_expires(found)})
