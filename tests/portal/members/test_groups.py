"""Sector groups follow each member's organisation: its sector and its active state."""

from django.contrib.auth.models import Group

from wagtail.models import ModelLogEntry

from portal.members.services import set_organisation_active
from tests.factories import UserFactory
from tests.portal.members.factories import MembershipFactory, OrganisationFactory, sector


def group_names(user):
    return set(user.groups.values_list("name", flat=True))


def test_data_migration_creates_sector_groups_and_roles(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Members", "Hotlines", "NGOs", "Industry", "Law enforcement", "Government", "Editors",
            "Moderators"} <= names


def test_joining_puts_member_in_members_and_sector_group(db):
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory(sector=sector("law-enforcement")))
    assert group_names(user) == {"Members", "Law enforcement"}


def test_changing_sector_moves_members_and_keeps_other_groups(db):
    editors = Group.objects.get(name="Editors")
    user = UserFactory(groups=[editors])
    organisation = OrganisationFactory(sector=sector("ngo"))
    MembershipFactory(user=user, organisation=organisation)
    organisation.sector = sector("industry")
    organisation.save()
    assert group_names(user) == {"Members", "Industry", "Editors"}


def test_deactivating_removes_groups_and_reactivating_restores_them(db):
    organisation = OrganisationFactory(sector=sector("government"))
    user = MembershipFactory(organisation=organisation).user
    set_organisation_active(organisation, False)
    assert group_names(user) == set()
    set_organisation_active(organisation, True)
    assert group_names(user) == {"Members", "Government"}
    actions = list(ModelLogEntry.objects.filter(object_id=str(organisation.pk)).values_list("action", flat=True))
    assert "members.organisation.deactivate" in actions
    assert "members.organisation.activate" in actions


def test_leaving_removes_groups_and_is_logged(db):
    membership = MembershipFactory(organisation=OrganisationFactory(sector=sector("hotline")))
    user, organisation = membership.user, membership.organisation
    membership.delete()
    assert group_names(user) == set()
    actions = set(ModelLogEntry.objects.filter(object_id=str(organisation.pk)).values_list("action", flat=True))
    assert {"members.membership.join", "members.membership.leave"} <= actions
