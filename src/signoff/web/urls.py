from django.urls import path

from signoff.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("briefs/<slug:slug>/", views.board, name="board"),
    path("briefs/<slug:slug>/batch/", views.board_batch, name="board-batch"),
    path("briefs/<slug:slug>/brief/", views.brief, name="brief"),
    path("briefs/<slug:slug>/brief/approve/", views.brief_approve, name="brief-approve"),
    path("briefs/<slug:slug>/matrix/", views.matrix, name="matrix"),
    path("briefs/<slug:slug>/launch/", views.launch, name="launch"),
    path("packages/<int:package_id>/", views.package, name="package"),
    path("packages/<int:package_id>/decide/", views.package_decide, name="package-decide"),
    path("packages/<int:package_id>/fix/", views.package_fix, name="package-fix"),
]
