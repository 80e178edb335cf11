"""Sign-in accounts for workspace people, and who the signed-in user is."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from signoff.web.models import Account
from signoff.workspaces.models import Person, Workspace


def username_for(person: Person) -> str:
    """Return the sign-in name: the email, or ``workspace/email`` when the email is taken."""
    User = get_user_model()
    taken = (
        User.objects.filter(username__iexact=person.email)
        .exclude(signoff_account__person=person)
        .exists()
    )
    return f"{person.workspace.slug}/{person.email}" if taken else person.email


def ensure_user(person: Person, password: str | None = None) -> AbstractBaseUser:
    """Return the person's Django user, creating it (and setting ``password``) as needed.

    Without a password a new user cannot sign in until one is set; an existing user's
    password changes only when one is given.
    """
    User = get_user_model()
    with transaction.atomic():
        account = Account.objects.select_related("user").filter(person=person).first()
        if account is None:
            user = User(username=username_for(person), email=person.email)
            user.first_name = person.name[:150]
            if password is None:
                user.set_unusable_password()
            else:
                user.set_password(password)
            user.save()
            Account.objects.create(user=user, person=person)
            return user
        user = account.user
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user


def ensure_users(workspace: Workspace, password: str) -> list[AbstractBaseUser]:
    """Give every active person of ``workspace`` a user with ``password`` (demo and tests)."""
    return [
        ensure_user(person, password)
        for person in workspace.people.filter(active=True).order_by("email")
    ]


def person_of(user: AbstractBaseUser) -> Person | None:
    """Return the active workspace person behind a signed-in user, or None."""
    if not user.is_authenticated:
        return None
    return (
        Person.objects.select_related("workspace").filter(account__user=user, active=True).first()
    )
