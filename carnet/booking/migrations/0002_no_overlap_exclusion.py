"""No double booking, enforced by PostgreSQL itself.

An exclusion constraint (btree_gist) forbids two non-cancelled appointments of
one agenda whose [starts_at, ends_at) ranges meet. SQLite has no such
constraint: there the booking service checks inside an IMMEDIATE transaction.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_appointment
  ADD CONSTRAINT appointment_no_overlap
  EXCLUDE USING gist (
    agenda_id WITH =,
    tstzrange(starts_at, ends_at, '[)') WITH &&
  ) WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
