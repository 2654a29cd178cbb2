"""What a hostile or careless client may send to a form."""

import io
import string

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import strategies as st
from PIL import Image

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\u202e村口",  # right-to-left override
    "\ufeff",
    "𠮷野家",  # outside the Basic Multilingual Plane
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "-0",
    "-1",
    "-0.01",
    "0",
    "0.001",
    "1.005",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "9" * 400,
    "2147483648",
    "9223372036854775808",
    "1,280.50",
    "１２３",  # full-width digits
    "二十",
    "0x1F",
    "2025-02-30",
    "2025-13-01",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2025-03-01T25:61",
    "2025-03-01 09:00",
    "1970-01-01T00:00",
    "yes",
    "on",
    "true",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%s%s%(x)s",
    "{{ request }}",
    "../../etc/passwd",
]

_text = st.text(max_size=80)  # every code point but surrogates: control chars, NUL, CJK
_chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40)
_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
)
_dates = st.one_of(st.dates().map(str), st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")))
_huge = st.sampled_from(["x" * 100_001, "路" * 20_001, "9" * 5_000])

scalar = st.one_of(
    st.sampled_from(NASTY), _text, _chinese, _numbers, _dates, _huge, st.integers(1, 5000).map(str)
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()

_file_names = st.one_of(
    st.sampled_from(["photo.jpg", "scan.pdf", "lines.xlsx", "a.png", ".jpg", "x" * 300 + ".jpg"]),
    st.text(min_size=1, max_size=30).map(lambda t: t.replace('"', "").replace("\n", "") + ".jpg"),
)
_file_bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=512),
    st.just(PNG),
    st.just(PNG[:20]),  # a truncated image
    st.just(b"%PDF-1.4\n%%EOF"),
    st.just(b"PK\x03\x04" + b"\x00" * 64),  # looks like a zip/xlsx, is not
    st.just(b"GIF89a" + b"\x00" * 32),
)


def upload():
    """A fresh file object each time: files are read when sent."""
    return st.builds(
        lambda name, body: SimpleUploadedFile(name or "f.jpg", body),
        _file_names.filter(lambda n: n.strip(".") != ""),
        _file_bodies,
    )


# Field names a browser never sends; multipart field names cannot hold quotes or newlines.
_extra_keys = st.text(
    alphabet=string.ascii_letters + string.digits + "_-[]字段", min_size=1, max_size=12
)


@st.composite
def submissions(draw, base: dict, files: tuple[str, ...] = ()):
    """`base` (a valid submission) with some fields mutated, dropped, repeated, or added."""
    data = {}
    for name, good in base.items():
        choice = draw(st.sampled_from(["keep", "keep", "fuzz", "fuzz", "drop", "repeat"]))
        if choice == "keep":
            data[name] = good
        elif choice == "fuzz":
            data[name] = draw(scalar)
        elif choice == "repeat":
            data[name] = [draw(scalar), good if isinstance(good, str) else draw(scalar)]
    for name in files:
        choice = draw(st.sampled_from(["none", "file", "file", "text"]))
        if choice == "file":
            data[name] = draw(upload())
        elif choice == "text":
            data[name] = draw(scalar)
    for name, value in draw(st.dictionaries(_extra_keys, scalar, max_size=3)).items():
        data.setdefault(name, value)
    return data
