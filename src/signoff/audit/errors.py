"""Errors raised by the audit log. All are programming errors in the caller, not user input."""

from __future__ import annotations


class AuditError(Exception):
    """Base class for audit log errors."""


class UnknownAction(AuditError, ValueError):
    """The action name was never registered with ``register_action``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unregistered audit action {name!r}; register it with register_action()")
        self.name = name


class NotInTransaction(AuditError, RuntimeError):
    """``record()`` was called outside ``transaction.atomic()``.

    The event must commit or roll back with the change it describes; written on its own it
    could describe a change that never happened, or miss one that did.
    """

    def __init__(self) -> None:
        super().__init__(
            "audit events must be recorded inside the caller's transaction.atomic() block"
        )


class EventImmutable(AuditError):
    """Something tried to change or delete an audit event."""

    def __init__(self, seq: int | None = None) -> None:
        what = f"audit event #{seq}" if seq is not None else "audit events"
        super().__init__(f"{what} cannot be changed or deleted: the audit log is append-only")
        self.seq = seq
