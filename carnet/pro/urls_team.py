"""Routes of the workspace's team pages (included by carnet.pro.urls)."""

from django.urls import URLPattern, path

from carnet.pro.views import team

urlpatterns: list[URLPattern] = [
    path("practices/<int:practice_id>/team/", team.team, name="team"),
    path("practices/<int:practice_id>/team/invite/", team.invite, name="team-invite"),
    path(
        "practices/<int:practice_id>/team/invitations/<int:invitation_id>/resend/",
        team.resend_invitation,
        name="team-invitation-resend",
    ),
    path(
        "practices/<int:practice_id>/team/invitations/<int:invitation_id>/withdraw/",
        team.withdraw_invitation,
        name="team-invitation-withdraw",
    ),
    path(
        "practices/<int:practice_id>/team/members/<int:membership_id>/role/",
        team.member_role,
        name="team-member-role",
    ),
    path(
        "practices/<int:practice_id>/team/members/<int:membership_id>/remove/",
        team.member_remove,
        name="team-member-remove",
    ),
    # The invitee's page: any logged-in user, staff or not (see views.team).
    path("join/", team.accept, name="invitation-accept"),
]
