"""Who a signed-in Django user is in a workspace."""

from django.conf import settings
from django.db import models

from signoff.workspaces.models import Person


class Account(models.Model):
    """Links one Django user (sessions, password) to one workspace person (roles, scope).

    Roles stay on the person, read from the workspace file: the web app never grants any.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signoff_account"
    )
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="account")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} -> {self.person}"


class DashboardLayout(models.Model):
    """One person's dashboard: which widgets, in which order (names from ``web.dashboards``).

    No row means the person's role defaults; an empty list means they removed every widget.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="dashboard_layout")
    widgets = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.person}: {', '.join(self.widgets)}"
