"""`.env.example` documents every CARNET_* variable the code reads, and only those."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_env_example_lists_every_variable_read():
    read = set()
    for path in [*ROOT.glob("config/**/*.py"), *ROOT.glob("scripts/*.sh")]:
        read |= set(re.findall(r"\b(CARNET_[A-Z_]+)\b", path.read_text()))
    read -= {
        "CARNET_REQUIRE_POSTGRES"
    }  # set by scripts/test.sh for the PostgreSQL pass only
    documented = set(
        re.findall(r"^(CARNET_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )

    assert read == documented
