"""What is due to whom, and whether the workspace's notification settings can be used: pure
Python, no Django (the services read the rows and send).

A package waiting at a gate past the gate's SLA is due a **reminder** to the gate's owner;
past the gate's escalation limit (``notifications.escalation.<template>.<gate>.after_hours``)
it is due an **escalation** to the escalation contact (and the owner again). A person who
opted in (``people[].digest: true``) is due one **digest** a day, from ``digest_hour`` UTC,
when something waits on them.

Each notification has a dedup key, unique in the database, so it is sent once whatever the
number of ``signoff notify`` runs and workers: per package, gate and step, and per channel it
goes out on. The key carries the start of the wait, so a package that waits at the same gate
again (after a rejection) is reminded again: that is a new wait, not the same one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signoff.workflow import SettingsError, TemplateName, load_template

REMINDER = "reminder"
ESCALATION = "escalation"
DIGEST = "digest"
EMAIL = "email"
WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Waiting:
    """One package waiting at a gate now."""

    package: int
    brief: str
    sku: str
    channel: str
    gate: str
    template: str
    since: datetime  # when it entered the gate's position
    sla_hours: float
    owners: tuple[str, ...]  # the people reminded: the package's owner, or the role's holders

    def hours(self, now: datetime) -> float:
        return (now - self.since).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Due:
    """One notification to send on one channel."""

    key: str
    kind: str  # reminder | escalation | digest
    channel: str  # email | webhook
    recipients: tuple[str, ...]
    subject: str
    body: str
    package: int | None = None
    gate: str = ""
    person: str = ""  # a digest's reader
    data: Mapping[str, Any] = field(default_factory=dict)


def _line(item: Waiting, now: datetime) -> str:
    return (
        f"{item.brief}: {item.sku} x {item.channel} waits at {item.gate} for "
        f"{item.hours(now):.1f} h (SLA {item.sla_hours:g} h)"
    )


def due_for_waits(
    waiting: Sequence[Waiting],
    *,
    now: datetime,
    escalation: Mapping[str, Mapping[str, Mapping[str, Any]]],
    webhook: bool,
    email: bool,
) -> list[Due]:
    """Reminders and escalations due now, one per channel each."""
    channels = [c for c, on in ((EMAIL, email), (WEBHOOK, webhook)) if on]
    due: list[Due] = []
    for item in waiting:
        hours = item.hours(now)
        if hours <= item.sla_hours:
            continue
        steps = [(REMINDER, item.owners)]
        rule = escalation.get(item.template, {}).get(item.gate)
        if rule and hours > float(rule["after_hours"]):
            contact = str(rule["contact"]).lower()
            steps.append((ESCALATION, (contact, *[o for o in item.owners if o != contact])))
        for step, people in steps:
            head = "Escalation" if step == ESCALATION else "Reminder"
            subject = f"{head}: {item.sku} x {item.channel} waits at {item.gate}"
            body = _line(item, now) + (
                f"; past the escalation limit of {float(rule['after_hours']):g} h"
                if step == ESCALATION and rule
                else ""
            )
            body += f". Waiting on: {', '.join(item.owners) or 'nobody holds the role'}."
            for channel in channels:
                recipients = tuple(people) if channel == EMAIL else ()
                if channel == EMAIL and not recipients:
                    continue
                due.append(
                    Due(
                        key=f"{step}:{item.package}:{item.gate}:{int(item.since.timestamp())}"
                        f":{channel}",
                        kind=step,
                        channel=channel,
                        recipients=recipients,
                        subject=subject,
                        body=body,
                        package=item.package,
                        gate=item.gate,
                        data={
                            "brief": item.brief,
                            "sku": item.sku,
                            "channel": item.channel,
                            "waiting_hours": round(hours, 1),
                            "sla_hours": item.sla_hours,
                        },
                    )
                )
    return due


def due_digests(
    waiting_on: Mapping[str, Sequence[Waiting]],
    *,
    now: datetime,
    digest_hour: int,
    workspace: str,
) -> list[Due]:
    """One digest per opted-in person of the ``workspace`` (its slug) with something waiting
    on them, once a day from ``digest_hour`` UTC (``now`` is UTC)."""
    if now.hour < digest_hour:
        return []
    day = now.date().isoformat()
    due = []
    for person, items in sorted(waiting_on.items()):
        if not items:
            continue
        ordered = sorted(items, key=lambda w: w.since)
        late = sum(1 for w in ordered if w.hours(now) > w.sla_hours)
        lines = [f"- {_line(w, now)}" for w in ordered]
        due.append(
            Due(
                # The workspace is in the key: one address may be a person of several
                # workspaces, and each one's digest is its own (keys are unique across all).
                key=f"{DIGEST}:{workspace}:{person}:{day}:{EMAIL}",
                kind=DIGEST,
                channel=EMAIL,
                recipients=(person,),
                subject=f"Signoff: {len(ordered)} waiting on you ({late} past SLA), {day}",
                body="\n".join([f"Waiting on you on {day}:", *lines]),
                person=person,
                data={"waiting": len(ordered), "past_sla": late, "day": day},
            )
        )
    return due


# --- settings checks (at workspace load) ----------------------------------------------------


def _http_url_problem(value: str) -> str | None:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
        return "is not an http(s) URL (https://hooks.slack.com/services/...)"
    return None


def webhook_url(variable: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The webhook URL the named environment variable holds, or None when none is named."""
    if not variable:
        return None
    return (environ if environ is not None else os.environ).get(variable, "").strip() or None


