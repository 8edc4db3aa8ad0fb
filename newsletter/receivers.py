"""Signal receivers of the newsletter app, connected in its ready() (models import no task or service)."""

import hashlib

from django.db import transaction

from newsletter.models import MailchimpMember
from newsletter.tasks import mailchimp_forget


def forget_in_mailchimp(sender, instance, **kwargs):
    """An erased subscriber is deleted permanently from Mailchimp too (once the erasure commits).

    Only Mailchimp's member id (a hash) goes to the task, never the address.
    """
    email = MailchimpMember.objects.filter(subscriber_id=instance.pk).values_list("email", flat=True).first()
    if email:
        member_hash = hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's member id
        transaction.on_commit(lambda: mailchimp_forget.delay(member_hash), robust=True)
