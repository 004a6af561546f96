#!/usr/bin/env python3
"""Reminders delivered per second: real db_worker processes, a loopback SMTP server.

A batch of due reminders (one e-mail each) is written the way the outbox
writes them (carnet.notifications.outbox._write: the Message row and its
deliver_message task, one transaction per appointment, as one booking would),
then `--workers` processes `manage.py db_worker --queue-name '*'` are started
at once and deliver them to an SMTP server (aiosmtpd) that this script runs on
127.0.0.1. The clock runs until every reminder of the batch is "sent".

Bench data (nothing else is touched): patients bench-reminder-N@carnet.test
(kept and reused), one appointment each on the agenda of practitioner
BENCH_REMINDERS (an agenda without opening hours, so no other bench books into
it), one reminder per appointment, and the deliver_message tasks of those
reminders. The last three are deleted before each run and after a run that
passed (unless --keep).

Run it through the wrapper: bench/reminders --help.
"""

import argparse
import asyncio
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import benchlib

DELIVER_TASK = "carnet.notifications.delivery.deliver_message"
SWEEP_TASK = "carnet.notifications.delivery.sweep_outbox"
REMINDER_SUFFIX = "reminder:email:24h"
POLL_SECONDS = 0.02  # how often the mailbox is looked at
DB_POLL_SECONDS = 0.5  # how often the statuses are counted in the database
CHUNK = 1000  # ids per IN (...) list
MESSAGE_ID = re.compile(
    rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE
)


class SetupError(Exception):
    """The run cannot start (exit status 2)."""


