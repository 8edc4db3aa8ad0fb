"""Factories and helpers for contributions: periods with the shipped measures, submitters."""

import datetime

import factory

from portal.contributions.models import ReportingPeriod, SubmitterRole
from portal.stats.models import Measure
from tests.portal.members.factories import MembershipFactory, OrganisationFactory, sector

SHIPPED = ["reports_received", "reports_illegal", "items_removed", "removed_within_3_days"]


class ReportingPeriodFactory(factory.django.DjangoModelFactory):
    year = 2026
    quarter = None
    deadline = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=14))

    class Meta:
        model = ReportingPeriod
        skip_postgeneration_save = True

    @factory.post_generation
    def measures(self, create, extracted, **kwargs):
        if create:
            codes = extracted if extracted is not None else SHIPPED
            self.measures.set(Measure.objects.filter(code__in=codes))


def hotline(name=None, **kwargs):
    kwargs.setdefault("sector", sector("hotline"))
    if name:
        kwargs["name"] = name
    return OrganisationFactory(**kwargs)


def submitter_for(organisation, **user_kwargs):
    """A member of the organisation holding the statistics submitter role."""
    membership = MembershipFactory(organisation=organisation, **{f"user__{k}": v for k, v in user_kwargs.items()})
    SubmitterRole.objects.create(user=membership.user, organisation=organisation)
    return membership.user


def member_of_org(organisation, **user_kwargs):
    return MembershipFactory(organisation=organisation, **{f"user__{k}": v for k, v in user_kwargs.items()}).user
