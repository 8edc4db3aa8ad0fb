"""Factories for organisations, members and invitations."""

import datetime

import factory

from portal.members.models import Membership, MembershipRequest, Organisation
from tests.factories import SectorFactory, UserFactory

SECTOR_NAMES = {
    "hotline": "Hotlines",
    "ngo": "NGOs",
    "industry": "Industry",
    "law-enforcement": "Law enforcement",
    "government": "Government",
}


def sector(slug: str):
    """The sector with this slug (created with its usual name if missing)."""
    return SectorFactory(slug=slug, name=SECTOR_NAMES.get(slug, slug.title()))


class OrganisationFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Organisation {n}")
    sector = factory.LazyFunction(lambda: sector("hotline"))
    country = "NL"
    website = "https://example.org"
    member_since = datetime.date(2020, 1, 1)
    active = True

    class Meta:
        model = Organisation


class MembershipFactory(factory.django.DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)

    class Meta:
        model = Membership


class MembershipRequestFactory(factory.django.DjangoModelFactory):
    name = "Ana Example"
    email = factory.Sequence(lambda n: f"applicant{n}@example.org")
    organisation_name = factory.Sequence(lambda n: f"Applicant hotline {n}")
    sector = factory.LazyFunction(lambda: sector("hotline"))
    country = "PT"
    message = "We run the national hotline and want to share practice."

    class Meta:
        model = MembershipRequest


def member_of(slug: str, **user_kwargs):
    """A user who is a member of an active organisation in this sector (groups synced)."""
    organisation = OrganisationFactory(sector=sector(slug))
    membership = MembershipFactory(organisation=organisation, user=UserFactory(**user_kwargs))
    membership.user.refresh_from_db()
    return membership.user
