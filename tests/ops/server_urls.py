"""The project's URLs plus ``/_ops-test/slow?seconds=S``, a view that sleeps S seconds (at most
30) without touching the database: a request that holds a server thread. Test-only."""

import time

from django.http import HttpRequest, JsonResponse
from django.urls import path

from motcua.urls import urlpatterns as project_urlpatterns


def slow(request: HttpRequest) -> JsonResponse:
    seconds = min(30.0, max(0.0, float(request.GET.get("seconds", "0"))))
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})


urlpatterns = [path("_ops-test/slow", slow, name="ops-test-slow"), *project_urlpatterns]
