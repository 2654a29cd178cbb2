"""Settings for bench_notify's process and its task workers: bench.settings (the test settings,
DEBUG off) with SMS sent to bench.notify_sms's file, at YISHI_NOTIFY_SMS_PER_SECOND, and budgets
too high to refuse anything (the production code paths that count them still run)."""

from bench.settings import *  # noqa: F403
from yishi.settings.base import env

YISHI_SMS_BACKEND = "bench.notify_sms.FileSmsBackend"
YISHI_NOTIFY_SMS_PER_SECOND = int(env("YISHI_NOTIFY_SMS_PER_SECOND", "200"))
YISHI_SMS_DAILY_BUDGET = 100_000_000
YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL = 100_000_000
