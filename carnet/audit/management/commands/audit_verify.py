"""manage.py audit_verify: recompute the audit hash chain; exit 1 when it is broken."""

from typing import Any

from django.core.management.base import BaseCommand

from carnet.audit.selectors import BreakReason, verify_chain

# Operator output for cron jobs and monitoring: stable English lines, like
# Django's own commands, rather than translated text.
EXPLANATIONS = {
    BreakReason.HASH_MISMATCH: "hash mismatch (the event was altered)",
    BreakReason.BROKEN_LINK: "broken link (the event before it is missing or was rewritten)",
    BreakReason.HEAD_MISMATCH: "chain head mismatch (events missing at the end, or the last one rewritten)",
    BreakReason.HEAD_MISSING: "chain head missing",
}


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain. Prints 'OK: N events', or "
        "'BROKEN at event #ID: reason' on stderr and exits with status 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=2000,
            help="Rows fetched per round trip (memory stays bounded).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain(chunk_size=options["chunk_size"])
        if result.ok:
            self.stdout.write(f"OK: {result.count} events")
            return
        where = (
            "chain head"
            if result.first_broken_id is None
            else f"event #{result.first_broken_id}"
        )
        explanation = EXPLANATIONS[result.reason] if result.reason else "unknown"
        self.stderr.write(f"BROKEN at {where}: {explanation}")
        raise SystemExit(1)
