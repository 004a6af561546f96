"""Practitioners, practices (organisations), locations, specialties, search."""
