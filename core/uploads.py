"""Checks for what residents upload: photos of a lane, a broken lamp, a finished project."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 3
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}


def check_photo(photo) -> None:
    """Refuse a file over 5 MB or one that Pillow does not recognise as JPEG, PNG or WebP."""
    from PIL import Image, UnidentifiedImageError

    if photo.size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("The photo %(name)s is larger than 5 MB.") % {"name": photo.name}, code="too_large"
        )
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        image_format = None
    finally:
        photo.seek(0)
    if image_format not in PHOTO_FORMATS:
        raise ValidationError(
            _("The file %(name)s is not a JPEG, PNG or WebP photo.") % {"name": photo.name},
            code="bad_photo",
        )