# The loopback SMTP server ------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: when each Message-ID arrived, and how many copies of it.

    Only the header block is read (a regular expression finds the
    Message-ID), so that the server costs as little CPU as possible: it
    shares the machine with the workers and the database. With `delay` each
    DATA is answered that many seconds after it arrived, without holding up
    the other connections (a relay that is slow but handles connections in
    parallel).
    """

    def __init__(self, *, delay: float) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self.reset(set())

    def reset(self, expected: set[str]) -> None:
        """Forget everything; count the arrivals of `expected` Message-IDs from now on."""
        with self._lock:
            self.expected = expected
            self.arrivals: dict[str, float] = {}  # first arrival, time.time()
            self.copies: Counter[str] = Counter()
            self.ours = 0  # distinct expected Message-IDs arrived
            self.received = 0  # every DATA, any Message-ID

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        arrived = time.time()
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        found = MESSAGE_ID.search(head)
        message_id = found.group(1).decode("ascii", "replace") if found else ""
        with self._lock:
            self.received += 1
            self.copies[message_id] += 1
            if message_id not in self.arrivals:
                self.arrivals[message_id] = arrived
                if message_id in self.expected:
                    self.ours += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Message accepted for delivery"

    def snapshot(self) -> tuple[dict[str, float], Counter[str], int]:
        """(first arrivals, copies per Message-ID, DATA commands) so far."""
        with self._lock:
            return dict(self.arrivals), Counter(self.copies), self.received


def start_smtp(delay: float):  # -> tuple[Controller, Mailbox, int]
    """An aiosmtpd server on a free port of 127.0.0.1, in a thread of this process."""
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every SMTP command at INFO ("mail.log"): CPU and noise here.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = Mailbox(delay=delay)
    with socket.socket() as probe:  # aiosmtpd wants the port number up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox, port


# Arguments -----------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/reminders",
        description=(
            "Reminders delivered per second by manage.py db_worker processes to a "
            "loopback SMTP server run by this script (see bench/README.md)."
        ),
    )
    parser.add_argument(
        "--reminders", type=int, default=2000, help="reminders in the batch (2000)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="db_worker processes, started at once (2)",
    )
    parser.add_argument(
        "--smtp-delay",
        type=float,
        default=0.0,
        help="seconds the SMTP server waits before answering each message's DATA "
        "(0: as fast as it can)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.05,
        help="the workers' poll interval when they find no task, seconds (0.05)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="then the same run with 1 worker, and the ratio of the two",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the last run's reminders, tasks and appointments in the database "
        "(kept anyway when a run fails; the next run deletes them)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="give up when the batch is not sent after this many seconds (600)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.reminders <= 100_000:
        parser.error("--reminders must be in 1..100000")
    if not 1 <= args.workers <= 32:
        parser.error("--workers must be in 1..32")
    if not 0 <= args.smtp_delay <= 10:
        parser.error("--smtp-delay must be in 0..10")
    if not 0 <= args.interval <= 5:
        parser.error("--interval must be in 0..5")
    if not 0 < args.timeout <= 7200:
        parser.error("--timeout must be in (0, 7200]")
    if args.compare and args.workers == 1:
        parser.error(
            "--compare compares --workers with 1 worker: give --workers 2 or more"
        )
    return args


# Bench rows ----------------------------------------------------------------------


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def delete_bench_rows(agenda) -> tuple[int, int, int]:
    """Delete the bench's reminders, their deliver_message tasks and its appointments.

    Returns (messages, tasks, appointments) deleted. Only rows of the bench:
    messages of appointments of the bench agenda or of bench-reminder-N
    patients, and the deliver_message tasks whose argument is one of them.
    """
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from carnet.notifications.models import Message

    appointments = benchlib.reminder_bench_appointments() | agenda.appointments.all()
    messages = Message.objects.filter(appointment__in=appointments.values("pk"))
    message_ids = list(messages.values_list("pk", flat=True))
    with transaction.atomic():
        tasks = 0
        for chunk in _chunks(message_ids):
            tasks += DBTaskResult.objects.filter(
                task_path=DELIVER_TASK, args_kwargs__args__0__in=chunk
            ).delete()[0]
        deleted_messages = Message.objects.filter(pk__in=message_ids).delete()[0]
        deleted_appointments = 0
        for chunk in _chunks(list(appointments.values_list("pk", flat=True))):
            # Their messages are gone; rows cascading from them (changes) go too.
            deleted_appointments += (
                appointments.model.objects.filter(pk__in=chunk).delete()[1]
            ).get("booking.Appointment", 0)
    return deleted_messages, tasks, deleted_appointments


def create_appointments(agenda, motive, patients: list[tuple[int, int]]) -> list:
    """One booked appointment per patient, every 20 minutes from tomorrow on."""
    from carnet.booking.models import Appointment

    now = datetime.now(UTC)
    first = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    step = timedelta(minutes=motive.duration_minutes)
    Appointment.objects.bulk_create(
        (
            Appointment(
                agenda=agenda,
                motive=motive,
                patient_id=patient_id,
                booked_by_id=user_id,
                starts_at=first + index * step,
                ends_at=first + (index + 1) * step,
            )
            for index, (patient_id, user_id) in enumerate(patients)
        ),
        batch_size=1000,
    )
    return list(
        Appointment.objects.filter(agenda=agenda).only(
            "pk", "vault_row", "patient_id", "agenda_id"
        )
    )


def write_batch(agenda, appointments: list, due: datetime) -> float:
    """Write one due reminder per appointment through the outbox; returns the seconds.

    One transaction per appointment, as each booking writes its own reminders:
    the Message row, its deliver_message task, the sweep's check.
    """
    from django.db import transaction

    from carnet.notifications import outbox
    from carnet.notifications.models import Message

    began = time.perf_counter()
    for appointment in appointments:
        with transaction.atomic():
            outbox._write(
                [
                    {
                        "patient_id": appointment.patient_id,
                        "appointment_id": appointment.pk,
                        "practice_id": agenda.practice_id,
                        "key": outbox.appointment_key(appointment, 0, REMINDER_SUFFIX),
                        "kind": Message.Kind.REMINDER,
                        "channel": Message.Channel.EMAIL,
                        "due_at": due,
                        "context": {"version": 0},
                    }
                ],
                now=due,
            )
    return time.perf_counter() - began


def check_no_foreign_work(agenda, now: datetime, horizon: timedelta) -> list[str]:
    """Refuse what the workers would do besides the batch; returns warnings.

    db_worker --queue-name '*' runs every due task of the database: other
    patients' due messages would be sent to this loopback server (and marked
    sent), other due tasks run. Those make the run refuse to start (SetupError).
    Tasks of messages that no longer exist (no-ops) and tasks falling due
    during the run only give a warning.
    """
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult, get_date_max

    from carnet.notifications.models import Message

    due_messages = (
        Message.objects.filter(status__in=Message.PENDING, next_attempt_at__lte=now)
        .exclude(appointment__agenda=agenda)
        .count()
    )
    ready = DBTaskResult.objects.filter(status="READY")
    due_now = ready.filter(Q(run_after=get_date_max()) | Q(run_after__lte=now))
    other_due = due_now.exclude(task_path__in=[DELIVER_TASK, SWEEP_TASK])
    by_path = Counter(other_due.values_list("task_path", flat=True))
    problems = []
    if due_messages:
        problems.append(
            f"{due_messages} messages of other patients are due: the workers would "
            "send them to this loopback server and mark them sent"
        )
    if by_path:
        listed = ", ".join(f"{n} × {path}" for path, n in by_path.most_common())
        problems.append(f"other due tasks the workers would run: {listed}")
    if problems:
        raise SetupError(
            "; ".join(problems)
            + ". Let a worker run them first (`make run` starts one), or give the "
            "bench a database of its own (bench/README.md)."
        )
    warnings = []
    no_ops = due_now.filter(task_path=DELIVER_TASK).count()
    if no_ops:
        warnings.append(
            f"{no_ops} due deliver_message tasks of messages not pending "
            "(deleted or done): the workers will run them too (no-ops)"
        )
    later = (
        ready.filter(run_after__gt=now, run_after__lte=now + horizon)
        .exclude(task_path=SWEEP_TASK)
        .count()
    )
    if later:
        warnings.append(
            f"{later} other tasks fall due within {horizon.total_seconds():.0f} s: "
            "if the run lasts that long, the workers will run them too"
        )
    return warnings


# The workers ---------------------------------------------------------------------


def worker_env(port: int) -> dict[str, str]:
    """The workers' environment: this database, the loopback SMTP server, no DEBUG."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "CARNET_DEBUG": "0",
        "CARNET_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "CARNET_SMTP_HOST": "127.0.0.1",
        "CARNET_SMTP_PORT": str(port),
        "CARNET_SMTP_USER": "",
        "CARNET_SMTP_PASSWORD": "",
        "CARNET_SMTP_STARTTLS": "0",
        "PYTHONUNBUFFERED": "1",
    }


