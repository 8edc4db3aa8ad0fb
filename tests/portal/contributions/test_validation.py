"""The figures' rules: each field, across fields, against the previous period (properties where the space is large)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.contributions.services.validation import MeasureSpec, check, parse_count, parse_percent

RECEIVED = MeasureSpec("reports_received", "Reports received")
ILLEGAL = MeasureSpec("reports_illegal", "Reports assessed as illegal", at_most="reports_received")
SHARE = MeasureSpec("share_fast", "Share removed within 3 days", kind="percent")
SPECS = [RECEIVED, ILLEGAL, SHARE]

counts = st.integers(min_value=0, max_value=10**9)


@given(received=counts, illegal=counts)
def test_confirmed_may_never_exceed_received(received, illegal):
    result = check(SPECS, {"reports_received": str(received), "reports_illegal": str(illegal), "share_fast": "50"},
                   complete=True)
    exceeded = [p for p in result.problems if p.code == "reports_illegal"]
    assert bool(exceeded) == (illegal > received)
    if exceeded:
        assert "Reports assessed as illegal" in str(exceeded[0]) and "Reports received" in str(exceeded[0])


@given(st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False))
def test_a_share_is_accepted_exactly_between_0_and_100(share):
    result = check([SHARE], {"share_fast": f"{share}"})
    assert result.ok == (0 <= share <= 100)
    if result.ok:
        assert Decimal(result.values["share_fast"]) == share


def test_shares_accept_a_percent_sign_and_a_decimal_comma():
    assert parse_percent("91,5 %") == Decimal("91.5")
    assert check([SHARE], {"share_fast": "100.01"}).problems[0].message.startswith("100.01 % is more than 100 %")


@given(st.text(max_size=12))
def test_a_count_is_digits_or_a_clear_error(raw):
    result = check([RECEIVED], {"reports_received": raw})
    text = raw.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("\u2009", "").strip()
    if not raw.strip():
        assert result.ok and result.values == {}
    elif text.isascii() and text.isdigit() and int(text) < 10**12:
        assert result.values == {"reports_received": int(text)}
    else:
        assert not result.ok
        assert str(result.problems[0]).startswith('"Reports received":')


def test_thousands_spaces_are_accepted_but_separators_that_mean_decimals_somewhere_are_not():
    assert parse_count("1 200") == 1200
    assert not check([RECEIVED], {"reports_received": "1.200"}).ok
    assert not check([RECEIVED], {"reports_received": "1,200"}).ok
    assert not check([RECEIVED], {"reports_received": "-5"}).ok


def test_a_draft_may_be_incomplete_but_a_submission_may_not():
    assert check(SPECS, {"reports_received": "10"}).ok
    result = check(SPECS, {"reports_received": "10"}, complete=True)
    assert {p.code for p in result.problems} == {"reports_illegal", "share_fast"}
    assert "write 0 if there were none" in str(result.problems[0])


@given(before=st.integers(min_value=1, max_value=10**6), now=st.integers(min_value=0, max_value=10**7))
def test_a_jump_beyond_the_factor_asks_for_a_comment_and_a_comment_is_enough(before, now):
    values = {"reports_received": str(now)}
    jumped = now > before * 3 or now * 3 < before
    bare = check([RECEIVED], values, previous={"reports_received": before}, jump_factor=3, complete=True)
    assert bool(bare.problems) == jumped
    if jumped:
        assert "please add a comment" in bare.problems[0].message
    explained = check([RECEIVED], values, {"reports_received": "New reporting app launched"},
                      previous={"reports_received": before}, jump_factor=3, complete=True)
    assert explained.ok
    assert ("reports_received" in explained.jumps) == jumped


def test_problems_name_the_row_of_an_uploaded_file():
    result = check(SPECS, {"reports_received": "5", "reports_illegal": "9", "share_fast": "x"},
                   rows={"reports_illegal": 3, "share_fast": 4}, complete=True)
    assert [str(p).split(":")[0] for p in result.problems] == [
        'Row 4, "Share removed within 3 days"', 'Row 3, "Reports assessed as illegal"']


@given(st.integers(min_value=1, max_value=6000))
def test_any_number_of_digits_is_a_clear_error_not_a_crash(digits):
    result = check([RECEIVED], {"reports_received": "9" * digits})
    assert result.ok == (digits <= 12)
