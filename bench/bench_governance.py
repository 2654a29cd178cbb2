"""Governance figures at city scale: 3,045 councils, 1,000,000 cases and two years of records.

On PostgreSQL (DATABASE_URL, or the local server at 127.0.0.1:5432; skipped without one), in a
database of its own (`yishi_bench_governance`). The tree and the cases are bench_cases' (its
functions, imported); the other sources are added here with set-based SQL (INSERT … SELECT over
generate_series), over the two years before now, for each of the 600 villages: published
disclosure records of the three kinds every month (some quarters late, some missing; finance
monthly in a third of the villages), residents' questions on them (some answered late, some
open), a representatives' session a month with its roll call (some under quorum), a hall with
about ten topics a month (answered after 1 to 240 hours, some never), a budget cycle a year
with its vote (turnout from 20% to 94% of 50 verified residents), proposals with "done"
updates and residents' ratings. The district owns an index made from the Rui'an template.

Measured, in the same run:

- recomputing a month, then a quarter, of every metric for every council
  (governance.figures.recompute), with its query count. Baseline: reading the period's raw
  source rows once (one count(*) per source the recompute reads: records, questions, sessions
  and their roll calls, cycles and their participations, progress updates, ratings, topics,
  case figures). No fair peer computes the same figures another way; the ratio shows what the
  computing costs over merely scanning what it reads.
- the dashboard of a township (15 villages), a district (150) and the city (600), ranking on
  two metrics and on the index's score: p50/p95 and queries. Baseline: the same case-closure
  ranking computed per request from the raw cases (one GROUP BY per village over the
  subtree's cases of the month), against the ranking read from the precomputed figures
  (governance.dashboards.ranking): what precomputation avoids.
- the big screen and its fragment, of a township, a district and the city.
- the open API's lists (/api/v1/: councils, records, topics, metrics, case-figures,
  index-scores) at page 1 and at a deep page (the cursor of item 50,000, built as `next` would
  give it, checked against the first item OFFSET finds there): p50/p95 of the request. Baseline:
  the same list's rows at the same depth by OFFSET (the ORM queryset of the view, same order,
  [offset:offset + 50]) against the cursor's own seek (the ORM query the cursor runs).
- the query counts of a township's and a district's pages are asserted equal (constant).
- the peak RSS of the process.

Set BENCH_GOVERNANCE_REUSE=1 to reuse an earlier run's database (its data and its time "now"
are kept; building takes minutes). Timings of one process on the machine's cores: the
recompute is single-threaded.
"""

import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench import bench_cases  # noqa: E402

DB_NAME = "yishi_bench_governance"
CASES = 1_000_000
RESIDENTS = 50  # verified residents per village
REPRESENTATIVES = 15  # of them, village representatives (the session's roster)
TOPICS_PER_MONTH = 10
MONTHS = 24
DEEP = 50_000  # the API's deep page: the page starting at this item
REPEAT = 30
# Months of figures computed at build time, for the screens' 12-month trend (the measured month
# and quarter are computed again by the measure).
TREND_MONTHS = 12
GOAL_PAGE_MS = 200
GOAL_API_MS = 100
GOAL_RECOMPUTE_S = 300
# The data's "now" (kept in the database for BENCH_GOVERNANCE_REUSE): the pages read the real
# clock, so the data ends at the hour the database was built.
NOW = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)

# Columns NOT NULL without a database default get a zero of their type unless given.
ZERO = {
    "character varying": "''",
    "text": "''",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "numeric": "0",
    "double precision": "0",
    "timestamp with time zone": "%(now)s",
    "date": "%(now)s::date",
}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Step:
    """Times a build step and logs it."""

    def __init__(self, name: str, steps: dict):
        self.name, self.steps = name, steps

    def __enter__(self):
        self.started = time.perf_counter()
        log(f"  {self.name} ...")
        return self

    def __exit__(self, *exc):
        took = time.perf_counter() - self.started
        self.steps[self.name] = took
        log(f"  {self.name}: {took:.1f} s")


def pg_url() -> str | None:
    url = bench_cases.pg_url()
    return None if url is None else url.rsplit("/", 1)[0] + "/" + DB_NAME


# -- building --------------------------------------------------------------------------------------


def insert(cursor, table: str, values: dict[str, str], source: str, params: dict) -> int:
    """INSERT INTO table (columns) SELECT expressions `source`; every NOT NULL column without a
    database default that `values` leaves out gets a zero of its type (Django sets no database
    defaults). Returns the rows inserted."""
    cursor.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO'
           AND column_default IS NULL AND is_identity = 'NO'
        """,
        [table],
    )
    values = dict(values)
    for name, kind in cursor.fetchall():
        values.setdefault(name, ZERO[kind])
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(values)}) SELECT {', '.join(values.values())} {source}",
        {"now": NOW, **params},
    )
    return cursor.rowcount


def month_starts(now: datetime.datetime, count: int) -> list[datetime.date]:
    """The first days of the `count` complete months before `now`'s month (local), oldest first."""
    from django.utils import timezone

    from cases.figures import next_month

    first = timezone.localdate(now).replace(day=1)
    months = []
    day = first
    for _ in range(count):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
        months.append(day)
    assert next_month(months[0]) == first
    return sorted(months)


