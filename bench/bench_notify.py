"""Issue 17's figures: "vote opened" fanned out to a village's residents and sent by SMS at the
provider's rate by real task workers, one of them killed mid-send; and an inbox page's cost with
10 or 10,000 notifications. Each figure beside a baseline measured in the same run.

    python bench/bench_notify.py [--residents 20000] [--rate 200] [--claim-timeout 20]
                                 [--provider-ms 0]

1. Fan-out. A fresh PostgreSQL database (yishi_bench_notify, migrated by `manage.py migrate` in a
   subprocess with bench.settings) and an emptied Redis db 6; a village council with
   `--residents` verified residents (distinct 139 numbers, phone verified, quiet hours off).
   (a) In one transaction, notifications.services.notify_audience(kind=BUDGET_PHASE_OPENED,
       audience="council_residents", ...); after the commit, notifications.delivery.expand
       writes every inbox row (and its SMS delivery) in this process, timed, in rows/s. Its
       post-commit hooks (a live-bell broadcast per person, a send task per batch) are timed
       apart. Baseline: a plain bulk_create of as many Notification rows, and the same with a
       Delivery per row, in the same database, removed (and vacuumed) before ours.
   (b) Two real task workers (`manage.py db_worker`, django-tasks-db, YISHI_TASK_BACKEND=db)
       drain the deliveries the expansion queued, paced at `--rate` SMS/s
       (YISHI_NOTIFY_SMS_PER_SECOND, counted in Redis across workers). The SMS provider is
       bench/notify_sms.py: one O_APPEND line per send ("phone key time pid"), so every send of
       every process, killed or not, is counted. Reported: the achieved rate against the
       configured one (before the kill, and overall), the busiest wall-clock second by the
       provider's clock (a send paced at the very end of a second may be written just inside
       the next), each worker's CPU per SMS and its RSS sampled every second (start/peak/end).
   (c) When half the SMS are out, one worker is killed with SIGKILL and started again. The
       reaper's sweep (notifications.delivery.sweep) runs every SWEEP_EVERY s in this process,
       with CLAIM_TIMEOUT lowered to `--claim-timeout` s here (the workers keep the module's),
       and gives the dead worker's claimed rows back. Reported: sent, duplicates (a key twice
       in the file; each one attributed: a first send by the killed worker means the kill
       landed between the provider call and the status update), lost (deliveries whose key is
       never in the file), final delivery status counts, and the council's counted SMS budget.
2. Inbox. notifications.selectors.inbox_page and GET /notifications/ (django.test.Client, signed
   in) for people with 10 and 10,000 notifications, and a page from the middle of the 10,000
   (?before=): queries (CaptureQueriesContext) and the median time of INBOX_RUNS runs. Their
   notifications are written before the fan-out, so that, as in life, their inboxes lie beneath
   others' newer rows; the rows the page's query reads and throws away are shown (EXPLAIN).

Settings bench.notify_settings (bench.settings with the file provider and budgets too high to
refuse). Worker logs: /tmp/bench_notify_worker_*.log; the SMS file: /tmp/bench_notify_sms.log.
"""

import argparse
import collections
import contextlib
import datetime
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "yishi_bench_notify"
PG = "postgres://postgres@127.0.0.1:5432/"
REDIS = "redis://127.0.0.1:6379/6"
SMS_LOG = Path("/tmp/bench_notify_sms.log")
WORKER_LOG = "/tmp/bench_notify_worker_{}.log"
WORKERS = 2
SWEEP_EVERY = 5.0  # the reaper runs every minute in production; the claim timeout is lowered too
TICK = 0.2
INBOX_RUNS = 30
INBOX_SIZES = (10, 10_000)
PARAMS = {
    "cycle": "2027年村级预算",
    "phase": "投票",
    "phase_kind": "vote",
    "until": "12月8日 18:00",
}


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def bench_env(rate: int, provider_ms: float) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.notify_settings",
        "DATABASE_URL": PG + DATABASE,
        "REDIS_URL": REDIS,
        "YISHI_TASK_BACKEND": "db",
        "YISHI_NOTIFY_SMS_PER_SECOND": str(rate),
        "BENCH_SMS_LOG": str(SMS_LOG),
        "BENCH_SMS_LATENCY_MS": str(provider_ms),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_POOL", "DJANGO_CONFIGURATION", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    return env


