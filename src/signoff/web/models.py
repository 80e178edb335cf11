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


class AuthFailures(models.Model):
    """Failed sign-ins (or unknown API or review-link tokens) of one account from one address
    in one minute.

    The throttle sums these rows; once the minute is over, one audit event carries the row's
    counts (``recorded``), and the row is deleted when the throttle no longer looks that far
    back. Kept in the database, so every server process counts the same attempts.
    """

    class Kind(models.TextChoices):
        SIGNIN = "signin"  # the web sign-in form: a wrong email or password
        TOKEN = "token"  # the API: a bearer token that was never issued
        LINK = "link"  # a review link (/review/<token>/) whose token was never issued

    kind = models.CharField(max_length=10, choices=Kind.choices)
    account = models.CharField(max_length=254, blank=True)  # as typed, lowercased; "" for tokens
    address = models.CharField(max_length=64)  # the client's IP address (IPv6: its /64)
    minute = models.DateTimeField()  # the start of the minute
    failures = models.PositiveIntegerField(default=0)  # credentials checked and wrong
    throttled = models.PositiveIntegerField(default=0)  # refused with 429, nothing checked
    recorded = models.BooleanField(default=False)  # its audit event is written

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "account", "address", "minute"], name="auth_failures_unique"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "account", "minute"], name="auth_failures_account"),
            models.Index(fields=["kind", "address", "minute"], name="auth_failures_address"),
            models.Index(fields=["recorded", "minute"], name="auth_failures_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account or '-'} from {self.address} at {self.minute}"


class SavedView(models.Model):
    """One person's named board view: the board's filters and sort as a query string.

    Per person, not per brief: a view like "waiting on me, most blocking first" is the same
    on every brief's board.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    params = models.CharField(max_length=1000, blank=True)  # "mine=on&sort=findings"
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "name"], name="saved_view_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.person}: {self.name}"
