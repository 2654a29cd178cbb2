"""Checks for what residents upload: photos of a lane, a broken lamp, a finished project; scanned
vouchers; spreadsheets of lines. The one place where uploads are checked, re-encoded and named.

Photos are decoded under a pixel cap and re-encoded (JPEG, or PNG when they have transparency),
which drops EXIF and GPS data and anything hidden after the image; they are stored under a random
name with the extension of the format they really are. Spreadsheets (zip files) are refused when
they would unpack to more than a cap. docs/files.md describes the caps.
"""

import io
import uuid
import warnings
import zipfile

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 3
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
# A 48-megapixel phone photo (8000 x 6000) passes; anything bigger is refused before decoding.
PHOTO_MAX_PIXELS = 50_000_000
# Stored photos are at most this wide or high: enough to read a voucher or see a pothole.
PHOTO_MAX_SIDE = 4096
JPEG_QUALITY = 85

# An .xlsx of 50,000 lines unpacks to about 20 MB in a dozen members.
ZIP_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
ZIP_MAX_MEMBERS = 1000

# What a stored file is served as, by the extension of its (random) stored name.
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
}
# Shown in the page (inline); everything else is only ever downloaded.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}


def _short(name) -> str:
    name = str(name or "").rsplit("/", 1)[-1]
    return name if len(name) <= 60 else name[:57] + "..."


def extension_of(name: str) -> str:
    """The lower-case extension of a file name, or "" when it has none worth keeping."""
    tail = str(name or "").rsplit("/", 1)[-1]
    extension = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
    return extension if extension.isascii() and extension.isalnum() and len(extension) <= 5 else ""


