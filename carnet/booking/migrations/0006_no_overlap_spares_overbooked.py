"""No double booking, except where staff overbooked deliberately.

Replaces the exclusion constraint of 0002: two appointments of one agenda
whose [starts_at, ends_at) ranges meet are still refused when both are
neither cancelled nor overbooked; a row staff booked on top of another
(`is_overbooked`) takes no part in the check. SQLite has no such constraint:
there the booking services check inside an IMMEDIATE transaction.
"""

from django.db import migrations

CONSTRAINT = """
ALTER TABLE booking_appointment
  ADD CONSTRAINT appointment_no_overlap
  EXCLUDE USING gist (
    agenda_id WITH =,
    tstzrange(starts_at, ends_at, '[)') WITH &&
  ) WHERE ({condition});
"""
DROP = "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"
NEW = "NOT is_overbooked AND status <> 'cancelled'"
OLD = "status <> 'cancelled'"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist;")
        schema_editor.execute(DROP)
        schema_editor.execute(CONSTRAINT.format(condition=NEW))


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(CONSTRAINT.format(condition=OLD))


class Migration(migrations.Migration):
    dependencies = [("booking", "0005_day_flow_no_shows_waiting_list")]
    operations = [migrations.RunPython(create, restore, elidable=False)]