def start_workers(
    count: int, *, interval: float, port: int, log_dir: Path
) -> list[subprocess.Popen]:
    """`count` × manage.py db_worker, started back to back (stderr to log_dir)."""
    command = [
        str(benchlib.VENV_PYTHON),
        str(benchlib.ROOT / "manage.py"),
        "db_worker",
        "--queue-name",
        "*",
        "--interval",
        f"{interval:g}",
        "--no-startup-delay",
        "--no-reload",
        "-v",
        "0",
    ]
    env = worker_env(port)
    workers = []
    for n in range(count):
        with open(log_dir / f"worker-{n}.log", "ab") as log:
            workers.append(
                subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
                    command,
                    cwd=benchlib.ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
    return workers


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB (nan when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (nan when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGTERM (db_worker finishes its task), then SIGKILL after 30 s."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


# One run -------------------------------------------------------------------------


@dataclass
class Run:
    """What one run measured."""

    workers: int
    reminders: int
    write_seconds: float = 0.0
    started: float = 0.0  # time.time() when the first worker was started
    first_arrival: float = float("nan")
    last_arrival: float = float("nan")
    last_sent: float = float("nan")
    due_to_arrival: list[float] = field(default_factory=list)
    claim_to_arrival: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    retried: int = 0  # messages that needed more than one attempt
    duplicates: int = 0  # Message-IDs of the batch received more than once
    missing: int = 0  # "sent" in the database, never received here
    foreign: int = 0  # messages received that are not of the batch
    # Tasks that found their message already claimed: the sweep (delivery.sweep)
    # took it, as it does with any message due for CARNET_OUTBOX_STUCK_SECONDS.
    not_claimed: int = 0
    rss_mb: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    bench_cpu: float = 0.0  # this process (SMTP server, polling) during the run
    timed_out: bool = False
    died: list[int] = field(default_factory=list)  # exit codes of workers that died
    log_dir: Path | None = None

    @property
    def sent(self) -> int:
        return self.statuses.get("sent", 0)

    @property
    def wall(self) -> float:
        return self.last_sent - self.started

    @property
    def rate(self) -> float:
        """Reminders sent per second, from the workers' start to the last one sent."""
        return self.sent / self.wall if self.wall > 0 else float("nan")

    @property
    def steady_rate(self) -> float:
        """Per second from the first arrival to the last (worker start-up excluded)."""
        span = self.last_arrival - self.first_arrival
        return (len(self.due_to_arrival) - 1) / span if span > 0 else float("nan")

    @property
    def failed(self) -> bool:
        return (
            self.sent != self.reminders
            or self.duplicates > 0
            or self.missing > 0
            or self.timed_out
            or bool(self.died)
        )


def message_statuses(agenda) -> Counter:
    from django.db.models import Count

    from carnet.notifications.models import Message

    return Counter(
        dict(
            Message.objects.filter(appointment__agenda=agenda)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
    )


def wait_for_batch(
    run: Run,
    agenda,
    workers: list[subprocess.Popen],
    mailbox: Mailbox,
    timeout: float,
) -> None:
    """Until no reminder of the batch is pending (or a worker died, or the timeout)."""
    from carnet.notifications.models import Message

    deadline = time.monotonic() + timeout
    next_db_check = time.monotonic() + DB_POLL_SECONDS
    while True:
        now = time.monotonic()
        if mailbox.ours >= run.reminders or now >= next_db_check:
            counts = message_statuses(agenda)
            if not sum(counts.get(status, 0) for status in Message.PENDING):
                return
            next_db_check = now + DB_POLL_SECONDS
        dead = [w.returncode for w in workers if w.poll() is not None]
        if dead:
            run.died = dead
            return
        if now >= deadline:
            run.timed_out = True
            return
        time.sleep(POLL_SECONDS)


def collect(run: Run, agenda, mailbox: Mailbox, message_ids: dict[int, str]) -> None:
    """The figures of the run, from the database and the mailbox."""
    from django_tasks_db.models import DBTaskResult

    from carnet.notifications.models import Message

    arrivals, copies, _ = mailbox.snapshot()
    rows = list(
        Message.objects.filter(appointment__agenda=agenda).values_list(
            "pk", "status", "due_at", "sent_at", "attempts"
        )
    )
    run.statuses = Counter(status for _, status, *_ in rows)
    run.retried = sum(1 for *_, attempts in rows if attempts > 1)
    started_by_message: dict[int, float] = {}
    for chunk in _chunks(list(message_ids)):
        for args_kwargs, started_at, returned in DBTaskResult.objects.filter(
            task_path=DELIVER_TASK, args_kwargs__args__0__in=chunk
        ).values_list("args_kwargs", "started_at", "return_value"):
            if returned == "sent" and started_at is not None:
                started_by_message[args_kwargs["args"][0]] = started_at.timestamp()
            elif returned == "not-claimed":
                run.not_claimed += 1
    sent_at = []
    for pk, status, due_at, sent, _ in rows:
        message_id = message_ids[pk]
        arrived = arrivals.get(message_id)
        if status == Message.Status.SENT and sent is not None:
            sent_at.append(sent.timestamp())
            if arrived is None:
                run.missing += 1
        if arrived is None:
            continue
        run.due_to_arrival.append(arrived - due_at.timestamp())
        if pk in started_by_message:
            run.claim_to_arrival.append(arrived - started_by_message[pk])
    ours = [arrivals[m] for m in message_ids.values() if m in arrivals]
    if ours:
        run.first_arrival, run.last_arrival = min(ours), max(ours)
    if sent_at:
        run.last_sent = max(sent_at)
    expected = set(message_ids.values())
    run.duplicates = sum(1 for m, n in copies.items() if m in expected and n > 1)
    run.foreign = sum(n for m, n in copies.items() if m not in expected)


def run_once(
    args: argparse.Namespace,
    *,
    workers: int,
    agenda,
    motive,
    patients: list[tuple[int, int]],
    mailbox: Mailbox,
    port: int,
    log_dir: Path,
) -> Run:
    from django.db import close_old_connections

    from carnet.notifications.delivery import message_id_for
    from carnet.notifications.models import Message

    run = Run(workers=workers, reminders=args.reminders, log_dir=log_dir)
    messages, tasks, appointments = delete_bench_rows(agenda)
    if messages or tasks or appointments:
        print(
            f"setup         deleted the previous bench rows: {messages} reminders, "
            f"{tasks} tasks, {appointments} appointments"
        )
    due = datetime.now(UTC)
    warnings = check_no_foreign_work(agenda, due, timedelta(seconds=args.timeout))
    for warning in warnings:
        print(f"WARNING       {warning}")
    booked = create_appointments(agenda, motive, patients)
    due = datetime.now(UTC)
    run.write_seconds = write_batch(agenda, booked, due)
    keys = dict(
        Message.objects.filter(appointment__agenda=agenda).values_list("pk", "key")
    )
    if len(keys) != args.reminders:
        raise SetupError(f"wrote {len(keys)} reminders, expected {args.reminders}")
    message_ids = {pk: message_id_for(key) for pk, key in keys.items()}
    print(
        f"batch         {args.reminders} reminders (Message row + deliver_message task, "
        f"one transaction each) written in {run.write_seconds:.2f} s: "
        f"{args.reminders / run.write_seconds:.0f} rows+tasks/s"
    )
    close_old_connections()

    mailbox.reset(set(message_ids.values()))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine       {os.cpu_count()} CPUs, load average {load} before the start")
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    run.started = time.time()
    processes = start_workers(
        workers, interval=args.interval, port=port, log_dir=log_dir
    )
    try:
        wait_for_batch(run, agenda, processes, mailbox, args.timeout)
        run.rss_mb = [peak_rss_mb(p.pid) for p in processes]
        run.cpu = [cpu_seconds(p.pid) for p in processes]
    finally:
        stop_workers(processes)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    run.bench_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    collect(run, agenda, mailbox, message_ids)
    return run


# Figures -------------------------------------------------------------------------


def summary_s(seconds: list[float]) -> str:
    """`n=… p50=… p95=… p99=… max=… s` (nearest rank)."""
    values = sorted(seconds)
    if not values:
        return "n=0"
    p = benchlib.percentile
    return (
        f"n={len(values)}  p50={p(values, 0.50):.2f}  p95={p(values, 0.95):.2f}  "
        f"p99={p(values, 0.99):.2f}  max={values[-1]:.2f} s"
    )


def report(run: Run) -> None:
    label = f"{run.workers} worker{'s' if run.workers > 1 else ''}"
    print(f"-- {label}")
    startup = run.first_arrival - run.started
    if run.sent:
        print(
            f"delivered     {run.sent}/{run.reminders} sent in {run.wall:.2f} s from "
            f"the workers' start: {run.rate:.1f} reminders/s"
        )
    else:
        print(f"delivered     0/{run.reminders} sent")
    if len(run.due_to_arrival) > 1:
        print(
            f"steady        {run.steady_rate:.1f} reminders/s from the first arrival to "
            f"the last ({run.last_arrival - run.first_arrival:.2f} s; first arrival "
            f"{startup:.2f} s after the start: worker start-up)"
        )
    print(f"due→arrival   {summary_s(run.due_to_arrival)}")
    print(
        "               (due = when the batch was written; includes writing it "
        "and the workers' start-up)"
    )
    print(f"claim→arrival {benchlib.summary_ms(run.claim_to_arrival)}")
    print("               (the task's claim to the end of DATA: render + SMTP)")
    statuses = "  ".join(f"{s}: {n}" for s, n in sorted(run.statuses.items()))
    print(
        f"statuses      {statuses}  (retried: {run.retried}; taken by the sweep "
        f"before their task: {run.not_claimed})"
    )
    print(
        f"duplicates    {run.duplicates} Message-IDs received twice"
        + (f"; {run.foreign} messages not of the batch received" if run.foreign else "")
    )
    if run.missing:
        print(
            f"MISSING       {run.missing} reminders are 'sent' but never reached this "
            "server (another worker on this database?)"
        )
    rss = ", ".join(f"{mb:.0f}" for mb in run.rss_mb)
    cpu = ", ".join(f"{s:.1f}" for s in run.cpu)
    print(
        f"workers       peak RSS (VmHWM) {rss} MB; CPU {cpu} s; this process "
        f"(SMTP server, polling) {run.bench_cpu:.1f} s CPU"
    )
    if run.timed_out:
        print("FAIL: the batch was not sent before --timeout")
    if run.died:
        print(f"FAIL: a worker exited (status {run.died}); logs in {run.log_dir}")
    if run.sent != run.reminders and not (run.timed_out or run.died):
        print("FAIL: some reminders were not sent")
    if run.duplicates:
        print("FAIL: a Message-ID arrived twice")


def report_comparison(runs: list[Run]) -> None:
    many, one = runs
    print("-- comparison")
    print(
        "| workers | reminders/s | from first arrival | due→arrival p50 | p99 | peak RSS |"
    )
    print("|---|---|---|---|---|---|")
    for run in runs:
        values = sorted(run.due_to_arrival)
        print(
            f"| {run.workers} | {run.rate:.1f} | {run.steady_rate:.1f} | "
            f"{benchlib.percentile(values, 0.5):.2f} s | "
            f"{benchlib.percentile(values, 0.99):.2f} s | "
            f"{max(run.rss_mb, default=float('nan')):.0f} MB each |"
        )
    print(
        f"ratio         {many.workers} workers / 1 worker: "
        f"{many.rate / one.rate:.2f}× (from the workers' start), "
        f"{many.steady_rate / one.steady_rate:.2f}× (from the first arrival)"
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    benchlib.setup_django()
    print(f"Carnet reminders bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"database      {benchlib.database_label()}")
    if not benchlib.database_is_local():
        print("ERROR: the database is not on this machine (loopback or socket only)")
        return 2
    missing = benchlib.unapplied_migrations()
    if missing:
        print(
            f"ERROR: the database lacks {len(missing)} migrations ({missing[0]}…): "
            "run `.venv/bin/python manage.py migrate` on it first (same "
            "CARNET_DATABASE_URL)"
        )
        return 2
    began = time.perf_counter()
    agenda, motive = benchlib.ensure_reminder_agenda()
    patients = benchlib.ensure_reminder_patients(args.reminders)
    print(
        f"setup         {args.reminders} bench patients, agenda {agenda.pk} "
        f"({benchlib.REMINDER_PRACTITIONER}) ready in {time.perf_counter() - began:.1f} s"
    )
    controller, mailbox, port = start_smtp(args.smtp_delay)
    answer = f"after {args.smtp_delay:g} s" if args.smtp_delay else "at once"
    print(
        f"smtp          127.0.0.1:{port} (aiosmtpd in this process, answers {answer})"
    )
    print(
        f"workers       manage.py db_worker --queue-name '*' --interval {args.interval:g} "
        "--no-startup-delay --no-reload"
    )
    log_dir = Path(tempfile.mkdtemp(prefix="carnet-bench-reminders."))
    runs = []
    try:
        for workers in [args.workers, 1] if args.compare else [args.workers]:
            run = run_once(
                args,
                workers=workers,
                agenda=agenda,
                motive=motive,
                patients=patients,
                mailbox=mailbox,
                port=port,
                log_dir=log_dir,
            )
            report(run)
            runs.append(run)
            if run.failed:
                break
    except SetupError as exc:
        print(f"ERROR: {exc}")
        return 2
    finally:
        controller.stop()
    if len(runs) == 2:
        report_comparison(runs)
    failed = any(run.failed for run in runs)
    if args.keep or failed:
        print("kept          this run's bench rows (the next run deletes them)")
    else:
        messages, tasks, appointments = delete_bench_rows(agenda)
        print(
            f"cleanup       deleted {messages} reminders, {tasks} tasks, "
            f"{appointments} appointments of the bench (--keep keeps them)"
        )
    logs = [p for p in sorted(log_dir.iterdir()) if p.stat().st_size]
    if logs:
        print(f"worker logs   {log_dir} ({len(logs)} not empty)")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    print(f"rerun         {benchlib.rerun_command('reminders', argv)}")
    return 1 if failed else 0


if __name__ == "__main__":
    benchlib.ensure_venv()
    sys.exit(main(sys.argv[1:]))
