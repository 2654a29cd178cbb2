"""core/uploads.py and core/files.py: photos are decoded under a pixel cap and re-encoded
(no EXIF, no GPS, the real format's extension), zip bombs are refused before reading, stored
names are random, and served files carry nosniff, a sandboxing CSP and a safe file name."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from PIL import Image

from core import uploads
from core.files import serve_file


def bomb_png(side: int) -> bytes:
    """A 1-bit grey PNG of side x side pixels: a few kilobytes that unpack to side²/8 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    rows = b"".join(packer.compress(row * 1000) for _ in range(side // 1000))
    rows += packer.compress(row * (side % 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def jpeg(size=(40, 20), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "JPEG", **save)
    return buffer.getvalue()


def jpeg_with_gps_and_rotation() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; show it rotated 90°
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (26.0, 4.0, 30.0)  # 福州
    gps[3], gps[4] = "E", (119.0, 18.0, 0.0)
    return jpeg(exif=exif)


@pytest.mark.parametrize("side", [20000, 11000, 8000])
def test_a_decompression_bomb_is_refused_with_a_clear_message_not_an_error(side):
    data = bomb_png(side)
    assert len(data) < 200_000  # tiny on the wire
    with pytest.raises(ValidationError) as caught:
        uploads.clean_photo(SimpleUploadedFile("lane.png", data, "image/png"))
    assert caught.value.code == "too_many_pixels"
    assert "too many pixels" in caught.value.messages[0]


def test_a_png_name_with_jpeg_content_is_stored_as_jpg():
    stored = uploads.clean_photo(SimpleUploadedFile("lane.png", jpeg(), "image/png"))
    assert stored.name == "photo.jpg"
    with Image.open(io.BytesIO(stored.read())) as image:
        assert image.format == "JPEG"


def test_exif_and_gps_are_removed_and_orientation_is_applied():
    original = jpeg_with_gps_and_rotation()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825)  # the test photo does carry a position
    stored = uploads.clean_photo(SimpleUploadedFile("p.jpg", original)).read()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and not image.getexif().get_ifd(0x8825)
        assert image.size == (20, 40)  # turned upright


def test_transparency_is_kept_as_png_and_trailing_data_is_dropped():
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buffer, "PNG")
    polyglot = buffer.getvalue() + b"<script>alert(1)</script>"
    stored = uploads.clean_photo(SimpleUploadedFile("a.png", polyglot)).read()
    assert stored.startswith(b"\x89PNG") and b"<script>" not in stored


@pytest.mark.parametrize(
    "content", [b"<svg onload=alert(1)>", b"GIF89a" + b"\0" * 20, b"", b"\xff\xd8\xff\xe0broken"]
)
def test_what_is_not_a_photo_is_refused(content):
    with pytest.raises(ValidationError) as caught:
        uploads.clean_photo(SimpleUploadedFile("x.jpg", content))
    assert caught.value.code in ("bad_photo", "too_large")


def test_random_names_never_contain_the_original_name_or_a_date():
    name = uploads.RandomName("disclosure/attachments")(None, "低保名单_张三_2026-11.PDF")
    prefix, fan_out, leaf = name.split("/")[1:]
    assert prefix == "attachments" and len(fan_out) == 2 and leaf.endswith(".pdf")
    assert "张三" not in name and "2026" not in name and len(leaf) == 36
    assert uploads.RandomName("x")(None, "evil.php%00.jpg/../..") != name
    assert uploads.extension_of("a.<script>") == ""


def _zip(members: dict) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_declared_size():
    bomb = _zip({"xl/worksheets/sheet1.xml": b"\0" * (3 * 2**20)})
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError) as caught:
        uploads.check_zip_archive(io.BytesIO(bomb), max_unpacked_bytes=2 * 2**20)
    assert caught.value.code == "zip_too_big"
    assert "would unpack to more than 2 MB" in caught.value.messages[0]
    many = _zip({f"m{i}": b"" for i in range(30)})
    with pytest.raises(ValidationError, match="more than 20 parts"):
        uploads.check_zip_archive(io.BytesIO(many), max_members=20)
    uploads.check_zip_archive(io.BytesIO(many), max_members=30)  # at the cap: fine


class _Stored:
    """A FieldFile stand-in: a name and a storage."""

    def __init__(self, storage, name):
        self.storage, self.name = storage, name

    def __bool__(self):
        return bool(self.name)


def test_served_files_are_inert_and_downloaded_unless_images(settings, tmp_path):
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=tmp_path)
    pdf = storage.save("a/0123.pdf", ContentFile(b"%PDF-1.4"))
    response = serve_file(_Stored(storage, pdf), download_name='账目"\r\n<x>.exe')
    assert isinstance(response, FileResponse) and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition
    assert ".exe" not in disposition and '"<x>' not in disposition and ".pdf" in disposition
    photo = storage.save("a/4567.jpg", ContentFile(jpeg()))
    assert serve_file(_Stored(storage, photo))["Content-Disposition"].startswith("inline")
    settings.YISHI_FILES_ACCEL_REDIRECT = {"default": "/_files/media/"}
    accel = serve_file(_Stored(storage, photo))
    assert accel["X-Accel-Redirect"] == "/_files/media/a/4567.jpg"
    assert accel.content == b"" and accel["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/media/disclosure/2026/11/report.pdf", "/media/topics/a.jpg"])
def test_the_media_root_is_not_served_by_path_even_in_development(client, settings, tmp_path, path):
    import importlib

    from django.urls import clear_url_caches

    import yishi.urls

    settings.MEDIA_ROOT = tmp_path
    stored = tmp_path / path.removeprefix("/media/")
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.4 the old-style path of a real file")
    settings.DEBUG = True
    try:
        importlib.reload(yishi.urls)
        clear_url_caches()
        assert client.get(path).status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(yishi.urls)
        clear_url_caches()