def add_world(places: dict, steps: dict) -> dict:
    """Every source of the metrics but cases, for every village, over MONTHS months."""
    from django.db import connection

    from cases.figures import next_month
    from meetings.models import RosterMode, SessionKind, default_rule

    counts = {}
    rule = json.dumps(
        default_rule(SessionKind.REPRESENTATIVES, RosterMode.REPRESENTATIVES).to_dict()
    )
    with connection.cursor() as cursor:
        with Step("villages and months", steps):
            cursor.execute(
                """
                CREATE TEMP TABLE gv_villages AS
                SELECT (row_number() OVER (ORDER BY p.path) - 1)::int AS n, c.page_ptr_id AS id
                  FROM councils_councilpage c JOIN wagtailcore_page p ON p.id = c.page_ptr_id
                 WHERE c.level = 'village'
                """
            )
            # Live on Yishi since before the two years: the disclosure calendar counts them.
            cursor.execute(
                "UPDATE wagtailcore_page SET first_published_at = %s"
                " WHERE id IN (SELECT page_ptr_id FROM councils_councilpage)",
                [NOW - datetime.timedelta(days=800)],
            )
            cursor.execute(
                "CREATE TEMP TABLE gv_months (i int, start date, stop date, qstart date,"
                " qstop date, q int)"
            )
            for i, start in enumerate(month_starts(NOW, MONTHS)):
                qstart = start.replace(month=3 * ((start.month - 1) // 3) + 1)
                qstop = next_month(next_month(next_month(qstart)))
                cursor.execute(
                    "INSERT INTO gv_months VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        i,
                        start,
                        next_month(start) - datetime.timedelta(days=1),
                        qstart,
                        qstop - datetime.timedelta(days=1),
                        qstart.year * 4 + qstart.month // 3,
                    ],
                )
        with Step("residents (users, memberships)", steps):
            counts["users"] = insert(
                cursor,
                "core_user",
                {
                    "username": "'gv' || v.n || '-' || i",
                    "password": "'!'",
                    "display_name": "'村民' || i",
                    "is_active": "true",
                    "date_joined": "%(now)s - interval '900 days'",
                },
                "FROM gv_villages v CROSS JOIN generate_series(1, %(residents)s) AS i",
                {"residents": RESIDENTS},
            )
            cursor.execute(
                """
                CREATE TEMP TABLE gv_people AS
                SELECT u.id AS user_id, v.id AS village, v.n AS n,
                       split_part(substr(u.username, 3), '-', 2)::int AS i
                  FROM core_user u
                  JOIN gv_villages v ON v.n = split_part(substr(u.username, 3), '-', 1)::int
                 WHERE u.username LIKE 'gv%'
                """
            )
            cursor.execute("CREATE INDEX ON gv_people (village, i)")
            cursor.execute("ANALYZE gv_people")
            counts["memberships"] = insert(
                cursor,
                "councils_membership",
                {
                    "user_id": "p.user_id",
                    "council_id": "p.village",
                    "role": "r.role",
                    "status": "'verified'",
                    "requested_at": "%(now)s - interval '800 days'",
                    "decided_at": "%(now)s - interval '799 days'",
                },
                "FROM gv_people p CROSS JOIN (VALUES ('resident'), ('representative')) AS r(role)"
                " WHERE r.role = 'resident' OR p.i <= %(reps)s",
                {"reps": REPRESENTATIVES},
            )
        with Step("disclosure records, chain, questions", steps):
            counts["rules"] = insert(
                cursor,
                "disclosure_disclosurerule",
                {
                    "council_id": "v.id",
                    "kind": "'finance'",
                    "frequency": "'monthly'",
                    "grace_days": "10",
                },
                "FROM gv_villages v WHERE v.n %% 3 = 0",
                {},
            )
            # Four records a village and month; a (village, kind, quarter) is missing 1 in 19,
            # published 25 days after its quarter (late) 1 in 7, else 1 to 8 days after its month.
            counts["records"] = insert(
                cursor,
                "disclosure_record",
                {
                    "council_id": "v.id",
                    "kind": "t.kind",
                    "record_type": "t.rtype",
                    "period_kind": "'month'",
                    "period_start": "m.start",
                    "period_end": "m.stop",
                    "title": "t.title || ' ' || to_char(m.start, 'YYYY-MM')",
                    "body": "'本月' || t.title || '，详见附件。'",
                    "status": "'published'",
                    "created_at": "p.at - interval '1 day'",
                    "updated_at": "p.at",
                    "published_at": "p.at",
                },
                """
                FROM gv_villages v CROSS JOIN gv_months m
                CROSS JOIN (VALUES (0, 'party', 'branch_meeting', '三会一课'),
                                   (1, 'village', 'resolution', '村务决议'),
                                   (1, 'village', 'village_other', '村务公开'),
                                   (2, 'finance', 'statement', '收支明细'))
                     AS t(k, kind, rtype, title)
                CROSS JOIN LATERAL (
                  SELECT (v.n * 7919 + m.q * 104729 + t.k * 31) %% 1000 AS h) AS hh
                CROSS JOIN LATERAL (
                  SELECT (CASE WHEN hh.h %% 7 = 0 THEN m.qstop + 25
                               ELSE m.stop + 1 + hh.h %% 8 END)::timestamp
                         AT TIME ZONE 'Asia/Shanghai' + interval '10 hours' AS at) AS p
                WHERE hh.h %% 19 <> 0 AND p.at < %(now)s
                """,
                {},
            )
            counts["chain entries"] = insert(
                cursor,
                "disclosure_chainentry",
                {
                    "council_id": "r.council_id",
                    "position": "row_number() OVER (PARTITION BY r.council_id"
                    " ORDER BY r.published_at, r.id)",
                    "record_id": "r.id",
                    "previous_hash": "repeat('0', 64)",
                    "content_hash": "md5(r.id::text) || md5(r.title)",
                    "entry_hash": "md5(r.title) || md5(r.id::text)",
                    "created": "r.published_at",
                },
                "FROM disclosure_record r",
                {},
            )
            # Two questions on each month's resolution: 7 in 10 answered in time, 2 late, 1 open.
            counts["questions"] = insert(
                cursor,
                "disclosure_question",
                {
                    "record_id": "r.id",
                    "council_id": "r.council_id",
                    "asked_by_id": "p.user_id",
                    "text": "'这笔开支的依据是什么？'",
                    "asked_at": "a.asked",
                    "due_at": "a.asked + interval '7 days'",
                    "answer": "CASE WHEN a.answered < %(now)s THEN '已在公开栏说明。' ELSE '' END",
                    "answered_at": "CASE WHEN a.answered < %(now)s THEN a.answered END",
                },
                """
                FROM disclosure_record r
                CROSS JOIN generate_series(1, 2) AS q
                JOIN gv_people p ON p.village = r.council_id AND p.i = 20 + q
                CROSS JOIN LATERAL (SELECT (r.id * 7 + q * 3) %% 10 AS h,
                                           r.published_at + (q || ' days')::interval AS asked) AS b
                CROSS JOIN LATERAL (
                  SELECT b.asked,
                         CASE WHEN b.h < 7 THEN b.asked + ((1 + b.h) || ' days')::interval
                              WHEN b.h < 9 THEN b.asked + interval '10 days'
                              ELSE 'infinity'::timestamptz END AS answered) AS a
                WHERE r.record_type = 'resolution' AND b.asked < %(now)s
                """,
                {},
            )
        with Step("sessions and roll calls", steps):
            counts["sessions"] = insert(
                cursor,
                "deliberation_session",
                {
                    "council_id": "v.id",
                    "kind": "'representatives'",
                    "roster_mode": "'representatives'",
                    "title": "to_char(m.start, 'YYYY-MM') || ' 村民代表会议'",
                    "starts_at": "s.at",
                    "place": "'村委会议室'",
                    "convened_by_id": "p.user_id",
                    "is_public": "true",
                    "status": "'closed'",
                    "rule": "%(rule)s::jsonb",
                    "entitled_count": "%(reps)s",
                    "opened_at": "s.at",
                    "closed_at": "s.at + interval '2 hours'",
                    "created": "s.at - interval '10 days'",
                },
                """
                FROM gv_villages v CROSS JOIN gv_months m
                JOIN gv_people p ON p.village = v.id AND p.i = 1
                CROSS JOIN LATERAL (
                  SELECT (m.start + 5 + (v.n %% 20))::timestamp AT TIME ZONE 'Asia/Shanghai'
                         + interval '19 hours' AS at) AS s
                WHERE s.at + interval '2 hours' < %(now)s
                """,
                {"rule": rule, "reps": REPRESENTATIVES},
            )
            # Present: 10 to 15 of 15 (quorum: two thirds, 10); 8 in one session of 9.
            counts["roster entries"] = insert(
                cursor,
                "deliberation_rosterentry",
                {
                    "session_id": "s.id",
                    "person_id": "p.user_id",
                    "name": "'代表' || p.i",
                    "capacity": "'村民代表'",
                    "attendance": "CASE WHEN p.i <= c.present THEN 'present' ELSE 'absent' END",
                    "checked_in_at": "CASE WHEN p.i <= c.present THEN s.starts_at END",
                    "check_in_method": "CASE WHEN p.i <= c.present THEN 'chair' ELSE '' END",
                },
                """
                FROM deliberation_session s
                JOIN gv_people p ON p.village = s.council_id AND p.i <= %(reps)s
                CROSS JOIN LATERAL (
                  SELECT CASE WHEN s.id %% 9 = 0 THEN 8 ELSE 10 + (s.id * 7) %% 6 END AS present
                ) AS c
                """,
                {"reps": REPRESENTATIVES},
            )
        with Step("halls and topics", steps):
            counts["halls"] = insert(
                cursor,
                "deliberation_hall",
                {
                    "council_id": "v.id",
                    "title": "'村民议事厅'",
                    "is_public": "true",
                    "created": "%(now)s - interval '800 days'",
                },
                "FROM gv_villages v",
                {},
            )
            # Spread over the last MONTHS months; 17 in 20 answered after 1 to 240 hours.
            counts["topics"] = insert(
                cursor,
                "deliberation_topic",
                {
                    "hall_id": "h.id",
                    "author_id": "p.user_id",
                    "title": "'村口路面坑洼' || g",
                    "description": "'下雨天积水，老人孩子出行不便。'",
                    "category": "(ARRAY['roads','water','environment','safety','services',"
                    "'elderly_children','farming','other'])[1 + g %% 8]",
                    "status": "CASE WHEN a.answered < %(now)s THEN 'decided' ELSE 'open' END",
                    "official_answer": "CASE WHEN a.answered < %(now)s THEN '已安排修补。'"
                    " ELSE '' END",
                    "answered_at": "CASE WHEN a.answered < %(now)s THEN a.answered END",
                    "created": "a.created",
                },
                """
                FROM generate_series(1, %(topics)s) AS g
                JOIN gv_villages v ON v.n = g %% %(villages)s
                JOIN deliberation_hall h ON h.council_id = v.id
                JOIN gv_people p ON p.village = v.id AND p.i = 1 + (g * 7) %% %(residents)s
                CROSS JOIN LATERAL (
                  SELECT %(now)s::timestamptz
                           - (((g::bigint * 104729) %% (%(days)s * 1440)) || ' minutes')::interval
                           AS created) AS c
                CROSS JOIN LATERAL (
                  SELECT c.created,
                         CASE WHEN g %% 20 < 17
                              THEN c.created + ((1 + (g * 31) %% 240) || ' hours')::interval
                              ELSE 'infinity'::timestamptz END AS answered) AS a
                """,
                {
                    "topics": 600 * TOPICS_PER_MONTH * MONTHS,
                    "villages": 600,
                    "residents": RESIDENTS,
                    "days": MONTHS * 365 // 12,
                },
            )
        with Step("budget cycles, votes, projects, ratings", steps):
            counts["cycles"] = insert(
                cursor,
                "budgets_budgetcycle",
                {
                    "council_id": "v.id",
                    "title": "'gvc-' || v.n || '-' || y",
                    "description": "'村级微实事'",
                    "total_amount": "500000",
                    "ballot_type": "'approval'",
                    "max_choices": "3",
                    "min_choices": "1",
                    "points": "10",
                    "eligibility": "'person'",
                    "rule": "'mes-add1'",
                    "satisfaction": "'cost'",
                    "complete_greedy": "true",
                    "objection_days": "7",
                    "results_published_at": "e.vote_end + interval '3 days'",
                    "ballots_opened_at": "e.vote_end - interval '14 days'",
                    "max_replacements": "3",
                    "created": "e.vote_end - interval '90 days'",
                },
                """
                FROM gv_villages v CROSS JOIN generate_series(0, 1) AS y
                CROSS JOIN LATERAL (
                  SELECT %(now)s::timestamptz
                         - ((y * 365 + 20 + (v.n * 13) %% 330) || ' days')::interval AS vote_end
                ) AS e
                """,
                {},
            )
            cursor.execute(
                """
                CREATE TEMP TABLE gv_cycles AS
                SELECT c.id, c.council_id AS village, v.n,
                       split_part(c.title, '-', 3)::int AS y,
                       c.results_published_at - interval '3 days' AS vote_end
                  FROM budgets_budgetcycle c
                  JOIN gv_villages v ON v.n = split_part(c.title, '-', 2)::int
                 WHERE c.title LIKE 'gvc-%'
                """
            )
            counts["phases"] = insert(
                cursor,
                "budgets_phase",
                {
                    "cycle_id": "c.id",
                    "kind": "ph.kind",
                    "starts_at": "c.vote_end + ph.starts * interval '1 day'",
                    "ends_at": "c.vote_end + ph.ends * interval '1 day'",
                },
                """
                FROM gv_cycles c
                CROSS JOIN (VALUES ('collect', -60, -30), ('vote', -14, 0),
                                   ('implementation', 7, 300)) AS ph(kind, starts, ends)
                """,
                {},
            )
            counts["participations"] = insert(
                cursor,
                "budgets_participation",
                {
                    "cycle_id": "c.id",
                    "voter_id": "p.user_id",
                    "channel": "'online'",
                    "replacements": "0",
                    "created": "c.vote_end - interval '2 days'",
                },
                """
                FROM gv_cycles c
                JOIN gv_people p ON p.village = c.village
                 AND p.i <= 10 + (c.n * 7 + c.y * 11) %% 38
                """,
                {},
            )
            counts["proposals"] = insert(
                cursor,
                "budgets_proposal",
                {
                    "cycle_id": "c.id",
                    "author_id": "p.user_id",
                    "title": "'项目' || j",
                    "description": "'修缮村道与路灯。'",
                    "category": "'other'",
                    "estimated_cost": "50000 + j * 10000",
                    "status": "'feasible'",
                    "created": "c.vote_end - interval '50 days'",
                },
                """
                FROM gv_cycles c CROSS JOIN generate_series(1, 5) AS j
                JOIN gv_people p ON p.village = c.village AND p.i = 40 + j
                """,
                {},
            )
            cursor.execute(
                """
                CREATE TEMP TABLE gv_done AS
                SELECT pr.id, c.village, c.vote_end + ((60 + (c.n * 17 + pr.id * 29) % 200)
                       || ' days')::interval AS done
                  FROM budgets_proposal pr JOIN gv_cycles c ON c.id = pr.cycle_id
                 WHERE pr.title IN ('项目1', '项目2', '项目3')
                """
            )
            counts["progress updates"] = insert(
                cursor,
                "budgets_progressupdate",
                {
                    "proposal_id": "d.id",
                    "status": "u.status",
                    "note": "'施工进展'",
                    "spent_so_far": "u.spent",
                    "by_id": "p.user_id",
                    "created": "u.at",
                },
                """
                FROM gv_done d JOIN gv_people p ON p.village = d.village AND p.i = 1
                CROSS JOIN LATERAL (VALUES ('in_progress', 20000, d.done - interval '30 days'),
                                           ('done', 45000, d.done)) AS u(status, spent, at)
                WHERE u.at < %(now)s
                """,
                {},
            )
            counts["ratings"] = insert(
                cursor,
                "budgets_rating",
                {
                    "proposal_id": "d.id",
                    "user_id": "p.user_id",
                    "score": "(ARRAY[3, 4, 5, 4, 5, 2, 4, 5, 1, 4])[1 + (d.id + p.i) %% 10]",
                    "comment": "''",
                    "created": "d.done + (p.i - 29) * interval '1 day'",
                },
                """
                FROM gv_done d JOIN gv_people p ON p.village = d.village AND p.i BETWEEN 30 AND 34
                WHERE d.done + (p.i - 29) * interval '1 day' < %(now)s
                """,
                {},
            )
        for table in (
            "core_user",
            "councils_membership",
            "disclosure_record",
            "disclosure_chainentry",
            "disclosure_question",
            "deliberation_session",
            "deliberation_rosterentry",
            "deliberation_topic",
            "budgets_phase",
            "budgets_participation",
            "budgets_progressupdate",
            "budgets_rating",
        ):
            cursor.execute(f"ANALYZE {table}")
    return counts


def make_index(places: dict):
    """The district's index from the Rui'an template, made by an official of the district."""
    from councils.models import Role
    from governance import services
    from tests.councils.factories import member

    official = member(places["district"], Role.OFFICIAL)
    index = services.create_index(owner=places["district"], name="强基善治指数", by=official)
    return services.version_in_use(index)


def compute_trend(steps: dict) -> None:
    """The months the screens' trend shows, and the index's scores of them."""
    from governance import figures, index
    from governance.models import IndexVersion, PeriodKind, VersionStatus

    months = month_starts(NOW, TREND_MONTHS) + [figures.Period.containing("month", today()).start]
    version = IndexVersion.objects.get(status=VersionStatus.PUBLISHED)
    with Step(f"figures and scores of {len(months)} months", steps):
        for month in months:
            figures.recompute(period_kind=PeriodKind.MONTH, period_start=month, now=NOW)
            index.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=month)


