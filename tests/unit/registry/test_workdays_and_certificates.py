"""Working days over weekends and holidays; certificates signed and verified offline."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from market.registry.certificates import sign_certificate, verify_certificate
from market.registry.numbers import format_registration_number, parse_registration_number
from market.registry.workdays import (
    BEIJING,
    CalendarYearUnknown,
    add_working_days,
    deadline_with_pauses,
    load_calendar,
    local_day,
    official_calendar,
    working_days_between,
)

CAL = load_calendar()


def beijing(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=BEIJING).astimezone(UTC)


def test_weekend_is_skipped() -> None:
    # Friday 2026-11-20 + 1 working day = Monday 2026-11-23
    assert local_day(add_working_days(beijing(2026, 11, 20), 1, CAL)) == date(2026, 11, 23)
    assert local_day(add_working_days(beijing(2026, 11, 20), 5, CAL)) == date(2026, 11, 27)


def test_ten_days_over_mid_autumn_and_national_day_with_makeup_days() -> None:
    # From Fri 2026-09-18: Sun 20 Sep is a makeup working day; 25-27 Sep and 1-7 Oct are off;
    # Sat 10 Oct is a makeup working day.
    end = local_day(add_working_days(beijing(2026, 9, 18), 10, CAL))
    worked = [date(2026, 9, d) for d in (20, 21, 22, 23, 24, 28, 29, 30)] + [
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]
    assert end == worked[-1]
    assert all(CAL.is_working_day(d) for d in worked)
    assert not CAL.is_working_day(date(2026, 10, 1)) and CAL.is_working_day(date(2026, 10, 10))


def test_the_official_calendar_comes_from_the_package_with_its_makeup_days() -> None:
    official = official_calendar()
    assert official.first_year <= 2025 and official.last_year >= 2026
    # 2025's Spring Festival: 28 Jan - 4 Feb off, Sunday 26 Jan and Saturday 8 Feb worked.
    assert not any(CAL.is_working_day(date(2025, 1, d)) for d in range(28, 32))
    assert CAL.is_working_day(date(2025, 1, 26)) and CAL.is_working_day(date(2025, 2, 8))


def test_new_year_2027_is_a_holiday_or_refused_never_a_plain_friday() -> None:
    new_year = date(2027, 1, 1)  # a Friday
    if official_calendar().last_year >= 2027:
        assert not CAL.is_working_day(new_year)
        return
    with pytest.raises(CalendarYearUnknown) as refused:
        CAL.is_working_day(new_year)
    assert refused.value.extra == {"date": "2027-01-01", "last_known_year": official_calendar().last_year}
    assert "2027-01-01" in refused.value.message and "weekends alone" in refused.value.message


def test_a_period_past_the_last_known_year_is_refused_until_an_operator_confirms_the_year() -> None:
    last = official_calendar().last_year
    december = beijing(last, 12, 17)
    assert local_day(add_working_days(december, 5, CAL)) < date(last + 1, 1, 1)  # still inside: fine
    with pytest.raises(CalendarYearUnknown) as refused:
        add_working_days(december, 15, CAL)
    assert refused.value.extra["date"] == f"{last + 1}-01-01" and refused.value.status == 409
    with pytest.raises(CalendarYearUnknown):
        working_days_between(december, beijing(last + 1, 1, 20), CAL)  # an objection's pause, too
    # The operator entered the next year's New Year holiday and confirmed the year.
    confirmed = load_calendar(extra_holidays=[date(last + 1, 1, 1)], confirmed_years=[last + 1])
    assert not confirmed.is_working_day(date(last + 1, 1, 1))
    assert local_day(add_working_days(december, 15, confirmed)).year == last + 1
    # Confirming a year further on does not vouch for the gap before it.
    with pytest.raises(CalendarYearUnknown):
        load_calendar(confirmed_years=[last + 2]).is_working_day(date(last + 1, 3, 1))


def test_zero_working_days_ends_at_the_moment_itself() -> None:
    start = beijing(2026, 11, 20)
    assert add_working_days(start, 0, CAL) == start


def test_deadline_ends_at_end_of_beijing_day() -> None:
    deadline = add_working_days(beijing(2026, 11, 20), 1, CAL).astimezone(BEIJING)
    assert (deadline.hour, deadline.minute) == (23, 59)


def test_pauses_extend_and_operator_holiday_extends() -> None:
    start = beijing(2026, 11, 2)
    plain = add_working_days(start, 10, CAL)
    paused = deadline_with_pauses(start, 10, [(beijing(2026, 11, 4), beijing(2026, 11, 6))], CAL)
    assert paused == add_working_days(start, 12, CAL)
    assert deadline_with_pauses(start, 10, [(beijing(2026, 11, 4), None)], CAL) is None
    extended = load_calendar(extra_holidays=[date(2026, 11, 5)])
    assert add_working_days(start, 10, extended) > plain


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=30),
)
def test_working_day_deadlines_are_monotonic_and_land_on_working_days(start: datetime, n: int) -> None:
    a, b = add_working_days(start, n, CAL), add_working_days(start, n + 1, CAL)
    assert a < b
    assert CAL.is_working_day(local_day(a))


def test_certificate_verifies_offline_and_any_tampering_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    cert = {
        "registration_number": "JLDR-2026-R-000001",
        "holder_name": "长春数据有限公司",
        "fingerprint_sha256": "ab" * 32,
        "grade": "general",
        "status": "registered",
    }
    signed = sign_certificate(cert, key)
    assert verify_certificate(signed, key.public_key(), "ab" * 32).ok
    for field, value in [("holder_name", "Other"), ("grade", "core"), ("status", "cancelled")]:
        forged = {**signed, "certificate": {**signed["certificate"], field: value}}
        assert not verify_certificate(forged, key.public_key()).ok
    assert not verify_certificate(signed, Ed25519PrivateKey.generate().public_key()).ok
    assert not verify_certificate(signed, key.public_key(), "cd" * 32).ok


def test_registration_numbers_round_trip_and_malformed_refused() -> None:
    number = format_registration_number(2026, "R", 123)
    assert number == "JLDR-2026-R-000123" and str(parse_registration_number(number)) == number
    for bad in ["JLDR-2026-X-000001", "JLDR-26-R-000001", "jldr-2026-r-000001", "JLDR-2026-R-1"]:
        with pytest.raises(ValueError):
            parse_registration_number(bad)
