"""Each app's settings defaults (its conf.py) agree with what portal/settings/base.py sets without environment."""

import os

import pytest

from newsletter.conf import DEFAULTS as NEWSLETTER_DEFAULTS
from newsletter.conf import conf as newsletter_conf
from portal.core.conf import DEFAULTS as CORE_DEFAULTS
from portal.core.conf import conf as core_conf
from portal.members.conf import DEFAULTS as MEMBERS_DEFAULTS
from portal.pages.conf import DEFAULTS as PAGES_DEFAULTS

# Defaults base.py derives from other settings, or the test settings change on purpose.
DERIVED = {
    "PAGE_CACHE_ENABLED", "FRAGMENT_CACHE_ENABLED", "CONTENT_MEMO_SECONDS",  # on with CACHE_URL; off in tests
    "AUTH_USER_CACHE_SECONDS", "SEARCH_HITS_FLUSH_SECONDS",  # on with CACHE_URL
    "NEWSLETTER_FROM_EMAIL", "EMAIL_MESSAGE_ID_DOMAIN",  # DEFAULT_FROM_EMAIL and its domain
    "NEWSLETTER_LANGUAGES",  # every content language
    "NEWSLETTER_WINDOW_CAP",  # 0 in the environment means none
    "PORTAL_CONTENT_BLOCKS",  # the project adds the newsletter's block; the core itself names none
    "PRIVACY_SECOND_FACTOR_GROUPS",  # the test settings turn the second factor off
}


@pytest.mark.parametrize("defaults", [CORE_DEFAULTS, NEWSLETTER_DEFAULTS, MEMBERS_DEFAULTS, PAGES_DEFAULTS],
                         ids=["core", "newsletter", "members", "pages"])
def test_defaults_agree_with_the_settings_module(settings, defaults):
    disagree = {}
    for name, default in defaults.items():
        if name in DERIVED or name in os.environ or not hasattr(settings, name):
            continue
        value = getattr(settings, name)
        same = list(value) == list(default) if isinstance(default, tuple | list) else value == default
        if not same:
            disagree[name] = (value, default)
    assert disagree == {}


def test_conf_reads_the_current_setting_and_falls_back_to_the_default(settings):
    settings.PAGE_CACHE_MAX_VARIANTS = 7
    assert core_conf.PAGE_CACHE_MAX_VARIANTS == 7
    del settings.NEWSLETTER_TASK_BUDGET
    assert newsletter_conf.NEWSLETTER_TASK_BUDGET == 60
    with pytest.raises(AttributeError):
        core_conf.NOT_A_SETTING  # noqa: B018 - a name no app declares is an error, not a silent None