def today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate(NOW)


def ensure_meta(cursor) -> dict:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_governance_meta (key text PRIMARY KEY, value text)"
    )
    cursor.execute("SELECT key, value FROM bench_governance_meta")
    return dict(cursor.fetchall())


def build(steps: dict) -> dict:
    """The whole world, or the earlier run's (BENCH_GOVERNANCE_REUSE=1)."""
    global NOW
    from django.db import connection

    from cases import figures as case_figures
    from councils.models import CouncilPage, Level

    with connection.cursor() as cursor:
        meta = ensure_meta(cursor)
    if os.environ.get("BENCH_GOVERNANCE_REUSE") and meta.get("complete"):
        NOW = datetime.datetime.fromisoformat(meta["now"])
        log(f"reusing the database of {meta['now']}")
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        # The factories' phone numbers start again in this process: go on past the earlier run's.
        import itertools

        from django.contrib.auth import get_user_model

        from tests.councils import factories

        last = (
            get_user_model()
            .objects.filter(phone__startswith="137")
            .order_by("-phone")
            .values_list("phone", flat=True)
            .first()
        )
        factories._phones = itertools.count(int(last or "13700000000") - 13700000000 + 1)
        return {
            "city": CouncilPage.objects.get(level=Level.CITY),
            "district": CouncilPage.objects.filter(level=Level.DISTRICT).order_by("path").first(),
            "township": CouncilPage.objects.filter(level=Level.TOWNSHIP).order_by("path").first(),
            "councils": CouncilPage.objects.count(),
            "counts": json.loads(meta["counts"]),
            "reused": True,
        }
    with Step("council tree", steps):
        places = bench_cases.build_tree()
    bench_cases.NOW = NOW  # its cases end where ours do
    with Step(f"{CASES:,} cases", steps):
        bench_cases.add_cases(CASES, 1)
    with Step("case figures (cases.figures.rebuild)", steps):
        case_figures.rebuild(now=NOW)
    counts = {"cases": CASES, **add_world(places, steps)}
    with Step("index from the Rui'an template", steps):
        make_index(places)
    compute_trend(steps)
    with connection.cursor() as cursor:
        for table in ("governance_metricvalue", "governance_indexscore", "cases_casefigure"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            "INSERT INTO bench_governance_meta VALUES ('now', %s), ('counts', %s),"
            " ('complete', '1')",
            [NOW.isoformat(), json.dumps(counts)],
        )
    places["counts"] = counts
    places["reused"] = False
    return places


