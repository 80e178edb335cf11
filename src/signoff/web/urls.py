from django.urls import path

from signoff.web import (
    views,
    views_feeds,
    views_image_compare,
    views_image_edit,
    views_images,
    views_intake,
    views_proof,
    views_references,
    views_tokens,
)
from signoff.web.views_compare import package_compare, package_compare_rate
from signoff.web.views_dashboard import dashboard, dashboard_layout

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("tokens/", views_tokens.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views_tokens.token_revoke, name="token-revoke"),
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/layout/", dashboard_layout, name="dashboard-layout"),
    # Before the board's <slug:slug>, which would take "new" for a brief (the slug is reserved).
    path("briefs/new/", views_intake.brief_new, name="brief-new"),
    path("briefs/<slug:slug>/", views.board, name="board"),
    path("briefs/<slug:slug>/batch/", views.board_batch, name="board-batch"),
    path("briefs/<slug:slug>/brief/", views.brief, name="brief"),
    path("briefs/<slug:slug>/brief/approve/", views.brief_approve, name="brief-approve"),
    path("briefs/<slug:slug>/matrix/", views.matrix, name="matrix"),
    path("briefs/<slug:slug>/matrix/approve/", views.matrix_approve, name="matrix-approve"),
    path(
        "briefs/<slug:slug>/matrix/approve-for-launch/",
        views.matrix_approve_channel,
        name="matrix-approve-channel",
    ),
    path("briefs/<slug:slug>/launch/", views.launch, name="launch"),
    path("briefs/<slug:slug>/feeds/<str:channel>/", views_feeds.channel_feed, name="feed"),
    path("briefs/<slug:slug>/run/", views_intake.brief_run, name="brief-run"),
    path(
        "briefs/<slug:slug>/run/progress/",
        views_intake.brief_run_progress,
        name="brief-run-progress",
    ),
    path(
        "briefs/<slug:slug>/data-requests/",
        views_intake.brief_data_requests,
        name="brief-data-requests",
    ),
    path(
        "briefs/<slug:slug>/data-requests/new/",
        views_intake.brief_data_request,
        name="brief-data-request",
    ),
    path("briefs/<slug:slug>/images/", views_images.images, name="images"),
    path(
        "briefs/<slug:slug>/images/generate/",
        views_images.images_generate,
        name="images-generate",
    ),
    path(
        "briefs/<slug:slug>/images/progress/",
        views_images.images_progress,
        name="images-progress",
    ),
    path("briefs/<slug:slug>/images/render/", views_images.images_render, name="images-render"),
    path(
        "briefs/<slug:slug>/images/compare/",
        views_image_compare.images_compare,
        name="images-compare",
    ),
    path(
        "briefs/<slug:slug>/images/compare/run/",
        views_image_compare.images_compare_run,
        name="images-compare-run",
    ),
    path(
        "briefs/<slug:slug>/images/compare/<str:token>/",
        views_image_compare.images_compared,
        name="images-compared",
    ),
    path(
        "briefs/<slug:slug>/images/compare/<str:token>/keep/",
        views_image_compare.images_compare_keep,
        name="images-compare-keep",
    ),
    path(
        "briefs/<slug:slug>/images/compare/<str:token>/options/<int:number>/",
        views_image_compare.compare_option_file,
        name="images-compare-file",
    ),
    path(
        "briefs/<slug:slug>/references/add/",
        views_references.add_reference_files,
        name="references-add",
    ),
    path("images/<int:image_id>/", views_images.image, name="image"),
    path("images/<int:image_id>/rate/", views_images.image_rate, name="image-rate"),
    path("images/<int:image_id>/select/", views_images.image_select, name="image-select"),
    path("images/<int:image_id>/edit/", views_images.image_edit, name="image-edit"),
    path(
        "images/<int:image_id>/edit/prompt/",
        views_image_edit.image_prompt_edit,
        name="image-prompt-edit",
    ),
    path("images/<int:image_id>/proof/", views_proof.image_proof, name="image-proof"),
    path("images/<int:image_id>/proof.pdf", views_proof.image_proof_pdf, name="image-proof-pdf"),
    path(
        "renditions/<int:rendition_id>/proof/",
        views_proof.rendition_proof,
        name="rendition-proof",
    ),
    path(
        "renditions/<int:rendition_id>/proof.pdf",
        views_proof.rendition_proof_pdf,
        name="rendition-proof-pdf",
    ),
    path("files/images/<int:image_id>/crop/", views_proof.image_crop, name="image-crop"),
    path(
        "files/renditions/<int:rendition_id>/crop/",
        views_proof.rendition_crop,
        name="rendition-crop",
    ),
    path("files/images/<int:image_id>/", views_images.image_file, name="image-file"),
    path(
        "files/renditions/<int:rendition_id>/",
        views_images.rendition_file,
        name="rendition-file",
    ),
    path(
        "files/references/<int:reference_id>/",
        views_images.reference_file,
        name="reference-file",
    ),
    path("packages/<int:package_id>/", views.package, name="package"),
    path("packages/<int:package_id>/decide/", views.package_decide, name="package-decide"),
    path("packages/<int:package_id>/fix/", views.package_fix, name="package-fix"),
    path("packages/<int:package_id>/comment/", views.package_comment, name="package-comment"),
    path("packages/<int:package_id>/compare/", package_compare, name="package-compare"),
    path(
        "packages/<int:package_id>/compare/rate/",
        package_compare_rate,
        name="package-compare-rate",
    ),
]