def fresh_database(env: dict) -> float:
    """Drop and create the database, empty Redis db 6 and the SMS file, migrate (a subprocess
    with bench.settings); returns the migration's seconds."""
    import redis

    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS).flushdb()
    SMS_LOG.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        check=True,
        timeout=600,
    )
    return time.perf_counter() - started


def vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- 1a: the fan-out ---------------------------------------------------------------------------


def make_residents(count: int):
    """A village with `count` verified residents, phone verified, quiet hours off."""
    from core.models import User
    from councils.models import Membership, MembershipStatus
    from notifications.models import PersonSettings
    from tests.councils.factories import make_tree

    village = make_tree()["village"]
    users = User.objects.bulk_create(
        (
            User(username=f"139{i:08d}", phone=f"139{i:08d}", phone_verified=True)
            for i in range(count)
        ),
        batch_size=5000,
    )
    Membership.objects.bulk_create(
        (Membership(user=u, council=village, status=MembershipStatus.VERIFIED) for u in users),
        batch_size=5000,
    )
    PersonSettings.objects.bulk_create(
        (PersonSettings(user=u, quiet_hours=False) for u in users), batch_size=5000
    )
    vacuum("core_user", "councils_membership", "notifications_personsettings")
    return village, [u.pk for u in users]


def time_baselines(village, user_ids: list[int]) -> dict:
    """A plain bulk_create of one Notification per resident, and the same plus a
    Delivery each; committed, timed, then removed and vacuumed before ours runs."""
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.kinds import Kind
    from notifications.models import Delivery, Notification

    def rows(key: str) -> list:
        return [
            Notification(
                recipient_id=pk,
                kind=Kind.BUDGET_PHASE_OPENED,
                council=village,
                event_key=key,
                url="/budgets/",
                params=PARAMS,
            )
            for pk in user_ids
        ]

    out = {}
    for name, with_deliveries in (("plain", False), ("with_deliveries", True)):
        key = f"bench-baseline-{name}"
        made = rows(key)
        started = time.perf_counter()
        with transaction.atomic():
            made = Notification.objects.bulk_create(made)
            if with_deliveries:
                now = timezone.now()
                Delivery.objects.bulk_create(
                    [Delivery(notification=n, channel="sms", not_before=now) for n in made]
                )
        out[name] = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM notifications_delivery WHERE notification_id IN "
                "(SELECT id FROM notifications_notification WHERE event_key = %s)",
                [key],
            )
            cursor.execute("DELETE FROM notifications_notification WHERE event_key = %s", [key])
        vacuum("notifications_notification", "notifications_delivery")
    return out


def time_fanout(village) -> dict:
    """notify_audience in one transaction; then expand(), timed, with its commit hooks apart."""
    from django.db import connection, transaction

    from notifications import delivery
    from notifications.kinds import Kind
    from notifications.models import Delivery, Notification
    from notifications.services import notify_audience

    started = time.perf_counter()
    with transaction.atomic():
        fanout = notify_audience(
            kind=Kind.BUDGET_PHASE_OPENED,
            audience="council_residents",
            council_id=village.pk,
            event_key="budget-phase:bench-vote",
            url="/budgets/cycles/1/",
            council=village,
            params=PARAMS,
        )
    notify_seconds = time.perf_counter() - started  # with its commit (expand_task enqueued)

    hooks = {"seconds": 0.0, "calls": 0}
    original = connection.run_and_clear_commit_hooks

    def timed_hooks() -> None:
        began = time.perf_counter()
        try:
            original()
        finally:
            hooks["seconds"] += time.perf_counter() - began
            hooks["calls"] += 1

    connection.run_and_clear_commit_hooks = timed_hooks
    try:
        started = time.perf_counter()
        told = delivery.expand(fanout.pk)
        seconds = time.perf_counter() - started
    finally:
        del connection.run_and_clear_commit_hooks
    return {
        "fanout": fanout.pk,
        "event_key": fanout.event_key,
        "notify_ms": notify_seconds * 1000,
        "told": told,
        "seconds": seconds,
        "hooks_seconds": hooks["seconds"],
        "hooks_calls": hooks["calls"],
        "notifications": Notification.objects.filter(event_key=fanout.event_key).count(),
        "deliveries": Delivery.objects.filter(notification__event_key=fanout.event_key).count(),
        "committed_at": time.time(),
    }