# -- measuring -------------------------------------------------------------------------------------


def scan_sources(period) -> int:
    """The baseline of the recompute: each raw source the recompute reads, for the period,
    counted once. Returns the rows seen."""
    from budgets.models import Participation, Phase, ProgressUpdate, Rating
    from cases.models import CaseFigure
    from councils.models import CouncilPage
    from deliberation.models import Topic
    from disclosure.models import Question, Record
    from meetings.models import RosterEntry, Session

    start, end = period.bounds()
    seen = [
        CouncilPage.objects.count(),
        Record.objects.filter(
            status="published",
            period_start__gte=period.start - datetime.timedelta(days=102),
            period_start__lt=period.end,
        ).count(),
        Question.objects.filter(due_at__gte=start, due_at__lt=end).count(),
        Session.objects.filter(closed_at__gte=start, closed_at__lt=end).count(),
        RosterEntry.objects.filter(
            session__closed_at__gte=start, session__closed_at__lt=end
        ).count(),
        Phase.objects.filter(kind="vote", ends_at__gte=start, ends_at__lt=end).count(),
        Participation.objects.filter(
            cycle__phases__kind="vote",
            cycle__phases__ends_at__gte=start,
            cycle__phases__ends_at__lt=end,
        ).count(),
        ProgressUpdate.objects.filter(status="done").count(),
        Rating.objects.filter(created__gte=start, created__lt=end).count(),
        Topic.objects.filter(created__gte=start, created__lt=end).count(),
        Topic.objects.filter(answered_at__gte=start, answered_at__lt=end).count(),
        CaseFigure.objects.filter(month__in=period.months).count(),
    ]
    return sum(seen)


