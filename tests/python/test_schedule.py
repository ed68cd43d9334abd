"""Schedule strings: "FUNCTIONS:MEMORY_MB[,FUNCTIONS:MEMORY_MB...]"."""

import pytest

from siren.schedule import Schedule, ScheduleError, parse_schedule


def test_single_pair_is_fixed() -> None:
    schedule = parse_schedule("100:1024")
    assert schedule.pairs == ((100, 1024),)
    assert schedule.fixed
    assert [schedule.action(e) for e in (0, 1, 57)] == [(100, 1024)] * 3


def test_list_is_per_epoch_and_last_pair_repeats() -> None:
    schedule = parse_schedule("200:2048,100:1024,50:512")
    assert not schedule.fixed
    assert [schedule.action(e) for e in range(5)] == [
        (200, 2048),
        (100, 1024),
        (50, 512),
        (50, 512),
        (50, 512),
    ]


def test_whitespace_is_tolerated_and_str_is_canonical() -> None:
    schedule = parse_schedule(" 10 : 512 ,20:1024 ")
    assert schedule.pairs == ((10, 512), (20, 1024))
    assert str(schedule) == "10:512,20:1024"
    assert parse_schedule(str(schedule)) == schedule


def test_negative_epoch_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_schedule("1:128").action(-1)


def test_empty_schedule_object_is_rejected() -> None:
    with pytest.raises(ScheduleError):
        Schedule(())


@pytest.mark.parametrize(
    ("text", "position", "token"),
    [
        ("abc", 1, "abc"),
        ("10", 1, "10"),
        ("10:", 1, "10:"),
        (":1024", 1, ":1024"),
        ("10:1024:5", 1, "10:1024:5"),
        ("10:abc", 1, "10:abc"),
        ("1.5:1024", 1, "1.5:1024"),
        ("-1:1024", 1, "-1:1024"),
        ("10:1024,", 2, ""),
        ("10:1024,,20:512", 2, ""),
        ("10:1024,20:512,x:y", 3, "x:y"),
        ("10x1024", 1, "10x1024"),
    ],
)
def test_bad_token_names_token_position_and_form(text: str, position: int, token: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    message = str(info.value)
    assert f"token {position} of" in message
    assert repr(token) in message
    assert "FUNCTIONS:MEMORY_MB" in message


@pytest.mark.parametrize(("text", "what"), [("0:1024", "FUNCTIONS"), ("10:0", "MEMORY_MB")])
def test_zero_is_rejected(text: str, what: str) -> None:
    with pytest.raises(ScheduleError, match=f"{what} must be > 0"):
        parse_schedule(text)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_string_is_rejected(text: str) -> None:
    with pytest.raises(ScheduleError, match="FUNCTIONS:MEMORY_MB"):
        parse_schedule(text)


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)
