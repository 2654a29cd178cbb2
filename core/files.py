"""Serving a stored file after the app's view has said who may see it.

No web server serves the media root directly (docs/files.md). Each app's view finds the file's
record, asks the app's own permission, and then calls serve_file(): in production Django only
answers with `X-Accel-Redirect` to an `internal` nginx location (docs/nginx.conf) and nginx sends
the bytes; in development and tests Django streams the file itself.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header

from core.uploads import CONTENT_TYPES, INLINE_TYPES, extension_of

# Nothing in a served file may run, load anything, or be framed: even an HTML or SVG file that
# slipped past every check is inert, and browsers must not guess another type.
FILE_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
)


def accel_prefix(storage_alias: str) -> str | None:
    """The nginx internal location of a named storage, when nginx sends the files."""
    return (getattr(settings, "YISHI_FILES_ACCEL_REDIRECT", None) or {}).get(storage_alias)


def serve_file(
    fieldfile, *, storage_alias: str = "default", download_name: str = "", content_type: str = ""
):
    """Answer with the stored file of `fieldfile` (already permission-checked by the caller).

    Images are shown inline; anything else is a download under `download_name` (the original,
    sanitised name) or the stored name. A missing file is a 404. `content_type` names the type
    of a file the app wrote itself (an export's CSV or zip); uploads get theirs from the name.
    """
    if not fieldfile or not fieldfile.name:
        raise Http404
    stored_name = fieldfile.name
    content_type = content_type or CONTENT_TYPES.get(
        extension_of(stored_name), "application/octet-stream"
    )
    inline = content_type in INLINE_TYPES
    prefix = accel_prefix(storage_alias)
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(stored_name)
    else:
        try:
            handle = fieldfile.storage.open(stored_name, "rb")
        except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
            raise Http404 from error
        response = FileResponse(handle, content_type=content_type)
    filename = _safe_filename(download_name, stored_name)
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # Only the browser that was allowed may keep it, briefly: a draft can be withdrawn.
    response["Cache-Control"] = "private, max-age=300"
    return response


def _safe_filename(download_name: str, stored_name: str) -> str:
    """The name offered for saving: no path, no control or quote characters, and the stored
    (detected) extension, so that a renamed file cannot pretend to be another type."""
    extension = extension_of(stored_name)
    name = str(download_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>;\r\n').strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:100] or "file"
    return f"{stem}.{extension}" if extension else stem
