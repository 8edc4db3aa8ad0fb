"""Fixtures for the members tests."""

from django.contrib.auth.models import Group

import pytest

from tests.portal.members.factories import member_of


@pytest.fixture
def hotline_member(db):
    return member_of("hotline")


@pytest.fixture
def police_member(db):
    return member_of("law-enforcement")


@pytest.fixture
def law_enforcement_group(db):
    return Group.objects.get(name="Law enforcement")
