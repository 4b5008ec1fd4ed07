"""One declarative model per file a user writes; unknown keys refused, ranges as constraints.

:func:`~corridor_planner.schema.base.check` validates parsed data against a model and returns
the package's ``file: feature: field: problem`` lines.
"""