def settings_problems(
    settings: Mapping[str, Any],
    *,
    people: Sequence[str],
    workflows: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> list[tuple[tuple, str]]:
    """Every problem with a workspace's ``notifications`` section, each with its location
    (``("notifications", "escalation", "ecommerce", "G3", "contact")``)."""
    environ = environ if environ is not None else os.environ
    problems: list[tuple[tuple, str]] = []
    where = ("notifications",)
    variable = settings.get("webhook_env")
    if isinstance(variable, str) and variable:
        value = environ.get(variable, "").strip()
        if not value:
            problems.append(
                (
                    (*where, "webhook_env"),
                    f"the environment variable {variable} is not set; set it to the incoming "
                    "webhook URL where Signoff runs, or remove webhook_env",
                )
            )
        elif (said := _http_url_problem(value)) is not None:
            problems.append(((*where, "webhook_env"), f"{variable}={value!r} {said}"))
    escalation = settings.get("escalation")
    if not isinstance(escalation, Mapping):
        return problems
    known = {p.lower() for p in people}
    for name, gates in escalation.items():
        path = (*where, "escalation", str(name))
        if str(name) not in {t.value for t in TemplateName}:
            known_templates = ", ".join(t.value for t in TemplateName)
            problems.append((path, f"unknown workflow template; expected one of {known_templates}"))
            continue
        try:
            template = load_template(str(name), workflows.get(name) or None)
        except SettingsError:  # reported under workflows: check against the shipped SLAs
            template = load_template(str(name))
        if not isinstance(gates, Mapping):
            continue
        for gate_id, rule in gates.items():
            gate_path = (*path, str(gate_id))
            try:
                gate = template.gate(str(gate_id))
            except ValueError:
                ids = ", ".join(g.id for g in template.gates)
                problems.append((gate_path, f"unknown gate for {name}; expected one of {ids}"))
                continue
            if not isinstance(rule, Mapping):
                continue
            contact = rule.get("contact")
            if isinstance(contact, str) and contact.lower() not in known:
                problems.append(
                    (
                        (*gate_path, "contact"),
                        f"{contact!r} is not one of this workspace's people; expected one of "
                        f"{', '.join(sorted(known)) or 'none listed'}",
                    )
                )
            after = rule.get("after_hours")
            if isinstance(after, int | float) and not isinstance(after, bool):
                if after <= gate.sla_hours:
                    problems.append(
                        (
                            (*gate_path, "after_hours"),
                            f"expected more hours than {gate_id}'s SLA ({gate.sla_hours:g} h): "
                            "escalation comes after the reminder",
                        )
                    )
    return problems
