"""A task for the tests of the background-work plumbing (carnet.core.tasks)."""

from carnet.core.tasks import task


@task()
def shout(word: str) -> str:
    """Return `word` in capitals: a result the test can read back."""
    return word.upper()
