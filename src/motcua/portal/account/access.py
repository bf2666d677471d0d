"""Who is a citizen on the portal: any active signed-in user. Officers sign in at /can-bo/."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def citizen_required(view):
    """Send anonymous visitors to the portal's sign-in page, then back here."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            target = reverse("portal:account:sign_in")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapped
