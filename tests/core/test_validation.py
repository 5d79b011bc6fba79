"""How a refused input is told: one translated message per field, whatever pydantic's
error was, never « This value is not valid. » when fabcom knows better."""

from __future__ import annotations

import pytest
from pydantic import Field

from fabcom.errors import ErrorCode, ValidationFailed
from fabcom.validation import Input, parse


class Basket(Input):
    lines: list[int] = Field(min_length=1, max_length=3)


@pytest.mark.parametrize(
    ("lines", "code", "english", "french"),
    [
        ([], ErrorCode.TOO_SHORT, "Give at least 1 of them.", "Donnez-en au moins 1."),
        ([1, 2, 3, 4], ErrorCode.TOO_LONG, "Give at most 3 of them.", "Donnez-en au plus 3."),
    ],
)
def test_a_list_of_the_wrong_length_says_how_many(lines, code, english, french):
    with pytest.raises(ValidationFailed) as refused:
        parse(Basket, {"lines": lines})
    error = refused.value.errors[0]
    assert (error.field, error.code) == ("lines", code)
    assert (error.text("en"), error.text("fr")) == (english, french)
