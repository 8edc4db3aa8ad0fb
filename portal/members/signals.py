"""Keep members' groups in step with their organisation, and record membership changes in the audit log."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from wagtail.log_actions import log

from .models import Membership, Organisation
from .services import sync_member_groups, sync_organisation_members


@receiver(pre_save, sender=Organisation)
def remember_previous_state(sender, instance, raw=False, **kwargs):
    """Note the stored sector and active flag so post_save knows what changed."""
    if raw or instance.pk is None:
        instance._previous_state = None
        return
    instance._previous_state = (
        Organisation.objects.filter(pk=instance.pk).values_list("active", "sector_id").first()
    )


@receiver(post_save, sender=Organisation)
def organisation_saved(sender, instance, created, raw=False, **kwargs):
    """Re-sync members' groups when the sector or active flag changes; log (de)activation."""
    if raw:
        return
    previous = getattr(instance, "_previous_state", None)
    if previous is None:  # a new organisation (no stored row before the save)
        return
    was_active, old_sector_id = previous
    if was_active != instance.active:
        action = "members.organisation.activate" if instance.active else "members.organisation.deactivate"
        log(instance, action)
    if was_active != instance.active or old_sector_id != instance.sector_id:
        sync_organisation_members(instance)


@receiver(post_save, sender=Membership)
def membership_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    sync_member_groups(instance.user, instance.organisation)
    if created:
        from django.db import transaction

        from .tasks import notify_organisation_contact

        membership_id = instance.pk
        transaction.on_commit(lambda: notify_organisation_contact.delay(membership_id))
        log(instance.organisation, "members.membership.join", data={"user": instance.user_id,
                                                                    "username": instance.user.get_username()})


@receiver(post_delete, sender=Membership)
def membership_deleted(sender, instance, **kwargs):
    if _user_exists(instance):
        sync_member_groups(instance.user)
    log(instance.organisation, "members.membership.leave", data={"user": instance.user_id})


def _user_exists(membership) -> bool:
    """A membership deleted by cascade from its user has no user left to update."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=membership.user_id).exists()
