import pytest

from tests.portal.hotlines.factories import HotlineDirectoryPageFactory, HotlineFactory


@pytest.fixture
def directory(home):
    return HotlineDirectoryPageFactory(parent=home)


@pytest.fixture
def hotlines(db):
    """France with two hotlines, Belgium recommended for Luxembourg, an international channel, an inactive one."""
    return {
        "fr": HotlineFactory(name="Ligne Claire", countries=["FR"], languages=["fr", "en"],
                             accepts=["csam", "ai-generated"]),
        "fr-youth": HotlineFactory(name="Signal Jeunesse", countries=["FR"], languages=["fr"],
                                   accepts=["grooming", "sextortion"], anonymous=False),
        "be": HotlineFactory(name="Meldpunt Lage Landen", countries=["BE"], languages=["nl", "fr"],
                             accepts=["csam"], fallback_for=["LU"]),
        "intl": HotlineFactory(name="International Channel", countries=[], languages=["en", "es"],
                               accepts=["csam"], international=True),
        "closed": HotlineFactory(name="Closed Hotline", countries=["FR"], active=False),
    }
