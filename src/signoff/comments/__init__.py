"""Inline comments: anchored to a passage of one field, with @mentions, resolved when done.

The comment's text is a ``packages.Note`` (memory: later drafts and ``memory search`` read it,
like every note); this app keeps where it points, whom it mentions and when it was resolved.
"""