# --- 1b, 1c: the workers -----------------------------------------------------------------------


def rss_mib(pid: int, field: str = "VmRSS") -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """One `manage.py db_worker` process, its RSS sampled every second."""

    def __init__(self, name: str, env: dict):
        self.name = name
        self.log = open(WORKER_LOG.format(name), "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-startup-delay",
                "--interval",
                "0.5",
                "--worker-id",
                f"bench-notify-{name}",
                "--verbosity",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        self.samples: list[float] = []
        self.start_rss: float | None = None  # the first sample once it has sent
        self.hwm: float | None = None
        self.cpu_start: float | None = None  # CPU seconds at the first sample once it has sent
        self.cpu_end: float | None = None
        self.killed = False

    def last_look(self) -> None:
        self.hwm = rss_mib(self.pid, "VmHWM") or self.hwm
        self.cpu_end = cpu_seconds(self.pid) or self.cpu_end

    def sample(self, has_sent: bool) -> None:
        if self.process.poll() is not None:
            return
        rss = rss_mib(self.pid)
        if rss is None:
            return
        self.samples.append(rss)
        if has_sent and self.start_rss is None:
            self.start_rss = rss
            self.cpu_start = cpu_seconds(self.pid)
        self.last_look()

    def kill(self) -> None:
        self.last_look()
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.killed = True
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.last_look()
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cpu_sending(self) -> float:
        """CPU seconds from its first sample after its first send to its last look."""
        if self.cpu_start is None or self.cpu_end is None:
            return 0.0
        return self.cpu_end - self.cpu_start

    def rss(self) -> dict:
        peak = max([*self.samples, self.hwm or 0.0]) if self.samples else float("nan")
        return {
            "start": self.start_rss if self.start_rss is not None else float("nan"),
            "peak": peak,
            "end": self.samples[-1] if self.samples else float("nan"),
        }


class SmsLog:
    """The provider's file, read as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.rest = b""
        self.lines: list[tuple[str, str, float, int]] = []
        self.by_pid: collections.Counter = collections.Counter()

    def read(self) -> int:
        with contextlib.suppress(FileNotFoundError), open(self.path, "rb") as file:
            file.seek(self.offset)
            data = file.read()
            self.offset += len(data)
            *complete, self.rest = (self.rest + data).split(b"\n")
            for raw in complete:
                phone, key, when, pid = raw.decode().split()
                self.lines.append((phone, key, float(when), int(pid)))
                self.by_pid[int(pid)] += 1
        return len(self.lines)


def sms_due_or_in_flight(event_key: str) -> int:
    from notifications.models import Delivery, DeliveryStatus

    return Delivery.objects.filter(
        notification__event_key=event_key,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
    ).count()


def drain(env: dict, fan: dict, args) -> dict:
    """Two workers send every delivery; one is killed (SIGKILL) halfway and started again; the
    sweep runs every SWEEP_EVERY s with the claim timeout lowered here."""
    from notifications import delivery

    delivery.CLAIM_TIMEOUT = datetime.timedelta(seconds=args.claim_timeout)
    total = fan["deliveries"]
    log = SmsLog(SMS_LOG)
    workers = [Worker(str(n), env) for n in range(WORKERS)]
    started = time.time()
    deadline = started + total / args.rate * 3 + args.claim_timeout + 120
    sweeps = {"runs": 0, "taken_back": 0}
    kill: dict = {}
    last_sample = last_sweep = last_check = 0.0
    finished = False
    try:
        while time.time() < deadline:
            time.sleep(TICK)
            now = time.time()
            sent = log.read()
            if not kill and sent >= total / 2:
                victim = workers[0]
                victim.kill()
                kill = {
                    "at": time.time(),
                    "sent": log.read(),
                    "pid": victim.pid,
                    "by_victim": log.by_pid[victim.pid],
                }
                workers.append(Worker(f"{victim.name}-restarted", env))
                kill["restarted_pid"] = workers[-1].pid
            if now - last_sample >= 1.0:
                last_sample = now
                for worker in workers:
                    if not worker.killed:
                        worker.sample(log.by_pid[worker.pid] > 0)
            if now - last_sweep >= SWEEP_EVERY:
                last_sweep = now
                counts = delivery.sweep()
                sweeps["runs"] += 1
                sweeps["taken_back"] += counts["notices_taken_back"]
                if counts["notices_taken_back"]:
                    sweeps.setdefault("first_taken_back_at", now)
            if now - last_check >= 1.0:
                last_check = now
                if kill and sms_due_or_in_flight(fan["event_key"]) == 0:
                    finished = True
                    break
    finally:
        for worker in workers:
            if not worker.killed:
                worker.stop()
    time.sleep(0.5)
    log.read()
    return {
        "log": log,
        "workers": workers,
        "kill": kill,
        "sweeps": sweeps,
        "started": started,
        "finished": finished,
    }


def analyse(fan: dict, run: dict, rate: int) -> dict:
    from django.db.models import Count
    from django.utils import timezone

    from notifications.models import Delivery, SmsSpend

    log: SmsLog = run["log"]
    lines = log.lines
    keys = collections.Counter(key for _p, key, _t, _pid in lines)
    first_by = {}
    for _phone, key, _when, pid in lines:
        first_by.setdefault(key, pid)
    dup_keys = [key for key, n in keys.items() if n > 1]
    victim = run["kill"].get("pid")
    dup_after_kill = sum(1 for key in dup_keys if first_by[key] == victim)
    deliveries = Delivery.objects.filter(notification__event_key=fan["event_key"])
    wanted = {f"yishi-{pk}" for pk in deliveries.values_list("pk", flat=True)}
    lost = wanted - set(keys)
    statuses = dict(
        deliveries.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    attempts = collections.Counter(deliveries.values_list("attempts", flat=True))
    times = sorted(when for _p, _k, when, _pid in lines)
    per_second = collections.Counter(int(when) for when in times)
    busiest, busiest_count = max(per_second.items(), key=lambda item: item[1], default=(0, 0))
    # The pacer counts in wall-clock seconds: the steady rate is the mean count of the whole
    # seconds between the first send and the kill (a span's ends would flatter a fixed window).
    kill_at = run["kill"].get("at", times[-1] if times else 0.0)
    whole = range(int(times[0]) + 1, int(kill_at)) if times else range(0)
    steady = statistics.mean(per_second[s] for s in whole) if len(whole) else float("nan")
    month = timezone.localdate().strftime("%Y-%m")
    spend = SmsSpend.objects.filter(scope=f"council:{fan['council']}:{month}").first()
    return {
        "sent": len(lines),
        "distinct": len(keys),
        "duplicates": sum(n - 1 for n in keys.values() if n > 1),
        "dup_after_kill": dup_after_kill,
        "lost": len(lost),
        "statuses": statuses,
        "attempts": dict(sorted(attempts.items())),
        "steady_rate": steady,
        "steady_seconds": len(whole),
        "overall_rate": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "busiest_second": busiest_count,
        "busiest_early": sum(1 for t in times if int(t) == busiest and t - busiest < 0.005),
        "first_send_after_s": (times[0] - run["started"]) if times else float("nan"),
        "drain_s": (times[-1] - times[0]) if times else float("nan"),
        "budget_counted": spend.count if spend else 0,
        "by_pid": dict(log.by_pid),
        "rate": rate,
    }


# --- 2: the inbox ------------------------------------------------------------------------------


def median_ms(fn, runs: int = INBOX_RUNS) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def queries_of(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def make_inbox_people() -> dict:
    """People with 10 and 10,000 notifications, not residents, written before the fan-out: as in
    life, their inboxes then lie beneath everyone else's newer rows (the fan-out's)."""
    from core.models import User
    from notifications.kinds import Kind
    from notifications.models import Notification

    people = {}
    for size in INBOX_SIZES:
        user = User.objects.create(
            username=f"inbox-{size}", phone=f"136{size:08d}", phone_verified=True
        )
        Notification.objects.bulk_create(
            (
                Notification(
                    recipient=user,
                    kind=Kind.BUDGET_PHASE_OPENED,
                    event_key=f"bench-inbox:{i}",
                    url="/budgets/",
                    params=PARAMS,
                )
                for i in range(size)
            ),
            batch_size=5000,
        )
        people[size] = user
    return people


def rows_discarded(sql: str) -> int:
    """Rows the plan of `sql` read and threw away (EXPLAIN ANALYZE's "Rows Removed by Filter")."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict) -> int:
        own = node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1)
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def inbox_figures(people: dict) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from notifications import selectors
    from notifications.models import Notification

    vacuum("notifications_notification")
    big = people[max(INBOX_SIZES)]
    ids = list(
        Notification.objects.filter(recipient=big).order_by("-pk").values_list("pk", flat=True)
    )
    middle = ids[len(ids) // 2]
    cases = [(f"{size:,} notifications", people[size], None) for size in INBOX_SIZES]
    cases.append((f"{max(INBOX_SIZES):,}, a page from the middle", big, middle))
    out = []
    for label, user, before in cases:

        def page(user=user, before=before):
            rows, _next = selectors.inbox_page(user, before=before)
            assert rows, "an empty inbox page"

        client = Client()
        client.force_login(user)
        url = "/notifications/" + (f"?before={before}" if before else "")

        def view(client=client, url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def bell(user=user):
            selectors.unread_count(user)

        with CaptureQueriesContext(connection) as captured:
            page()
        out.append(
            {
                "label": label,
                "discarded": rows_discarded(captured.captured_queries[-1]["sql"]),
                "unread_ms": median_ms(bell),
                "page_queries": queries_of(page),
                "page_ms": median_ms(page),
                "view_queries": queries_of(view),
                "view_ms": median_ms(view),
            }
        )
    return out


# --- printing ----------------------------------------------------------------------------------


def machine() -> str:
    pg = psql("SHOW server_version")
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {pg}, Redis db 6"
    )


def fmt(value: float, spec: str = ".1f") -> str:
    return "n/a" if value != value else format(value, spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=200, help="SMS per second (provider's)")
    parser.add_argument(
        "--claim-timeout",
        type=float,
        default=20.0,
        help="seconds before the sweep takes back a dead worker's sends (production: 300)",
    )
    parser.add_argument(
        "--provider-ms", type=float, default=0.0, help="the provider's answer time per SMS"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    env = bench_env(args.rate, args.provider_ms)
    os.environ.update(env)
    for name in ("DATABASE_POOL", "DJANGO_CONFIGURATION", "PYTEST_XDIST_WORKER"):
        os.environ.pop(name, None)
    migrate_s = fresh_database(env)
    import django

    django.setup()
    from django.db import connection

    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    print(f"bench_notify {when}; {machine()}; load average {load[0]:.2f} at the start", flush=True)
    print(
        f"{args.residents:,} residents, SMS at {args.rate}/s by {WORKERS} db_workers, provider "
        f"answer {args.provider_ms:g} ms, claim timeout {args.claim_timeout:g} s (sweep every "
        f"{SWEEP_EVERY:g} s); migrate {migrate_s:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    village, user_ids = make_residents(args.residents)
    people = make_inbox_people()
    print(f"setup: {len(user_ids):,} residents in {time.perf_counter() - started:.1f} s")

    base = time_baselines(village, user_ids)
    fan = time_fanout(village)
    fan["council"] = village.pk
    ours_rps = fan["notifications"] / fan["seconds"]
    plain_rps = len(user_ids) / base["plain"]
    with_rps = len(user_ids) / base["with_deliveries"]
    print(
        f"\n(a) fan-out: notify_audience {fan['notify_ms']:.1f} ms (one Fanout row, with its "
        f"commit); expand(): {fan['notifications']:,} inbox rows + {fan['deliveries']:,} SMS "
        f"deliveries in {fan['seconds']:.2f} s = {ours_rps:,.0f} rows/s, of which "
        f"{fan['hooks_seconds']:.2f} s in {fan['hooks_calls']} commits' hooks (a live-bell "
        f"broadcast per person, a send task per batch); without them "
        f"{fan['notifications'] / max(fan['seconds'] - fan['hooks_seconds'], 1e-9):,.0f} rows/s",
        flush=True,
    )
    print(
        f"    baseline bulk_create of {len(user_ids):,} Notification rows: "
        f"{base['plain']:.2f} s = {plain_rps:,.0f} rows/s; with a Delivery each: "
        f"{base['with_deliveries']:.2f} s = {with_rps:,.0f} rows/s",
        flush=True,
    )
    if fan["notifications"] != len(user_ids):
        print(f"    !! {fan['notifications']:,} notifications for {len(user_ids):,} residents")

    connection.close()
    run = drain(env, fan, args)
    result = analyse(fan, run, args.rate)
    kill = run["kill"]
    print(
        f"\n(b) SMS: {result['sent']:,} sent ({result['distinct']:,} distinct) in "
        f"{fmt(result['drain_s'])} s, the first {fmt(result['first_send_after_s'])} s after the "
        f"workers were started; rate before the kill {fmt(result['steady_rate'])}/s (mean of "
        f"{result['steady_seconds']} whole seconds), overall "
        f"{fmt(result['overall_rate'])}/s, configured {args.rate}/s",
        flush=True,
    )
    for worker in run["workers"]:
        rss = worker.rss()
        state = "killed" if worker.killed else "stopped"
        print(
            f"    worker {worker.name:<12} pid {worker.pid:<7} sent "
            f"{result['by_pid'].get(worker.pid, 0):>6,}  RSS MiB start {fmt(rss['start'])} "
            f"peak {fmt(rss['peak'])} end {fmt(rss['end'])} ({state}, {len(worker.samples)} "
            f"samples), CPU {worker.cpu_sending():.1f} s while sending"
        )
    cpu_per_sms = sum(w.cpu_sending() for w in run["workers"]) / max(result["sent"], 1) * 1000
    print(f"    worker CPU per SMS {cpu_per_sms:.2f} ms (PostgreSQL's and Redis's not counted)")
    print(
        f"    busiest second by the provider's clock: {result['busiest_second']} SMS, "
        f"{result['busiest_early']} of them written in its first 5 ms (paced in the second "
        f"before: the pacer and the provider's clock are read a moment apart)"
    )
    if kill:
        print(
            f"(c) SIGKILL of worker pid {kill['pid']} at {kill['sent']:,} sent "
            f"({kill['by_victim']:,} by it), restarted as pid {kill['restarted_pid']}; sweep: "
            f"{run['sweeps']['runs']} runs, {run['sweeps']['taken_back']} deliveries taken back"
            + (
                f", first {run['sweeps']['first_taken_back_at'] - kill['at']:.1f} s after the kill"
                if "first_taken_back_at" in run["sweeps"]
                else ""
            )
        )
    else:
        print("(c) no kill: the sends never reached half way")
    print(
        f"    sent {result['sent']:,}, duplicates {result['duplicates']} "
        f"({result['dup_after_kill']} first sent by the killed worker: the kill fell between "
        f"the provider call and the status update), lost {result['lost']}; delivery statuses "
        f"{result['statuses']}, attempts {result['attempts']}; council SMS budget counted "
        f"{result['budget_counted']:,}"
        f"{'' if run['finished'] else '; !! NOT drained before the deadline'}",
        flush=True,
    )

    inbox = inbox_figures(people)
    print(
        "\n(2) inbox, 20 a page (all unread)   inbox_page: queries  median ms | GET: queries  "
        "median ms | the bell's unread count ms | page query: rows read and discarded"
    )
    for row in inbox:
        print(
            f"    {row['label']:<32} {row['page_queries']:>12} {row['page_ms']:>10.2f} | "
            f"{row['view_queries']:>12} {row['view_ms']:>10.2f} | {row['unread_ms']:>10.2f} | "
            f"{row['discarded']:>10,}"
        )
    small, large = inbox[0], inbox[1]

    # --- summary ---
    rss_peak = max(w.rss()["peak"] for w in run["workers"])
    rss_growth = max(w.rss()["end"] - w.rss()["start"] for w in run["workers"])
    unexplained = result["duplicates"] - result["dup_after_kill"]
    print(
        f"\nsummary ({when}; {platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"load average {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)"
    )
    print(f"{'figure':<50} {'ours':>12} {'baseline':>12} {'ratio':>8}")
    rows = [
        (
            f"fan-out to {args.residents:,}: inbox rows/s",
            f"{ours_rps:,.0f}",
            f"{plain_rps:,.0f}",
            f"{ours_rps / plain_rps:.2f}",
        ),
        (
            "  same, baseline with a Delivery per row",
            f"{ours_rps:,.0f}",
            f"{with_rps:,.0f}",
            f"{ours_rps / with_rps:.2f}",
        ),
        (
            f"SMS/s, {WORKERS} db_workers, before the kill",
            fmt(result["steady_rate"]),
            f"{args.rate}",
            fmt(result["steady_rate"] / args.rate, ".2f"),
        ),
        (
            "SMS/s overall (kill + sweep included)",
            fmt(result["overall_rate"]),
            f"{args.rate}",
            fmt(result["overall_rate"] / args.rate, ".2f"),
        ),
        (
            "busiest second, provider's clock (SMS)",
            f"{result['busiest_second']}",
            f"{args.rate}",
            f"{result['busiest_second'] / args.rate:.2f}",
        ),
        ("worker CPU ms per SMS", f"{cpu_per_sms:.2f}", "", ""),
        ("worker RSS MiB, highest peak", f"{rss_peak:.1f}", "", ""),
        ("worker RSS MiB, most growth start -> end", f"{rss_growth:+.1f}", "", ""),
        ("SMS sent / residents", f"{result['sent']:,}", f"{args.residents:,}", ""),
        (
            "duplicates (after the kill) / lost",
            f"{result['duplicates']} / {result['lost']}",
            "0 / 0",
            "",
        ),
        (
            "inbox page queries, 10,000 vs 10 notifications",
            f"{large['page_queries']}",
            f"{small['page_queries']}",
            f"{large['page_queries'] / small['page_queries']:.2f}",
        ),
        (
            "inbox page median ms, 10,000 vs 10",
            f"{large['page_ms']:.2f}",
            f"{small['page_ms']:.2f}",
            f"{large['page_ms'] / small['page_ms']:.2f}",
        ),
        (
            "inbox view queries, 10,000 vs 10",
            f"{large['view_queries']}",
            f"{small['view_queries']}",
            f"{large['view_queries'] / small['view_queries']:.2f}",
        ),
        (
            "inbox view median ms, 10,000 vs 10",
            f"{large['view_ms']:.2f}",
            f"{small['view_ms']:.2f}",
            f"{large['view_ms'] / small['view_ms']:.2f}",
        ),
    ]
    for label, ours, baseline, ratio in rows:
        print(f"{label:<50} {ours:>12} {baseline:>12} {ratio:>8}")
    print(f"total {time.perf_counter() - began:.0f} s")
    same_queries = all(r["page_queries"] == small["page_queries"] for r in inbox) and all(
        r["view_queries"] == small["view_queries"] for r in inbox
    )
    ok = run["finished"] and result["lost"] == 0 and unexplained == 0 and same_queries
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
