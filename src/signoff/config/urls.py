from django.urls import include, path

from signoff.api.api import urls as api_urls

urlpatterns: list = [
    path("api/", api_urls()),  # REST API; OpenAPI at /api/openapi.json, docs at /api/docs
    path("", include("signoff.web.urls")),  # the web screens (signoff.web)
    path("", include("signoff.sharing.urls")),  # review links: /review/<token>/, /review-links/
]
