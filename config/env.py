"""The only module that reads the process environment (STYLE C3.8)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def database_url(default: str) -> str:
    """`CARNET_DATABASE_URL`, else `DATABASE_URL`, else `default` (empty means unset)."""
    return (
        env.str("CARNET_DATABASE_URL", default="")
        or env.str("DATABASE_URL", default="")
        or default
    )
