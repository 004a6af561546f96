"""Forms of the team pages: invite someone, change a member's role."""

from django import forms
from django.utils.translation import gettext_lazy as _

from carnet.accounts.models import Invitation, StaffMembership


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=Invitation._meta.get_field("email").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=StaffMembership.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"), choices=StaffMembership.Role.choices)
