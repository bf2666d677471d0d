"""Back-office URLs, mounted at /can-bo/ (namespace ``backoffice``).

Each page module in ``views/`` owns its routes (its ``urlpatterns``), so adding a route to one
page touches only that page's module. Every view must carry ``access.officer_view`` or
``access.public_view``: the middleware refuses the others.
"""

from .views import auth, dossier, home, inbox, intake, monitoring, registers, returns

app_name = "backoffice"

urlpatterns = [
    *home.urlpatterns,
    *auth.urlpatterns,
    *intake.urlpatterns,
    *inbox.urlpatterns,
    *dossier.urlpatterns,
    *returns.urlpatterns,
    *registers.urlpatterns,
    *monitoring.urlpatterns,
]
