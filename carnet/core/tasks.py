"""The one door to Django's tasks API: `django.tasks` when Django has it (6.0+),
else the `django-tasks` backport. Domain code imports `task` from here, so the
move to Django 6 changes no domain module (STYLE.md)."""

try:  # Django 6.0+
    from django.tasks import task  # type: ignore[import-not-found]
except ImportError:  # Django 5.2: the backport, with the database backend
    from django_tasks import task

__all__ = ["task"]
