"""The HTTP kernel every app shares: base view, fields, errors, JSON, pagination, middleware."""
