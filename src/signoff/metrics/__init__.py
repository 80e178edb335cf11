"""Operations metrics: how the team's work goes, derived from the audit log and the packages.

``compute`` is pure (no Django): the definitions and the groupings. ``selectors`` reads the
rows into its records. See docs/metrics.md.
"""
