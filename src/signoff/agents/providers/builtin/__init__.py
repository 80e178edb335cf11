"""The builtin provider: deterministic, spec-valid copy composed from the brief's facts.

The offline default, not a placeholder. No model, no randomness, no network: the same request
always gives the same fields. It says only what the data says: the product's attributes as
given, the wording of claims that are approved *and* claimed for this product, and key
messages whose every claim is usable and whose every number is in the product data. Every
field the channel declares is written; ``compose.py`` fits each one to its limits.

Variants differ on purpose: each letter takes a different lead (scent, ritual, benefit,
material), a different order of facts and different short lines. A rejected package's notes
move the lead on too, so a redraft never repeats the copy that was rejected.

The modules, each importing only those listed before it:

``vocabulary``
    The tables: leads, the order facts are told in, attribute keys, units, special words.
``memo``
    Memos by object identity, so a run compiles rules and builds facts once, not per draft.
``rules``
    A brand's rules and a channel's fields compiled into rewrites, claim screens and guards.
``facts``
    What may be said about one product: its attributes, usable claims and key messages.
``wording``
    Sentences from facts: opening lines per lead, fact sentences per tone, filler.
``composers``
    One composer per ``compose`` kind, each returning a ``Plan`` for its field.
``filling``
    A plan fitted to its field's spec and screened, memoised across a product's channels.
``provider``
    ``BuiltinProvider``, the port implementation that drafts every field of a channel.
"""

from __future__ import annotations

from signoff.agents.providers.builtin.provider import BuiltinProvider

__all__ = ["BuiltinProvider"]
