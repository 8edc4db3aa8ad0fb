"""Property tests for the signed links in newsletter emails (``newsletter.services.tokens``).

Whatever string reaches ``read_token`` (a tampered link, a truncated copy-paste, a token made for another purpose,
random bytes from a scanner), the only exception it may raise is ``TokenError``: the views turn that into the
"this link is not valid" page. Anything else would be a server error on a public URL.
"""

from __future__ import annotations

import time

from django.core import signing

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from newsletter.models import Subscriber
from newsletter.services import tokens
from tests.newsletter.factories import SubscriberFactory

purposes = st.sampled_from(tokens.PURPOSES)
# Characters a token is made of, plus the separator and a few that never appear in one.
token_alphabet = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.=+/ %é\x00")


@pytest.fixture
def subscriber(db):
    return SubscriberFactory(email="links@example.org", status=Subscriber.Status.SUBSCRIBED)


def _rejected(token: str, purpose: str, max_age: int | None = None) -> tokens.TokenError:
    """Read ``token`` and return the TokenError it raised (any other exception fails the test)."""
    with pytest.raises(tokens.TokenError) as caught:
        tokens.read_token(token, purpose, max_age=max_age)
    assert caught.value.reason in {"invalid", "expired", "superseded"}
    return caught.value


@given(purpose=purposes)
def test_a_token_reads_back_as_its_subscriber(subscriber, purpose):
    token = tokens.make_token(subscriber, purpose)
    assert tokens.read_token(token, purpose) == subscriber
    assert tokens.read_token(token, purpose, max_age=3600) == subscriber


@given(purpose=purposes, other=purposes)
def test_a_token_never_opens_another_purpose(subscriber, purpose, other):
    assume(purpose != other)
    error = _rejected(tokens.make_token(subscriber, purpose), other)
    assert isinstance(error, tokens.TokenInvalid)


@given(purpose=purposes, data=st.data())
def test_any_change_to_a_token_is_rejected(subscriber, purpose, data):
    token = tokens.make_token(subscriber, purpose)
    edit = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate", "append", "case"]), label="edit")
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="position")
    if edit == "replace":
        char = data.draw(token_alphabet.filter(lambda c: c != token[position]), label="char")
        tampered = token[:position] + char + token[position + 1:]
    elif edit == "insert":
        tampered = token[:position] + data.draw(token_alphabet, label="char") + token[position:]
    elif edit == "delete":
        tampered = token[:position] + token[position + 1:]
    elif edit == "truncate":
        tampered = token[:position]
    elif edit == "append":
        tampered = token + data.draw(st.text(token_alphabet, min_size=1, max_size=8), label="suffix")
    else:
        tampered = token[:position] + token[position:].swapcase()
    assume(tampered != token)
    _rejected(tampered, purpose)


@given(purpose=purposes, garbage=st.one_of(st.text(max_size=300), st.text(token_alphabet, max_size=200)))
def test_arbitrary_strings_raise_only_token_errors(db, purpose, garbage):
    _rejected(garbage, purpose)


# A correctly signed token whose payload is not [subscriber id, key] can only come from someone holding the
# secret key, or from an older token format; it must still be refused cleanly, never crash the view.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@given(purpose=purposes, payload=st.one_of(json_values, st.tuples(json_values, json_values).map(list)))
def test_signed_payloads_of_any_shape_are_refused_cleanly(subscriber, purpose, payload):
    assume(payload != [subscriber.pk, subscriber.token_key])
    _rejected(signing.dumps(payload, salt=purpose), purpose)


@given(purpose=purposes, key=st.text(max_size=40))
def test_a_token_with_another_key_is_superseded(subscriber, purpose, key):
    assume(key != subscriber.token_key)
    error = _rejected(signing.dumps([subscriber.pk, key], salt=purpose), purpose)
    assert isinstance(error, tokens.TokenSuperseded)


def test_an_expired_token_is_reported_as_expired(subscriber, monkeypatch):
    token = tokens.make_token(subscriber, tokens.CONFIRM)
    later = time.time() + 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    error = _rejected(token, tokens.CONFIRM, max_age=60)
    assert isinstance(error, tokens.TokenExpired)
