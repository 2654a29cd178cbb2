"""The user account: a verified phone, a public display name and a private real name.

后台实名、前台自愿: the real name is seen only by the committee and supervisors of a council the
person belongs to (see councils.rules); everyone else sees the display name. No national ID
number is collected anywhere (PIPL: collect the minimum).
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^\+?[0-9]{6,15}$", _("Enter a phone number of digits only, for example 13800138000.")
)


class YishiUserManager(UserManager):
    def create_user(self, username=None, email=None, password=None, **extra_fields):
        username = username or extra_fields.get("phone") or None
        return super().create_user(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person. `username` is kept for Django's admin and is set to the phone number."""

    phone = models.CharField(
        _("mobile phone"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        validators=[phone_validator],
    )
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    display_name = models.CharField(
        _("display name"),
        max_length=40,
        blank=True,
        help_text=_("Shown to everyone next to what you write. A nickname is fine."),
    )
    real_name = models.CharField(
        _("real name"),
        max_length=40,
        blank=True,
        help_text=_("Seen only by the committee and supervisors of councils you join."),
    )

    objects = YishiUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.public_name

    @property
    def public_name(self) -> str:
        """The name shown in public: the display name, else a masked phone number."""
        if self.display_name:
            return self.display_name
        if self.phone:
            return f"{_('Resident')} {self.phone[-4:]}"
        return self.username
