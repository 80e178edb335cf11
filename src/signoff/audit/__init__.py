"""The append-only, hash-chained audit log.

Write with ``signoff.audit.services.record``/``record_many`` inside the caller's transaction;
read with ``signoff.audit.selectors``; verify with ``services.verify`` (or ``chain.verify_chain``
on an export, without Django). Register new action names with ``registry.register_action``.
"""
