"""Stakeholder review links: expiring, view-and-comment-only access for guests."""
