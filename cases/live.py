"""The township's live board of open cases (placeholder, filled in below)."""


def board_frame_soon(township_id: int) -> None:
    """Broadcast the township's board after the transaction commits."""