def once(fn) -> tuple[float, int, object]:
    """(seconds, queries, result) of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = fn()
        took = time.perf_counter() - started
    return took, len(captured), result


def measure_recompute(out: dict, month, quarter) -> None:
    from governance import figures
    from governance.models import MetricValue

    for label, period in (("month", month), ("quarter", quarter)):
        # The worst case: every stored figure of the period is off, so all are written again
        # (a recompute that finds the same counts writes nothing and is faster).
        MetricValue.objects.filter(period_kind=period.kind, period_start=period.start).update(
            numerator=-1
        )
        took, queries, rows = once(
            lambda p=period: figures.recompute(period_kind=p.kind, period_start=p.start, now=NOW)
        )
        scans = []
        for _ in range(3):
            started = time.perf_counter()
            seen = scan_sources(period)
            scans.append(time.perf_counter() - started)
        out["recompute"].append(
            {
                "name": f"recompute a {label} ({period.slug}), all councils",
                "s": took,
                "queries": queries,
                "rows": rows,
                "baseline_s": min(scans),
                "seen": seen,
            }
        )
        log(f"  recompute {period.slug}: {took:.1f} s, {queries} queries, {rows} rows")


def raw_closure_ranking(council, period) -> list:
    """The baseline of the dashboard: case closure of each village under `council` in the
    month, computed from the raw cases (one GROUP BY over the subtree's cases), ranked."""
    from django.db.models import Count, Q
    from django.db.models.functions import Substr

    from cases.figures import percent
    from cases.models import Case
    from councils.models import CouncilPage, Level

    village = CouncilPage.objects.filter(level=Level.VILLAGE).only("depth").first()
    length = village.depth * CouncilPage.steplen
    start, end = period.bounds()
    villages = dict(
        CouncilPage.objects.live()
        .filter(path__startswith=council.path, level=Level.VILLAGE)
        .values_list("path", "title")
    )
    rows = (
        Case.objects.filter(
            council_path__startswith=council.path, reported_at__gte=start, reported_at__lt=end
        )
        .annotate(village=Substr("council_path", 1, length))
        .values("village")
        .annotate(reported=Count("pk"), closed=Count("pk", filter=Q(status="closed")))
        .order_by()
    )
    ranked = [
        (percent(row["closed"], row["reported"]), villages.get(row["village"], ""))
        for row in rows
        if row["village"] in villages
    ]
    ranked.sort(key=lambda pair: (-(pair[0] or 0), pair[1]))
    return ranked


def page(client, url: str, out: list, name: str, **extra) -> tuple:
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    p50, p95 = bench_cases.timed(lambda: client.get(url, **extra), repeat=REPEAT)
    queries = bench_cases.queries_of(lambda: client.get(url, **extra))
    out.append({"name": name, "p50": p50, "p95": p95, "queries": queries})
    log(f"  {name}: {p50:.1f}/{p95:.1f} ms, {queries} queries")
    return p50, p95, queries


def measure_pages(out: dict, places: dict, month, official) -> None:
    from django.test import Client
    from django.urls import reverse

    from governance import dashboards
    from governance.models import Index

    index = Index.objects.get()
    signed_in = Client()
    signed_in.force_login(official)
    anonymous = Client()
    levels = (("township", 15), ("district", 150), ("city", 600))
    figures = (
        ("case_closure", "case closure"),
        ("questions_on_time", "questions on time"),
        (f"index-{index.pk}", "index score"),
    )
    rows = out["pages"]
    counted = {}
    for key, label in figures:
        # The index is the district's: the city's dashboard does not offer it.
        for level, villages in levels[:2] if key.startswith("index") else levels:
            url = reverse("governance:dashboard", args=[places[level].pk])
            url += f"?figure={key}&period={month.slug}"
            name = f"{level} dashboard ({villages} villages), {label}"
            counted[(key, level)] = page(signed_in, url, rows, name)[2]
    for level, _villages in levels:
        for view, label in (("screen", "big screen"), ("screen_figures", "big screen fragment")):
            url = reverse(f"governance:{view}", args=[places[level].pk])
            counted[(view, level)] = page(anonymous, url, rows, f"{level} {label}")[2]
    # The peer: the ranking read from the figures against the same ranking from raw cases.
    measure = next(m for m in dashboards.measures(places["city"]) if m.key == "case_closure")
    for level, villages in levels[1:]:
        council = places[level]
        p50, p95 = bench_cases.timed(
            lambda c=council: dashboards.ranking(c, measure, month), repeat=REPEAT
        )
        queries = bench_cases.queries_of(lambda c=council: dashboards.ranking(c, measure, month))
        b50, b95 = bench_cases.timed(lambda c=council: raw_closure_ranking(c, month), repeat=10)
        base_queries = bench_cases.queries_of(lambda c=council: raw_closure_ranking(c, month))
        out["rankings"].append(
            {
                "name": f"{level} case-closure ranking ({villages} villages)",
                "p50": p50,
                "p95": p95,
                "queries": queries,
                "base_p50": b50,
                "base_p95": b95,
                "base_queries": base_queries,
            }
        )
        log(f"  {level} ranking: {p95:.1f} ms vs raw {b95:.1f} ms")
    out["constant"] = {
        key: (counted[(key, "township")], counted[(key, "district")], counted.get((key, "city")))
        for key in [k for k, _ in figures] + ["screen", "screen_figures"]
    }


API_ENDPOINTS = (
    ("councils", "council", 3_000),
    ("records", "record", DEEP),
    ("topics", "topic", DEEP),
    ("metrics", "metric", DEEP),
    ("case-figures", "case-figure", DEEP),
    ("index-scores", "index-score", DEEP),
)


def api_view(basename: str):
    """The list view of an endpoint, as the router built it, for its queryset and ordering."""
    from django.urls import resolve, reverse

    match = resolve(reverse(f"api:{basename}-list"))
    view = match.func.cls(**match.func.initkwargs)
    view.action = "list"
    view.kwargs = {}
    view.format_kwarg = None
    return view


def measure_api(out: dict) -> None:
    from django.test import Client
    from django.urls import reverse
    from rest_framework.pagination import Cursor

    from api.pagination import OpenDataCursor

    client = Client(HTTP_ACCEPT="application/json")
    for endpoint, basename, wanted in API_ENDPOINTS:
        url = reverse(f"api:{basename}-list")
        view = api_view(basename)
        ordering = view.cursor_ordering
        field = ordering.lstrip("-")
        rows = view.get_queryset().order_by(ordering)
        total = rows.count()
        depth = max(50, min(wanted, total - 60))
        position = rows.values_list(field, flat=True)[depth - 1]
        paginator = OpenDataCursor()
        paginator.base_url = "http://testserver" + url
        deep_url = paginator.encode_cursor(Cursor(offset=0, reverse=False, position=str(position)))
        deep_url = deep_url.removeprefix("http://testserver")
        # The cursor built is the one `next` gives: page 2 from page 1's link, then the deep one.
        first = client.get(url).json()
        second = client.get(first["next"]).json()
        paginator_two = OpenDataCursor()
        paginator_two.base_url = "http://testserver" + url
        position_two = rows.values_list(field, flat=True)[49]
        built_two = paginator_two.encode_cursor(Cursor(0, False, str(position_two)))
        assert client.get(built_two).json()["results"] == second["results"], endpoint
        offset_rows = list(rows[depth : depth + 50])
        deep = client.get(deep_url).json()["results"]
        assert len(deep) == len(offset_rows), (endpoint, len(deep), len(offset_rows))
        if "id" in deep[0]:
            assert deep[0]["id"] == offset_rows[0].pk, (endpoint, deep[0]["id"], offset_rows[0].pk)
        entry = {"endpoint": endpoint, "total": total, "depth": depth}
        for key, target in (("first", url), ("deep", deep_url)):
            client.get(target)
            p50, p95 = bench_cases.timed(lambda t=target: client.get(t), repeat=REPEAT)
            entry[key] = (p50, p95, bench_cases.queries_of(lambda t=target: client.get(t)))
        lookup = f"{field}__{'lt' if ordering.startswith('-') else 'gt'}"
        seek = rows.filter(**{lookup: position})
        entry["seek"] = bench_cases.timed(lambda q=seek: list(q[:51]), repeat=REPEAT)
        entry["offset"] = bench_cases.timed(
            lambda q=rows, d=depth: list(q[d : d + 50]), repeat=REPEAT
        )
        out["api"].append(entry)
        log(
            f"  api {endpoint}: page 1 {entry['first'][1]:.1f} ms, item {depth:,}"
            f" {entry['deep'][1]:.1f} ms; seek {entry['seek'][1]:.1f} vs offset"
            f" {entry['offset'][1]:.1f} ms"
        )


def child(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from councils.models import Role
    from governance.figures import Period
    from tests.councils.factories import member

    started = time.perf_counter()
    steps: dict[str, float] = {}
    places = build(steps)
    built = time.perf_counter() - started
    official = member(places["city"], Role.OFFICIAL)
    month = Period.containing("month", today()).previous()
    quarter = Period.containing("quarter", today()).previous()
    out = {"recompute": [], "pages": [], "rankings": [], "api": []}
    log("measuring")
    measure_recompute(out, month, quarter)
    measure_pages(out, places, month, official)
    measure_api(out)
    print(
        json.dumps(
            {
                "councils": places["councils"],
                "counts": places["counts"],
                "reused": places["reused"],
                "now": NOW.isoformat(),
                "build_s": built,
                "steps": steps,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                **out,
            },
            ensure_ascii=False,
        )
    )


# -- the report ------------------------------------------------------------------------------------


def report(data: dict) -> int:
    print(
        f"councils: {data['councils']:,}; now {data['now'][:16]}; PostgreSQL;"
        f" {'reused the earlier database' if data['reused'] else 'built'} in"
        f" {data['build_s']:.0f} s"
    )
    for name, took in data["steps"].items():
        print(f"  build: {name:52} {took:7.1f} s")
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in data["counts"].items()))
    print()
    print(f"{'recompute':58} {'ours':>9} {'scan (baseline)':>16} {'ratio':>7}")
    for row in data["recompute"]:
        print(
            f"{row['name']:58} {row['s']:8.1f}s {row['baseline_s']:15.2f}s"
            f" {row['s'] / row['baseline_s']:7.1f}  queries {row['queries']},"
            f" {row['rows']:,} values from {row['seen']:,} source rows"
        )
    print()
    print(f"{'page (as an official; screens anonymous)':58} {'p50/p95 ms':>16} {'queries':>8}")
    for row in data["pages"]:
        print(f"{row['name']:58} {row['p50']:7.1f}/{row['p95']:<8.1f} {row['queries']:8}")
    print()
    print(f"{'ranking, precomputed vs raw cases (baseline)':58} {'ours p95':>9} {'raw p95':>9}")
    for row in data["rankings"]:
        print(
            f"{row['name']:58} {row['p95']:8.1f}ms {row['base_p95']:8.1f}ms"
            f" {row['base_p95'] / row['p95']:6.0f}x  queries {row['queries']}/{row['base_queries']}"
        )
    print()
    print(
        f"{'api list (p50/p95 ms, queries)':22} {'page 1':>18} {'deep page':>26}"
        f" {'seek':>7} {'OFFSET':>8} {'ratio':>6}"
    )
    for entry in data["api"]:
        f50, f95, fq = entry["first"]
        d50, d95, dq = entry["deep"]
        seek, offset = entry["seek"][1], entry["offset"][1]
        print(
            f"{entry['endpoint']:22} {f50:6.1f}/{f95:<6.1f} q{fq:<3}"
            f" item {entry['depth']:>6,} {d50:6.1f}/{d95:<6.1f} q{dq:<3}"
            f" {seek:6.1f} {offset:8.1f} {offset / seek:6.1f}"
        )
    print("  (seek: the ORM query the cursor runs at that depth; OFFSET: the same rows by offset,")
    print("   the baseline; p95 ms; ratio OFFSET/seek)")
    print()
    print(f"peak RSS: {data['rss_mb']:.0f} MB")
    failures = []
    for key, (township, district, city) in data["constant"].items():
        if township != district:
            failures.append(f"{key}: {township} queries for a township, {district} for a district")
        print(f"queries township/district/city, {key}: {township}/{district}/{city}")
    pages_ok = all(
        r["p95"] < GOAL_PAGE_MS for r in data["pages"] if not r["name"].startswith("city")
    )
    api_ok = all(max(e["first"][1], e["deep"][1]) < GOAL_API_MS for e in data["api"])
    month = data["recompute"][0]["s"]
    month_ok = month < GOAL_RECOMPUTE_S
    print(
        f"goals: district dashboard and big screen under {GOAL_PAGE_MS} ms p95 with constant"
        f" queries ({'met' if pages_ok and not failures else 'NOT met'}); a month recomputed"
        f" under {GOAL_RECOMPUTE_S} s ({month:.0f} s: {'met' if month_ok else 'NOT met'});"
        f" API lists under {GOAL_API_MS} ms p95 at any depth ({'met' if api_ok else 'NOT met'})"
    )
    if failures:
        print("query counts not constant: " + "; ".join(failures))
        return 1
    return 0


def database_complete(admin: str) -> bool:
    url = admin.rsplit("/", 1)[0] + "/" + DB_NAME
    probe = subprocess.run(
        ["psql", url, "-Atc", "SELECT value FROM bench_governance_meta WHERE key = 'complete'"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == "1"


def main() -> int:
    if len(sys.argv) == 2:
        child(sys.argv[1])
        return 0
    url = pg_url()
    if url is None:
        print("skipped: no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
        return 0
    admin = url.rsplit("/", 1)[0] + "/postgres"
    if not (os.environ.get("BENCH_GOVERNANCE_REUSE") and database_complete(admin)):
        subprocess.run(
            ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=True
        )
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
    result = subprocess.run(
        [sys.executable, __file__, url], stdout=subprocess.PIPE, text=True, check=False
    )
    if result.returncode != 0:
        print(result.stdout[-3000:])
        return 1
    return report(json.loads(result.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main())
