from django.urls import path

from signoff.sharing import views

app_name = "sharing"

urlpatterns = [
    # The guest's side: the token is the only credential, and opens nothing else.
    path("review/<str:token>/", views.review, name="review"),
    path("review/<str:token>/packages/<int:package_id>/", views.review_package, name="package"),
    path(
        "review/<str:token>/packages/<int:package_id>/comment/",
        views.review_comment,
        name="comment",
    ),
    # The content lead's side (signed in).
    path("review-links/", views.links, name="links"),
    path("review-links/<int:link_id>/revoke/", views.revoke, name="revoke"),
]
