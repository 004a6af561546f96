"""The admin shows the trail and never changes it, even for a superuser.

The model admins are called directly: the staff second-factor middleware in
front of /admin/ is tested by accounts.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from carnet.audit.models import AuditChainHead, AuditEvent
from carnet.audit.tests.factories import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root@example.test", "pw")


def _request(user, method="get", data=None):
    request = getattr(RequestFactory(), method)("/admin/", data or {})
    request.user = user
    request._dont_enforce_csrf_checks = True
    return request


@pytest.mark.parametrize("model", [AuditEvent, AuditChainHead])
def test_nobody_may_add_change_or_delete(root, model):
    model_admin = admin.site._registry[model]
    request = _request(root)

    assert model_admin.has_view_permission(request) is True
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)


def test_flagged_events_can_be_listed_and_opened_read_only(root):
    model_admin = admin.site._registry[AuditEvent]
    record()
    flagged = record(action="break_glass", purpose="break_glass", reason="Urgence")

    listing = model_admin.changelist_view(_request(root, data={"flagged__exact": "1"}))
    detail = model_admin.change_view(_request(root), str(flagged.pk))
    detail.render()

    assert [e.pk for e in listing.context_data["cl"].result_list] == [flagged.pk]
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content


def test_posting_a_change_or_a_deletion_is_refused(root):
    model_admin = admin.site._registry[AuditEvent]
    event = record()

    with pytest.raises(PermissionDenied):
        model_admin.change_view(
            _request(root, "post", {"resource": "x:1"}), str(event.pk)
        )
    with pytest.raises(PermissionDenied):
        model_admin.delete_view(_request(root, "post", {"post": "yes"}), str(event.pk))
    with pytest.raises(PermissionDenied):
        model_admin.add_view(_request(root))

    assert AuditEvent.objects.get().resource == "practice:1:patient-file"
