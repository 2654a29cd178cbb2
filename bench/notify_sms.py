"""bench_notify's SMS provider: every send appended to one file, so sends can be counted across
worker processes (and across a SIGKILL: the line is in the page cache once write() returns).

One line per send, written with a single write() on a descriptor opened O_APPEND (a line is
far below PIPE_BUF, so lines of concurrent processes never interleave):

    <phone> <key> <unix time> <pid>

`key` is the provider's de-duplication key (the `key` argument, "yishi-<delivery id>"). The file is
BENCH_SMS_LOG; BENCH_SMS_LATENCY_MS (default 0) waits that long after the write, as a provider's
answer would: the window in which a killed worker has sent but not recorded the send.
"""

import os
import time

_fd: int | None = None


def _file() -> int:
    global _fd
    if _fd is None:
        _fd = os.open(os.environ["BENCH_SMS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    return _fd


class FileSmsBackend:
    def send(
        self,
        phone: str,
        message: str,
        *,
        params: dict | None = None,
        template: str | None = None,
        key: str = "",
    ) -> None:
        key = key or "-"
        os.write(_file(), f"{phone} {key} {time.time():.6f} {os.getpid()}\n".encode())
        latency = float(os.environ.get("BENCH_SMS_LATENCY_MS", "0"))
        if latency:
            time.sleep(latency / 1000)
