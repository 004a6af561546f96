from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "carnet.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from carnet.core.text import register_sqlite_fold

        # Database plumbing, not domain logic: SQLite learns the name fold.
        connection_created.connect(register_sqlite_fold)
