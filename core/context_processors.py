LARGE_TEXT_COOKIE = "yishi_large_text"


def display_preferences(request):
    """Large text for elderly readers: a cookie set by a plain form, no JavaScript needed."""
    return {"large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"}
