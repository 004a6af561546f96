"""Carnet: an open-source medical appointment platform, private by construction."""
