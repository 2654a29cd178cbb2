"""The user account: a verified phone, a public display name and a private real name.

后台实名、前台自愿: the real name is seen only by the committee and supervisors of a council the
person belongs to (see councils.rules); everyone else sees the display name. No national ID
number is collected anywhere (PIPL: collect the minimum).
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
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


class TaskRunStatus(models.TextChoices):
    """Where a tracked background job is (core/tasks.py, docs/architecture.md "Tasks")."""

    QUEUED = "queued", _("waiting for a worker")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class TaskRun(models.Model):
    """The record of one tracked job on the task runner: what to run, how far it got, how many
    attempts it took and why the last one failed. It outlives the task backend's own result
    (a database row or a Redis key), so a job is never lost: a failure is retried up to
    `max_attempts` times and then shown to whoever waits for it, with a way to try again.
    """

    work = models.CharField(max_length=200)  # dotted path of a @tracked function
    kwargs = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=TaskRunStatus.choices, default=TaskRunStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    timeout_seconds = models.PositiveIntegerField(default=900)
    done_units = models.PositiveIntegerField(default=0)
    total_units = models.PositiveIntegerField(null=True, blank=True)
    # Written when the job is claimed and at each progress report: a RUNNING job whose
    # heartbeat is older than its timeout lost its worker (core.tasks.reap_stalled).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="taskrun_max_attempts_positive"
            )
        ]

    def __str__(self):
        return f"{self.work} #{self.pk} ({self.status})"

    @property
    def is_queued(self) -> bool:
        return self.status == TaskRunStatus.QUEUED

    @property
    def is_running(self) -> bool:
        return self.status == TaskRunStatus.RUNNING

    @property
    def is_done(self) -> bool:
        return self.status == TaskRunStatus.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == TaskRunStatus.FAILED

    @property
    def is_finished(self) -> bool:
        return self.status in (TaskRunStatus.DONE, TaskRunStatus.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total_units:
            return None
        return min(100, self.done_units * 100 // self.total_units)


class AppendOnlyModel(models.Model):
    """A public record: rows are added, never changed or deleted (corrections are new rows).
    The database refuses nothing by itself here; the hash chains and the tests of each record
    kind (docs/threat-model.md) catch what bypasses the ORM."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("This record is append-only and cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This record is append-only and cannot be deleted."))
