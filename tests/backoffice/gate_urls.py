"""The real URL configuration, except that the page views other modules own are replaced by
stubs that keep each view's access rule and render the bare layout.

Tests of the gate (sign-in, membership, second factor, role) and of the layout use it
(``@pytest.mark.urls("tests.backoffice.gate_urls")``), so they check the real declarations
and the real middleware without depending on what the pages show. One more view,
``forgotten``, declares no access rule at all.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path

from motcua import urls as real
from motcua.backoffice import access
from motcua.backoffice import urls as backoffice_urls
from motcua.backoffice.views import auth, home

# Modules of this foundation: kept as they are.
OWN = {view.__module__ for view in (auth.login, home.home)}


def stub_of(view, name: str):
    def stub(request, **kwargs):
        try:
            title = access.PAGE_LABELS[access.Page(name)]
        except ValueError:
            title = name
        return render(request, "backoffice/placeholder.html", {"title": title})

    rule = access.access_of(view)
    if rule is not None:
        setattr(stub, access.ACCESS_ATTRIBUTE, rule)
    return stub


def forgotten(request):
    return HttpResponse("should never be served")


patterns = [
    p
    if p.callback.__module__ in OWN
    else path(str(p.pattern), stub_of(p.callback, p.name), name=p.name)
    for p in backoffice_urls.urlpatterns
]
patterns.append(path("quen-khai-bao/", forgotten, name="forgotten"))

urlpatterns = [
    path("can-bo/", include((patterns, "backoffice"))),
    *[p for p in real.urlpatterns if getattr(p, "namespace", None) != "backoffice"],
]
