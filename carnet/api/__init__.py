"""The public surface: JSON API v1 (Django Ninja)."""
