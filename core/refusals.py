"""How a page tells someone that what they tried was refused: one wording for every app.

Services raise ValidationError (bad input, a workflow rule) or PermissionDenied (a role) with a
message already written for the person (docs/architecture.md, "Refusals"); views show it with
`say_refusal` or put `refusal_text` into the form's errors.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def refusal_text(error: Exception) -> str:
    """The message of a refused action, in the person's language."""
    if isinstance(error, ValidationError):
        text = " ".join(error.messages)
    else:
        text = str(error)
    return text or _("You are not allowed to do this.")


def say_refusal(request, error: Exception) -> None:
    """Show the refusal on the next page (Django's messages)."""
    messages.error(request, refusal_text(error))
