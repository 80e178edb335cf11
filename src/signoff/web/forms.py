"""Forms of the web screens: they only parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from signoff.core import labels
from signoff.packages.decisions import BATCH_LIMIT
from signoff.web.accounts import person_of
from signoff.web.pages import MORE_SORTS, NO_OWNER, BoardQuery


class SignInForm(AuthenticationForm):
    """Email and password; only people active in a workspace may sign in."""

    username = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def confirm_login_allowed(self, user: object) -> None:
        super().confirm_login_allowed(user)
        if person_of(user) is None:
            raise ValidationError(
                "This account is not an active member of any workspace.", code="no_person"
            )


class BoardFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False)
    sku = forms.ChoiceField(required=False, label="SKU")
    state = forms.ChoiceField(required=False)
    severity = forms.ChoiceField(required=False, label="Findings")
    gate = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)
    mine = forms.BooleanField(required=False, label="Waiting on me")
    claim = forms.ChoiceField(required=False, label="Claim")
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[("", "In order made"), ("confidence", "Lowest confidence first")]
        + [(key, label) for key, (label, _) in MORE_SORTS.items()],
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data: object, *, choices: dict[str, list]) -> None:
        super().__init__(data)
        self.fields["channel"].choices = [("", "All channels")] + [
            (c, labels.channel_label(c, labels.channel_names())) for c in choices["channels"]
        ]
        self.fields["sku"].choices = [("", "All SKUs")] + [(s, s) for s in choices["skus"]]
        self.fields["state"].choices = [("", "All states")] + [
            (s, labels.state_label(s)) for s in choices["states"]
        ]
        self.fields["severity"].choices = [("", "Any findings")] + [
            (s, f"has {s}") for s in choices["severities"]
        ]
        self.fields["gate"].choices = [("", "Any gate")] + [
            (g, f"waiting on {label}") for g, label in choices["gates"]
        ]
        self.fields["owner"].choices = [("", "Any owner")] + [
            (o, "no owner" if o == NO_OWNER else o) for o in choices["owners"]
        ]
        self.fields["claim"].choices = [("", "Any claim")] + [
            (c, f"makes {c}") for c in choices.get("claims", [])
        ]
        for name in ("channel", "sku", "state", "gate", "owner", "severity", "sort", "claim"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label or name.title()

    def query(self) -> BoardQuery:
        """Return the filters; unknown values are dropped rather than failing the board."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return BoardQuery(
            channel=data.get("channel") or "",
            sku=data.get("sku") or "",
            state=data.get("state") or "",
            severity=data.get("severity") or "",
            gate=data.get("gate") or "",
            owner=data.get("owner") or "",
            mine=bool(data.get("mine")),
            claim=data.get("claim") or "",
            sort=data.get("sort") or "",
            page=data.get("page") or 1,
        )


class BatchForm(forms.Form):
    ACTIONS = [
        ("review", "Mark reviewed"),
        ("approve", "Approve"),
        ("reject", "Reject"),
        ("review_approve", "Review and approve"),
    ]
    BATCH_ACTIONS = [*ACTIONS, ("reassign", "Reassign to")]

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Packages")
    action = forms.ChoiceField(choices=BATCH_ACTIONS)
    note = forms.CharField(required=False, max_length=2000, widget=forms.TextInput)
    # An email; the service refuses, per item, anyone not active in the workspace.
    owner = forms.CharField(required=False, max_length=254)

    def __init__(self, data: object) -> None:
        super().__init__(data)
        # Any integer is accepted here; the services refuse ids outside the workspace.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(i, i) for i in raw if str(i).isdigit()]

    def clean_ids(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if len(ids) > BATCH_LIMIT:
            raise ValidationError(
                f"At most {BATCH_LIMIT} packages per batch (the API's limit too); "
                f"{len(ids)} were selected. Nothing was changed: select fewer and try again.",
                code="batch_limit",
            )
        return ids


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=BatchForm.ACTIONS)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class FixForm(forms.Form):
    finding = forms.IntegerField(min_value=1)


class BriefApproveForm(forms.Form):
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MatrixApproveForm(forms.Form):
    """Approve one cell of the approval matrix at the launch gate."""

    package = forms.IntegerField(min_value=1)


class ApproveForLaunchForm(forms.Form):
    """Approve, as a batch, a channel's packages waiting on the launch gate."""

    channel = forms.CharField(max_length=100)


class LaunchForm(forms.Form):
    channel = forms.CharField(max_length=100)
    confirm = forms.BooleanField(
        required=True,
        label="I understand that launching publishes these packages and cannot be undone.",
    )
