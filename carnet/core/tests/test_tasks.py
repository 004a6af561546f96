"""Background work: a task is written in the transaction that enqueues it, and a worker runs it.

The database backend makes "enqueued" and "the booking happened" one fact: a
rolled-back transaction leaves no task, a committed one leaves a task that
`manage.py db_worker` runs.
"""

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from carnet.core.tests.tasks import shout


class Rollback(Exception):
    """Raised to roll the transaction back."""


@pytest.mark.django_db(transaction=True)
def test_a_task_lives_and_dies_with_the_transaction_that_enqueues_it():
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            shout.enqueue("lost")
            assert DBTaskResult.objects.count() == 1  # written in this transaction
            raise Rollback

    with pytest.raises(Rollback):
        enqueue_then_fail()
    assert DBTaskResult.objects.count() == 0

    with transaction.atomic():
        enqueued = shout.enqueue("kept")

    call_command(
        "db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0
    )

    done = shout.get_result(enqueued.id)
    assert done.status == "SUCCESSFUL"
    assert done.return_value == "KEPT"
