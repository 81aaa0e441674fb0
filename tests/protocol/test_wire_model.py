"""WireModel's shared checks: a NUL character is refused in every text field, naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from protocol.models.common import WireModel
from protocol.models.rooms import RoomCreate


class _Note(WireModel):
    text: str
    tags: list[str] = []
    labels: dict[str, str] = {}


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"text": "a\x00b"}, ("text",)),
        ({"text": "ok", "tags": ["fine", "x\x00"]}, ("tags",)),
        ({"text": "ok", "labels": {"k\x00": "v"}}, ("labels",)),
    ],
)
def test_a_nul_character_is_refused_naming_the_field(data: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        _Note.model_validate(data)
    error = caught.value.errors()[0]
    assert error["loc"] == loc and "NUL" in error["msg"]


def test_text_without_nul_and_real_models_still_validate() -> None:
    assert _Note(text="über 41 °C", tags=["a"]).text == "über 41 °C"
    with pytest.raises(ValidationError, match="NUL"):
        RoomCreate(title="noise\x00", expires_at="2000-01-01T00:00:00Z")  # the model checks the zone only
