"""What a notification can be about, and how each kind reads on each channel.

A kind's text is a gettext string with named fields filled from the notification's `params`,
rendered when it is shown or sent, in the reader's language. The SMS text is short (a provider
template: the fields are its variables) and ends with the link; WeChat template messages get the
same fields (docs/notifications.md lists what a deployment registers).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SITE = "site", _("on the site")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("e-mail")

    @classmethod
    def outside(cls) -> list["Channel"]:
        return [cls.SMS, cls.WECHAT, cls.EMAIL]

    @classmethod
    def outside_choices(cls) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in cls.outside()]


class Kind(models.TextChoices):
    MEMBERSHIP_VERIFIED = "membership_verified", _("Membership verified")
    MEMBERSHIP_REJECTED = "membership_rejected", _("Membership not verified")
    TOPIC_TAKEN_UP = "topic_taken_up", _("Topic taken up")
    TOPIC_ANSWERED = "topic_answered", _("Topic answered")
    TOPIC_CLOSED = "topic_closed", _("Topic closed")
    QUESTION_ANSWERED = "question_answered", _("Question answered")
    QUESTION_OVERDUE = "question_overdue", _("Question overdue")
    RECORD_AWAITING_SIGNOFF = "record_awaiting_signoff", _("Record waiting for sign-off")
    RECORD_OBJECTION = "record_objection", _("Objection to a record")
    RECORD_PUBLISHED = "record_published", _("Record published")
    BUDGET_PHASE_OPENED = "budget_phase_opened", _("Budget phase opened")
    VOTE_CLOSING = "vote_closing", _("Vote closing soon")
    PROPOSAL_CHANGED = "proposal_changed", _("Proposal changed")
    MEETING_CALLED = "meeting_called", _("Meeting called")
    MEETING_CHANGED = "meeting_changed", _("Meeting changed")
    MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")
    MINUTES_PUBLISHED = "minutes_published", _("Minutes published")
    CASE_UPDATED = "case_updated", _("Case updated")
    DIGEST = "digest", _("Daily digest")


@dataclass(frozen=True)
class KindSpec:
    text: str  # lazy; fields from params
    sms: str  # lazy; short, ends with the link
    outside: frozenset[str]  # outside channels on by default
    wechat_template: str  # the setting that names the registered template


SMS_AND_WECHAT = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})
WECHAT_ONLY = frozenset({Channel.WECHAT, Channel.EMAIL})

SPECS: dict[str, KindSpec] = {
    Kind.MEMBERSHIP_VERIFIED: KindSpec(
        _("Your membership of {council} has been verified. You can now take part."),
        _("[Yishi] Your membership of {council} is verified. {link}"),
        SMS_AND_WECHAT,
        "account",
    ),
    Kind.MEMBERSHIP_REJECTED: KindSpec(
        _("Your request to join {council} was not verified: {reason}"),
        _("[Yishi] Your request to join {council} was not verified. {link}"),
        SMS_AND_WECHAT,
        "account",
    ),
    Kind.TOPIC_TAKEN_UP: KindSpec(
        _("The committee has taken up the topic “{title}”."),
        _("[Yishi] The committee took up “{title}”. {link}"),
        WECHAT_ONLY,
        "topic",
    ),
    Kind.TOPIC_ANSWERED: KindSpec(
        _("The committee has answered the topic “{title}”."),
        _("[Yishi] The committee answered “{title}”. {link}"),
        SMS_AND_WECHAT,
        "topic",
    ),
    Kind.TOPIC_CLOSED: KindSpec(
        _("The topic “{title}” was closed: {reason}"),
        _("[Yishi] “{title}” was closed. {link}"),
        WECHAT_ONLY,
        "topic",
    ),
    Kind.QUESTION_ANSWERED: KindSpec(
        _("A question on “{title}” has been answered."),
        _("[Yishi] A question on “{title}” was answered. {link}"),
        SMS_AND_WECHAT,
        "record",
    ),
    Kind.QUESTION_OVERDUE: KindSpec(
        _("A question on “{title}” has had no answer by its deadline ({due})."),
        _("[Yishi] A question on “{title}” is past its deadline. {link}"),
        SMS_AND_WECHAT,
        "record",
    ),
    Kind.RECORD_AWAITING_SIGNOFF: KindSpec(
        _("“{title}” waits for the supervisory committee's review."),
        _("[Yishi] “{title}” waits for your review. {link}"),
        SMS_AND_WECHAT,
        "record",
    ),
    Kind.RECORD_OBJECTION: KindSpec(
        _("The supervisory committee objected to “{title}”: {reason}"),
        _("[Yishi] The supervisors objected to “{title}”. {link}"),
        SMS_AND_WECHAT,
        "record",
    ),
    Kind.RECORD_PUBLISHED: KindSpec(
        _("“{title}” has been published."),
        _("[Yishi] “{title}” is published. {link}"),
        WECHAT_ONLY,
        "record",
    ),
    Kind.BUDGET_PHASE_OPENED: KindSpec(
        _("{cycle}: {phase} is open until {until}."),
        _("[Yishi] {cycle}: {phase} is open until {until}. {link}"),
        SMS_AND_WECHAT,
        "budget",
    ),
    Kind.VOTE_CLOSING: KindSpec(
        _("{cycle}: the vote closes at {until}. If you have not voted yet, there is still time."),
        _("[Yishi] {cycle}: the vote closes at {until}. {link}"),
        SMS_AND_WECHAT,
        "budget",
    ),
    Kind.PROPOSAL_CHANGED: KindSpec(
        _("The proposal “{title}” you follow has changed: {change}"),
        _("[Yishi] “{title}”: {change}. {link}"),
        WECHAT_ONLY,
        "budget",
    ),
    Kind.MEETING_CALLED: KindSpec(
        _("{council}: representatives' meeting “{title}” on {when} at {place}."),
        _("[Yishi] Meeting “{title}” on {when} at {place}. {link}"),
        SMS_AND_WECHAT,
        "meeting",
    ),
    Kind.MEETING_CHANGED: KindSpec(
        _("The meeting “{title}” has changed: now {when} at {place}."),
        _("[Yishi] Meeting “{title}” changed: {when} at {place}. {link}"),
        SMS_AND_WECHAT,
        "meeting",
    ),
    Kind.MEETING_CANCELLED: KindSpec(
        _("The meeting “{title}” on {when} has been cancelled."),
        _("[Yishi] Meeting “{title}” on {when} is cancelled. {link}"),
        SMS_AND_WECHAT,
        "meeting",
    ),
    Kind.MINUTES_PUBLISHED: KindSpec(
        _("The minutes of “{title}” have been published."),
        _("[Yishi] Minutes of “{title}” are published. {link}"),
        WECHAT_ONLY,
        "meeting",
    ),
    Kind.CASE_UPDATED: KindSpec(
        _("Your case “{title}”: {change}"),
        _("[Yishi] Case “{title}”: {change}. {link}"),
        SMS_AND_WECHAT,
        "case",
    ),
    Kind.DIGEST: KindSpec(
        pgettext_lazy("digest", "{count} new notifications on Yishi."),
        pgettext_lazy("digest", "[Yishi] {count} new notifications. {link}"),
        SMS_AND_WECHAT,
        "digest",
    ),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


# Params that hold an English message of the catalogue, not a name or a title: translated when
# shown, in the reader's language, not frozen in the language of whoever caused the event.
TRANSLATED_PARAMS = frozenset({"change"})


def render(template, params: dict) -> str:
    """`template` (lazy, rendered in the active language) filled from `params`; a missing field
    is left empty rather than failing a page or a send."""
    shown = {
        key: gettext(value) if key in TRANSLATED_PARAMS and isinstance(value, str) else value
        for key, value in params.items()
    }
    return str(template).format_map(_Blank(shown))
