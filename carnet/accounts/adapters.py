"""django-allauth adapter: Carnet's users have no username."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils.translation import get_language

from carnet.accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    """Account flows as allauth ships them; the hook point for Carnet's rules."""

    def save_user(
        self, request: HttpRequest, user: User, form: Any, commit: bool = True
    ) -> User:
        """A new account speaks the language its owner signed up in (e-mails included)."""
        user = super().save_user(request, user, form, commit=False)
        language = (get_language() or "")[:2]
        if language in User.Language.values:
            user.language = language
        if commit:
            user.save()
        return user
