"""Database backends of the shop's own (Django ENGINE paths)."""
