"""Sensitive words and the per-user posting rate limit.

Sensitive words come from two places: `settings.YISHI_SENSITIVE_WORDS` (a list, for words every
deployment holds) and the `SensitiveWord` table that committees and admins edit in Wagtail
(Snippets > Sensitive words). A message containing one is held for review, not refused.

The rate limit counts with core.ratelimit on the shared cache, so every worker shares the count.
"""

import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from core import ratelimit
from deliberation.models import SensitiveWord

DEFAULT_POST_RATE = (6, 60)  # 6 messages per 60 seconds per person, across all topics


def _normalise(text: str) -> str:
    # NFKC folds full-width letters and digits (ＡＢＣ, １２３) onto their plain forms.
    return unicodedata.normalize("NFKC", text).casefold()


SENSITIVE_WORDS_KEY = "yishi:deliberation:sensitive-words"
SENSITIVE_WORDS_KEEP = 300  # seconds: a safety net; a change drops the cached list at once


def sensitive_words() -> list[str]:
    """The configured words and those in the table. The table's are kept in the shared cache
    (one cache read per post instead of a query), and dropped from it whenever a word is saved
    or deleted (deliberation.apps connects the signals), so every worker sees a change at once."""
    configured = list(getattr(settings, "YISHI_SENSITIVE_WORDS", []))
    stored = cache.get(SENSITIVE_WORDS_KEY)
    if stored is None:
        stored = list(SensitiveWord.objects.values_list("word", flat=True))
        cache.set(SENSITIVE_WORDS_KEY, stored, timeout=SENSITIVE_WORDS_KEEP)
    return [w for w in (_normalise(w).strip() for w in configured + stored) if w]


def forget_sensitive_words(**_kwargs) -> None:
    """A word was saved or deleted: drop the list now and again once that commits (a post read
    in between, before the commit, would have cached the list without the change)."""
    cache.delete(SENSITIVE_WORDS_KEY)
    transaction.on_commit(lambda: cache.delete(SENSITIVE_WORDS_KEY))


def find_sensitive_words(text: str) -> list[str]:
    """The sensitive words `text` contains (ignoring case, width and spaces between letters)."""
    plain = _normalise(text)
    squeezed = "".join(plain.split())
    return [w for w in sensitive_words() if w in plain or "".join(w.split()) in squeezed]


def post_rate() -> tuple[int, int] | None:
    """(messages, seconds) allowed per person, or None for no limit."""
    return getattr(settings, "YISHI_DELIBERATION_POST_RATE", DEFAULT_POST_RATE)


def take_post_token(user_id: int) -> bool:
    """Count one post for `user_id` in a fixed window; False once the window's quota is used."""
    rate = post_rate()
    if not rate:
        return True
    limit, seconds = rate
    return ratelimit.hit(f"yishi:deliberation:post-rate:{user_id}", limit, seconds)
