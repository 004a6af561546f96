"""The waiting list and no-show pages, for the permission matrix."""

from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route


def _practice(w):
    return {"practice_id": w.practice.pk}


ROUTES = [
    Route("pro:waiting-list", Permission.VIEW_WAITING_LIST, kwargs=_practice),
    Route(
        "pro:waiting-list",
        Permission.VIEW_WAITING_LIST,
        kwargs=_practice,
        query=lambda w: {"agenda": w.agenda.pk},
    ),
    Route("pro:no-shows", Permission.MANAGE_NO_SHOW_POLICY, kwargs=_practice),
    Route(
        "pro:no-shows",
        Permission.MANAGE_NO_SHOW_POLICY,
        method="POST",
        kwargs=_practice,
        data=lambda w: {
            "enabled": "on",
            "strikes_to_block": "4",
            "strike_expiry_days": "180",
        },
    ),
    Route(
        "pro:no-show-decide",
        Permission.MANAGE_NO_SHOW_POLICY,
        method="POST",
        kwargs=lambda w: {"practice_id": w.practice.pk, "strike_id": w.strike.pk},
        data=lambda w: {"decision": "accept"},
    ),
    Route(
        "pro:no-show-decide",
        Permission.MANAGE_NO_SHOW_POLICY,
        method="POST",
        kwargs=lambda w: {"practice_id": w.practice.pk, "strike_id": w.strike.pk},
        data=lambda w: {"decision": "refuse"},
    ),
]
