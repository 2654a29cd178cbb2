"""What a person wants to be told outside the site: by kind and channel, quiet hours, digest.

Everything always reaches the inbox on the site; these choices are about SMS, WeChat and e-mail,
and only the channels this deployment has (YISHI_NOTIFY_CHANNELS). A choice equal to the kind's
default is stored as no row at all (services.wants), so a default that changes later reaches
everyone who never chose otherwise.
"""

import datetime

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from notifications import services
from notifications.kinds import SPECS, Channel, Kind
from notifications.models import PersonSettings, Preference

# The kinds in the order and the groups a person reads them, by the part of the site they are
# about (each kind's WeChat template names its part).
GROUPS = [
    ("account", _("Your membership")),
    ("topic", _("Topics in the discussion hall")),
    ("record", _("Disclosures and questions")),
    ("budget", _("Participatory budget")),
    ("meeting", _("Representatives' meetings")),
    ("case", _("Requests and cases")),
]

TIME_ERRORS = {
    "invalid": _("Write the time as hours and minutes, for example 21:00."),
    "required": _("Write a time, for example 21:00."),
}


def channels() -> list[str]:
    """The outside channels this deployment has, in a fixed order."""
    have = services.default_channels()
    return [channel for channel in Channel.outside() if channel in have]


def grouped_kinds() -> list[tuple[str, object, list[str]]]:
    """(group, its name, its kinds) for every kind a person can choose about (not the digest,
    which has its own choices)."""
    known = {key for key, _label in GROUPS}
    groups = [(key, label, []) for key, label in GROUPS]
    other: list[str] = []
    for kind in Kind.values:
        if kind == Kind.DIGEST:
            continue
        template = SPECS[kind].wechat_template
        if template in known:
            next(g for g in groups if g[0] == template)[2].append(kind)
        else:
            other.append(kind)
    if other:
        groups.append(("other", _("Other notifications"), other))
    return [group for group in groups if group[2]]


def field_name(kind: str, channel: str) -> str:
    return f"{kind}__{channel}"


class TimeInput(forms.TimeInput):
    input_type = "time"  # a phone's own time picker; a plain text box where there is none

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def time_field(label) -> forms.TimeField:
    return forms.TimeField(
        label=label, widget=TimeInput(), error_messages=TIME_ERRORS, input_formats=["%H:%M"]
    )


class PreferencesForm(forms.Form):
    quiet_hours = forms.BooleanField(
        label=_("Quiet hours: nothing by SMS, WeChat or e-mail at night"), required=False
    )
    quiet_start = time_field(_("Quiet from"))
    quiet_end = time_field(_("Quiet until"))
    digest = forms.BooleanField(
        label=_("One daily digest instead of each message"),
        help_text=_(
            "Once a day, one message says how many new notifications wait for you on the site."
        ),
        required=False,
    )
    digest_at = time_field(_("Send the digest at"))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        self.channels = channels()
        own = PersonSettings.objects.filter(user=user).first()
        chosen = {
            (p.user_id, p.kind, p.channel): p.enabled
            for p in Preference.objects.filter(user=user, channel__in=self.channels)
        }
        initial = {
            "quiet_hours": own.quiet_hours if own else True,
            "quiet_start": own.quiet_start if own else services.QUIET_DEFAULT[0],
            "quiet_end": own.quiet_end if own else services.QUIET_DEFAULT[1],
            "digest": own.digest if own else False,
            "digest_at": own.digest_at if own else datetime.time(19, 0),
        }
        self.own = own
        self.choices: list[tuple[str, str, str]] = []  # (kind, channel, field name)
        for kind in Kind.values:
            for channel in self.channels:
                name = field_name(kind, channel)
                self.choices.append((kind, channel, name))
                initial[name] = services.wants(chosen, user.pk, kind, channel)
        super().__init__(*args, initial=initial, **kwargs)
        for kind, channel, name in self.choices:
            self.fields[name] = forms.BooleanField(
                required=False,
                label=_("%(kind)s by %(channel)s")
                % {"kind": Kind(kind).label, "channel": Channel(channel).label},
            )

    # --- what the template lays out -------------------------------------------------------

    def groups(self) -> list[dict]:
        """Per group: its name and rows of (kind's name, the kind's checkbox per channel)."""
        return [
            {
                "key": key,
                "label": label,
                "rows": [
                    {
                        "label": Kind(kind).label,
                        "fields": [self[field_name(kind, channel)] for channel in self.channels],
                    }
                    for kind in kinds
                ],
            }
            for key, label, kinds in grouped_kinds()
        ]

    def channel_labels(self) -> list:
        return [Channel(channel).label for channel in self.channels]

    def digest_fields(self) -> list:
        return [(Channel(c).label, self[field_name(Kind.DIGEST, c)]) for c in self.channels]

    # --- checking and saving --------------------------------------------------------------

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if data.get("quiet_hours") and start is not None and start == end:
            self.add_error("quiet_end", _("Quiet hours must end at another time than they begin."))
        return data

    @transaction.atomic
    def save(self) -> PersonSettings:
        """Store the choices: the person's settings, and a Preference row for each choice that
        differs from its kind's default (none for the others)."""
        data = self.cleaned_data
        own, _created = PersonSettings.objects.select_for_update().get_or_create(user=self.user)
        own.quiet_hours = data["quiet_hours"]
        own.quiet_start = data["quiet_start"]
        own.quiet_end = data["quiet_end"]
        own.digest = data["digest"]
        own.digest_at = data["digest_at"]
        own.save(update_fields=["quiet_hours", "quiet_start", "quiet_end", "digest", "digest_at"])
        stored = {
            (p.kind, p.channel): p
            for p in Preference.objects.filter(user=self.user, channel__in=self.channels)
        }
        drop, add, change = [], [], []
        for kind, channel, name in self.choices:
            enabled = data[name]
            row = stored.get((kind, channel))
            if enabled == services.wants({}, self.user.pk, kind, channel):
                if row is not None:
                    drop.append(row.pk)
            elif row is None:
                add.append(Preference(user=self.user, kind=kind, channel=channel, enabled=enabled))
            elif row.enabled != enabled:
                row.enabled = enabled
                change.append(row)
        if drop:
            Preference.objects.filter(pk__in=drop).delete()
        if add:
            Preference.objects.bulk_create(add)
        if change:
            Preference.objects.bulk_update(change, ["enabled"])
        return own
