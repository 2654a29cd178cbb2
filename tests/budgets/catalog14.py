"""The zh-hans messages of issue 14 (points 6 and 7) before they are merged into locale/.

They are delivered as var/i18n/budgets14.po (the lead merges them into the catalogue). Until
then this fixture compiles that file into a catalogue placed first on LOCALE_PATHS, so tests in
Chinese read the same words users will; once merged, locale/ has them too and nothing changes.
"""

from pathlib import Path

import polib
import pytest

DELIVERED = Path(__file__).resolve().parents[2] / "var" / "i18n" / "budgets14.po"


@pytest.fixture
def zh_catalogue(settings, tmp_path):
    if DELIVERED.exists():
        po = polib.pofile(str(DELIVERED))
        po.metadata = {
            "Content-Type": "text/plain; charset=UTF-8",
            "Language": "zh_Hans",
            "Plural-Forms": "nplurals=1; plural=0;",
        }
        target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
        target.mkdir(parents=True)
        po.save_as_mofile(str(target / "django.mo"))
        # Changing LOCALE_PATHS resets Django's translation caches (django.test.signals).
        settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]
    yield


def speak(client, language: str) -> None:
    """The reader's language switch (a cookie): the site ignores Accept-Language on purpose."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
