"""Email identity shared by every channel (newsletter, members, contributions, Django's and Wagtail's own emails)."""

from django.core.mail.utils import DNS_NAME
from django.utils.encoding import punycode

from portal.core.conf import conf


def use_message_id_domain() -> None:
    """Make ``EMAIL_MESSAGE_ID_DOMAIN`` the domain of every Message-ID (called once, from the core app's ready()).

    Django builds Message-IDs (and its SMTP client's EHLO name) from ``DNS_NAME``, the machine's fully qualified
    name, which is "localhost" on many development machines and containers: the demo's emails said
    ``<...@localhost>``. Setting the name Django caches there covers every email sender at once.
    """
    domain = conf.EMAIL_MESSAGE_ID_DOMAIN
    if domain:
        DNS_NAME._fqdn = punycode(domain)
