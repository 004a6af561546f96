"""django-allauth adapter: Carnet's users have no username."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Account flows as allauth ships them; the hook point for Carnet's rules."""