@deconstructible
class RandomName:
    """upload_to for every uploaded file: `<prefix>/<2 hex>/<32 hex>.<ext>`.

    Never the original name (it may say who is on a welfare list) nor a date (it tells when
    a draft was prepared): the name alone reveals nothing and cannot be guessed. Only the
    extension of the name handed in is kept; the checks below make it the detected format's.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix.strip("/")

    def __call__(self, instance, filename: str) -> str:
        token = uuid.uuid4().hex
        extension = extension_of(filename)
        return f"{self.prefix}/{token[:2]}/{token}" + (f".{extension}" if extension else "")

    def __eq__(self, other):
        return isinstance(other, RandomName) and other.prefix == self.prefix


def private_storage():
    """The storage of working papers nobody but the committee sees (import spreadsheets):
    outside the media root, settings.STORAGES["private"]."""
    from django.core.files.storage import storages

    return storages["private"]


def move_to_random_names(model, field_name: str, *, from_storage=None) -> int:
    """Data migrations: give every stored file of `model.field_name` a random name (the
    field's RandomName), moving it from `from_storage` (default: the field's own storage).

    Files already under a random name are left; a row whose file is missing keeps its old name
    (its view answers 404). Works on historical models; rows are updated with .update(), so no
    save() override runs. Returns how many files were moved.
    """
    import re

    field = model._meta.get_field(field_name)
    upload_to, storage = field.upload_to, field.storage
    source_storage = from_storage or storage
    pattern = rf"^{re.escape(upload_to.prefix)}/[0-9a-f]{{2}}/[0-9a-f]{{32}}(\.\w+)?$"
    moved = 0
    rows = model._default_manager.exclude(**{field_name: ""}).values_list("pk", field_name)
    for pk, old_name in list(rows):
        if re.match(pattern, old_name) or not source_storage.exists(old_name):
            continue
        with source_storage.open(old_name, "rb") as source:
            new_name = storage.save(upload_to(None, old_name), source)
        model._default_manager.filter(pk=pk).update(**{field_name: new_name})
        source_storage.delete(old_name)
        moved += 1
    return moved


def _photo_error(code: str, name) -> ValidationError:
    messages = {
        "too_large": _("The photo %(name)s is larger than %(mb)s MB."),
        "too_many_pixels": _(
            "The photo %(name)s has too many pixels (at most %(megapixels)s million). "
            "Send a smaller copy of it."
        ),
        "bad_photo": _("The file %(name)s is not a JPEG, PNG or WebP photo."),
    }
    params = {
        "name": _short(name),
        "mb": PHOTO_MAX_BYTES // 2**20,
        "megapixels": PHOTO_MAX_PIXELS // 1_000_000,
    }
    return ValidationError(messages[code] % params, code=code)


def clean_photo(photo, *, max_bytes: int = PHOTO_MAX_BYTES) -> ContentFile:
    """Decode an uploaded photo under the pixel cap and re-encode it; return what to store.

    Raises ValidationError (never anything else) for a file that is too big, has too many
    pixels (a decompression bomb: a few kilobytes that would unpack to gigabytes), or is not a
    JPEG, PNG or WebP. The result is a JPEG (or a PNG when the photo has transparency), turned
    the way its EXIF says, without EXIF, GPS or any other metadata, named `photo.jpg`/`.png`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = getattr(photo, "name", "")
    if photo.size is None or photo.size > max_bytes:
        error = _photo_error("too_large", name)
        if max_bytes != PHOTO_MAX_BYTES:
            error = ValidationError(
                _("The photo %(name)s is larger than %(mb)s MB.")
                % {"name": _short(name), "mb": max_bytes // 2**20},
                code="too_large",
            )
        raise error
    photo.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(photo) as image:
                if image.format not in PHOTO_FORMATS:
                    raise _photo_error("bad_photo", name)
                width, height = image.size
                if width * height > PHOTO_MAX_PIXELS:
                    raise _photo_error("too_many_pixels", name)
                # JPEG decoders can scale down while decoding: far less memory for big photos.
                image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
                image.load()
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                    upright.mode == "P" and "transparency" in upright.info
                )
                upright = upright.convert("RGBA" if has_alpha else "RGB")
                upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
                out = io.BytesIO()
                if has_alpha:
                    upright.save(out, format="PNG", optimize=True)
                    extension = "png"
                else:
                    upright.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
                    extension = "jpg"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _photo_error("too_many_pixels", name) from error
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise _photo_error("bad_photo", name) from error
    except MemoryError as error:
        raise _photo_error("too_many_pixels", name) from error
    finally:
        photo.seek(0)
    return ContentFile(out.getvalue(), name=f"photo.{extension}")


def clean_photos(photos) -> list[ContentFile]:
    """The photos of one proposal, topic or report: at most PHOTO_MAX_COUNT, each cleaned by
    clean_photo (empty form fields are skipped)."""
    photos = [photo for photo in photos if photo]
    if len(photos) > PHOTO_MAX_COUNT:
        # PHOTO_MAX_COUNT is 3; the sentence keeps its number so its translation still applies.
        raise ValidationError(_("You can add at most 3 photos."), code="too_many")
    return [clean_photo(photo) for photo in photos]


def check_zip_archive(
    upload, *, max_unpacked_bytes: int = ZIP_MAX_UNPACKED_BYTES, max_members: int = ZIP_MAX_MEMBERS
) -> None:
    """Refuse a zip (an .xlsx is one) that would unpack to more than the cap, or has too many
    members, before anything reads it. The sizes are those the archive declares; the zip reader
    refuses a member that unpacks to more than it declared."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ValidationError(
            _("The file is not a readable Excel file (.xlsx)."), code="not_zip"
        ) from error
    finally:
        upload.seek(0)
    if len(members) > max_members or sum(m.file_size for m in members) > max_unpacked_bytes:
        raise ValidationError(
            _(
                "The file would unpack to more than %(mb)s MB (or has more than %(members)s "
                "parts): it is not an ordinary sheet of lines. Save the sheet again in Excel "
                "or WPS, or split it."
            )
            % {"mb": max_unpacked_bytes // 2**20, "members": max_members},
            code="zip_too_big",
        )
