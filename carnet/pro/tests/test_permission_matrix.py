"""Every staff page and staff API endpoint × every role of practice A and of practice B.

Only the cells ROLE_PERMISSIONS allows succeed (status below 400); every other
one answers 403 or 404 and its body holds none of practice A's secrets
(patient names, contact details, note text, flag, excuse, invited address —
and, for practice B's staff, not even A's name). A member of A who skipped
the second factor is refused everywhere. Each route runs inside a savepoint
rolled back afterwards, so every cell sees the same world.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse

from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import ROLE_PERMISSIONS
from carnet.accounts.services import (
    mint_api_token,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.pro.tests.matrix import (
    TOTP_SECRET,
    Route,
    World,
    all_routes,
    build_world,
    exempt_names,
    extend_world,
)
from conftest import login_with_totp

pytestmark = pytest.mark.django_db

PASSWORD = "secret-password"  # UserFactory's
ROLES = list(StaffMembership.Role)
# (label, which practice the visitor works at, role, second factor used)
COLUMNS = [(f"A-{role}", "A", role, True) for role in ROLES]
COLUMNS += [(f"B-{role}", "B", role, True) for role in ROLES]
COLUMNS += [("A-practice_admin-without-mfa", "A", "practice_admin", False)]


def _pro_route_names() -> set[str]:
    resolver = get_resolver()
    _namespace, pro = resolver.namespace_dict["pro"]
    return {f"pro:{name}" for name in pro.reverse_dict if isinstance(name, str)}


def test_every_staff_route_is_in_the_matrix():
    """A new page cannot escape the matrix: each "pro" URL is listed or exempt with a reason."""
    listed = {route.name for route in all_routes()}
    missing = _pro_route_names() - listed - set(exempt_names())
    assert not missing, f"add these routes to a routes_<area>.py: {sorted(missing)}"


def test_every_form_page_is_also_posted():
    """Pages that change something are listed with their POST."""
    posted = {route.name for route in all_routes() if route.method == "POST"}
    assert posted, "no POST route at all: the matrix would test reads only"


def _visitor(column: tuple, worlds: dict[str, World]) -> tuple[object, Client]:
    _label, at, role, mfa = column
    user = UserFactory()
    StaffMembership.objects.create(user=user, practice=worlds[at].practice, role=role)
    client = Client()
    if mfa:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
        login_with_totp(client, email=user.email, password=PASSWORD, secret=TOTP_SECRET)
    else:
        login_with_totp(client, email=user.email, password=PASSWORD)
    return user, client


def _call(route: Route, world: World, user, client: Client):
    url = (
        route.path(world)
        if route.path
        else reverse(route.name, kwargs=route.kwargs(world))
    )
    query = route.query(world) if route.query else {}
    if route.api:
        # A bearer token carries no session: without a second factor set up
        # on the account, the gate refuses it.
        _token, raw = mint_api_token(user=user, name="matrix")
        api_client = Client(
            headers={"accept-language": "en", "authorization": f"Bearer {raw}"}
        )
        if route.method == "GET":
            return api_client.get(url, query)
        return api_client.post(
            url,
            route.data(world) if route.data else {},
            content_type="application/json",
        )
    if route.method == "GET":
        return client.get(url, query)
    return client.post(url, route.data(world) if route.data else {})


def _allowed(route: Route, column: tuple) -> bool:
    _label, at, role, mfa = column
    if at != "A" or not mfa:
        return False
    return route.permission is None or route.permission in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("column", COLUMNS, ids=[c[0] for c in COLUMNS])
def test_permission_matrix(column):
    worlds = {"A": build_world("A"), "B": build_world("B")}
    for world in worlds.values():
        extend_world(world)
    world = worlds["A"]
    user, client = _visitor(column, worlds)
    label, at, _role, mfa = column
    secrets = list(world.secrets)
    if at == "B":
        secrets.append(world.practice.name)
    failures = []
    for route in all_routes():
        with transaction.atomic():
            try:
                response = _call(route, world, user, client)
            except Exception as exc:  # noqa: BLE001 — a crash is a failed cell
                failures.append(f"{route.label()}: raised {exc!r}")
                transaction.set_rollback(True)
                continue
            transaction.set_rollback(True)
        status = response.status_code
        body = response.content.decode(errors="replace")
        if _allowed(route, column):
            if status >= 400:
                failures.append(f"{route.label()}: allowed but answered {status}")
            continue
        refused = {403, 404} if mfa else {302, 303, 401, 403, 404}
        if status not in refused:
            failures.append(f"{route.label()}: should be refused, answered {status}")
        leaked = [secret for secret in secrets if secret and secret in body]
        if leaked:
            failures.append(f"{route.label()}: refusal shows {leaked}")
    assert not failures, f"{label}:\n" + "\n".join(failures)


GARBAGE = {
    "date": "2026-02-30",
    "day": "yesterday",
    "week": "x",
    "view": "year",
    "agenda": "abc",
    "page": "-1",
    "name": "' OR 1=1 --",
    "phone": "++33",
    "email": "@",
    "birth_date": "31/31/31",
    "q": "<script>alert(1)</script>",
}


@pytest.mark.parametrize("role", ["practitioner", "practice_admin"])
def test_no_staff_page_breaks_on_garbage(role):
    """Every page and form, given nonsense, answers without a server error (nor echoes a script)."""
    world = build_world("A")
    extend_world(world)
    _user, client = _visitor((role, "A", role, True), {"A": world})
    crashed = []
    for route in all_routes():
        if route.api:
            continue
        url = reverse(route.name, kwargs=route.kwargs(world))
        with transaction.atomic():
            if route.method == "GET":
                response = client.get(url, GARBAGE)
            else:  # every field a form may have, filled with nonsense
                response = client.post(url, GARBAGE)
            transaction.set_rollback(True)
        if response.status_code >= 500:
            crashed.append(f"{route.label()}: {response.status_code}")
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert not crashed
