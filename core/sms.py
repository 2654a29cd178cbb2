"""Sending SMS messages.

A backend is any class with `send(phone: str, message: str) -> None`. Settings choose one with
YISHI_SMS_BACKEND; docs/sms.md shows how to plug in a real provider (Aliyun, Tencent Cloud ...).
"""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("yishi.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class ConsoleSmsBackend:
    """Development: write the message to the log, where the developer reads the code."""

    def send(self, phone: str, message: str) -> None:
        logger.warning("SMS to %s: %s", phone, message)
        print(f"[SMS to {phone}] {message}", flush=True)


class MemorySmsBackend:
    """Tests: keep messages in `outbox`, like Django's locmem e-mail backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        MemorySmsBackend.outbox.append((phone, message))


class SmsDeliveryError(Exception):
    """The provider refused or failed to deliver a message."""


def get_backend() -> SmsBackend:
    return import_string(settings.YISHI_SMS_BACKEND)()


def send_sms(*, phone: str, message: str) -> None:
    """Send one SMS through the configured backend."""
    get_backend().send(phone, message)
