"""Outside channels: how a delivery reaches a person. Pluggable like the SMS providers.

- SMS: core.sms (the configured provider), with the kind's short text as the message and its
  fields as the template's variables (docs/notifications.md lists the templates to register).
- WeChat: a backend chosen by YISHI_WECHAT_BACKEND with `send(openid, template, fields, url)`:
  `ConsoleWechatBackend` (development: the log), `MemoryWechatBackend` (tests). A deployment
  plugs in its official account's template messages or mini-program subscription messages
  (the template ids it registered: YISHI_WECHAT_TEMPLATES).
- E-mail: Django's mail, only to people who gave an address.
"""

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.module_loading import import_string

from core import sms
from notifications.kinds import SPECS, Channel, Kind, render

logger = logging.getLogger("yishi.notifications")


class Refused(Exception):
    """Not sent, and sending again will not help (no address, a refused number, no budget)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WechatBackend(Protocol):
    def send(self, openid: str, template: str, fields: dict, url: str) -> None: ...


class ConsoleWechatBackend:
    def send(self, openid: str, template: str, fields: dict, url: str) -> None:
        logger.warning("WeChat to %s (%s): %s %s", openid, template, fields, url)
        print(f"[WeChat to {openid}] {template} {fields} {url}", flush=True)


class MemoryWechatBackend:
    outbox: list[tuple[str, str, dict, str]] = []

    def send(self, openid: str, template: str, fields: dict, url: str) -> None:
        MemoryWechatBackend.outbox.append((openid, template, fields, url))


def wechat_backend() -> WechatBackend:
    path = getattr(settings, "YISHI_WECHAT_BACKEND", "notifications.channels.ConsoleWechatBackend")
    return import_string(path)()


def absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url


def language_of(user) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def text_of(notification, *, short: bool = False) -> str:
    spec = SPECS[notification.kind]
    params = {**notification.params, "link": absolute(notification.url)}
    return render(spec.sms if short else spec.text, params)


def send(delivery, *, key: str) -> None:
    """Send one delivery now; `key` identifies it to a provider that de-duplicates. Raises
    Refused for what will not succeed later, any other exception for what may."""
    notification = delivery.notification
    user = notification.recipient
    with translation.override(language_of(user)):
        if delivery.channel == Channel.SMS:
            if not (user.phone and user.phone_verified):
                raise Refused("no_address")
            params = {**notification.params, "link": absolute(notification.url)}
            templates = getattr(settings, "YISHI_SMS_NOTICE_TEMPLATES", {})
            try:
                sms.send_notice(
                    phone=user.phone,
                    message=text_of(notification, short=True),
                    params={k: str(v) for k, v in params.items()},
                    template=templates.get(notification.kind, ""),
                    key=key,
                )
            except sms.SmsRefused as refused:
                raise Refused(refused.reason) from None
        elif delivery.channel == Channel.WECHAT:
            openid = getattr(getattr(user, "notification_settings", None), "wechat_openid", "")
            if not openid:
                raise Refused("no_address")
            spec = SPECS[notification.kind]
            templates = getattr(settings, "YISHI_WECHAT_TEMPLATES", {})
            fields = {
                "title": str(Kind(notification.kind).label),
                "text": text_of(notification),
                **{k: str(v) for k, v in notification.params.items()},
            }
            wechat_backend().send(
                openid,
                templates.get(spec.wechat_template, spec.wechat_template),
                fields,
                absolute(notification.url),
            )
        elif delivery.channel == Channel.EMAIL:
            if not user.email:
                raise Refused("no_address")
            send_mail(
                subject=str(Kind(notification.kind).label),
                message=f"{text_of(notification)}\n\n{absolute(notification.url)}",
                from_email=None,
                recipient_list=[user.email],
            )
        else:
            raise Refused("unknown_channel")
