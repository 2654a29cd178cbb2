"""Group names: one helper, built from primary keys (Channels allows ASCII only, max 100 chars)."""


def group_name(kind: str, pk: int) -> str:
    """`kind.pk`: ASCII only and far below Channels' 100-character limit."""
    if not kind.replace("_", "").isalnum() or not kind.isascii():
        raise ValueError(f"group kind must be ASCII letters, digits or _: {kind!r}")
    return f"{kind}.{int(pk)}"
