"""Enumerations and small value types shared by every QX/1 wire model."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
"""Shape of a natural key such as a part number or a characteristic code.

Example:
    >>> import re
    >>> bool(re.match(CODE_PATTERN, "A-100")), bool(re.match(CODE_PATTERN, "-A"))
    (True, False)
"""

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
"""Shape of a decimal string on the wire: optional minus, digits, optional fraction; no exponent, no spaces.

Example:
    >>> import re
    >>> bool(re.match(DECIMAL_PATTERN, "1.33")), bool(re.match(DECIMAL_PATTERN, "1e3"))
    (True, False)
"""

_DECIMAL_TEXT = re.compile(DECIMAL_PATTERN)


def _wire_decimal(value: Any, info: ValidationInfo) -> Decimal:
    name = info.field_name or "value"
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a decimal string or an integer, not a boolean")
    if isinstance(value, float):
        raise ValueError(f"{name} must be a decimal string or an integer, not a binary float")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite decimal, not {value}")
        return value
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            try:
                finite = Decimal(value.strip()).is_finite()
            except InvalidOperation:
                finite = True
            if not finite:
                raise ValueError(f"{name} must be a finite decimal, not {value!r}")
            raise ValueError(f"{name} must be a plain decimal string like '1.33', not {value!r}")
        return Decimal(value)
    raise ValueError(f"{name} must be a decimal string or an integer, not {type(value).__name__}")


_AnyWireDecimal = Annotated[
    Decimal,
    BeforeValidator(_wire_decimal),
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}]}, mode="validation"
    ),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}, mode="serialization"),
]
"""The shape of every wire decimal, unbounded (see :data:`WireDecimal` and :data:`StoredDecimal`): a finite
``Decimal`` that crosses the wire as a plain decimal string.

Accepts ``"1.33"``, ``-2``, ``Decimal("0.5")``; refuses binary floats, ``NaN`` / ``Infinity`` and exponent
forms, naming the field. Serializes to JSON as a string without exponent (``format(value, "f")``).

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(_AnyWireDecimal).validate_python("1.3300")
    Decimal('1.3300')
    >>> TypeAdapter(_AnyWireDecimal).dump_json(Decimal("1E+2"))
    b'"100"'
"""


STORED_INTEGER_DIGITS = 16
"""Digits a stored decimal may have before its point: the hub's ``NUMERIC(20, 4)`` columns hold 16 on PostgreSQL
(SQLite would hold any number, so the bound is the wire's, the same on both).

Example:
    >>> 10**STORED_INTEGER_DIGITS - 1
    9999999999999999
"""

STORED_PLACES = 4
"""Decimal places a stored decimal may carry (the scale of ``NUMERIC(20, 4)``); more would be rounded silently.

Example:
    >>> STORED_PLACES
    4
"""

WIRE_PLACES = 12
"""Decimal places any other wire decimal may carry (limits, resolutions, confidences).

Example:
    >>> WIRE_PLACES
    12
"""


def _bounded_decimal(integer_digits: int, places: int) -> Any:
    def check(value: Decimal, info: ValidationInfo) -> Decimal:
        name = info.field_name or "value"
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise ValueError(f"{name} carries more than {places} decimal places; round it first")
        if value != 0 and value.adjusted() >= integer_digits:
            raise ValueError(f"{name} has more than {integer_digits} digits before the decimal point")
        return value

    pattern = rf"^-?0*[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{places}}})?$"
    largest = 10**integer_digits - 1
    return (
        AfterValidator(check),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": pattern},
                    {"type": "integer", "minimum": -largest, "maximum": largest},
                ]
            },
            mode="validation",
        ),
        WithJsonSchema({"type": "string", "pattern": pattern}, mode="serialization"),
    )


WireDecimal = Annotated[_AnyWireDecimal, *_bounded_decimal(STORED_INTEGER_DIGITS, WIRE_PLACES)]
"""A measurement or limit on the wire: at most 16 digits before the point and 12 after it.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(WireDecimal).validate_python("24.980")
    Decimal('24.980')
    >>> TypeAdapter(WireDecimal).validate_python("1" * 17)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for function-after[...]
    ...
"""

ComputedDecimal = _AnyWireDecimal
"""A decimal the hub computes and answers (a sum of quantities over a trace): shaped like every wire decimal,
but with no bound, since nobody sends it.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(ComputedDecimal).validate_python("1" * 20)
    Decimal('11111111111111111111')
"""

StoredDecimal = Annotated[_AnyWireDecimal, *_bounded_decimal(STORED_INTEGER_DIGITS, STORED_PLACES)]
"""A decimal the hub keeps in a ``NUMERIC(20, 4)`` column (KPI values and thresholds, quantities): at most 16
digits before the point and 4 after it, refused naming the field otherwise, the same on PostgreSQL and SQLite.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(StoredDecimal).validate_python("9999999999999999.9999")
    Decimal('9999999999999999.9999')
    >>> TypeAdapter(StoredDecimal).validate_python("10000000000000000")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for function-after[...]
    ...
"""

MAX_INT32 = 2**31 - 1
"""The largest value of an ``INTEGER`` column on PostgreSQL; counts on the wire stay at or under it.

Example:
    >>> MAX_INT32
    2147483647
"""


def _no_number_for_a_time(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("a time is an RFC 3339 string such as '2026-11-23T08:30:00Z', not a number")
    return value


WireTime = Annotated[AwareDatetime, BeforeValidator(_no_number_for_a_time)]
"""A timezone-aware time that crosses the wire as an RFC 3339 string; a number (which pydantic would read as
seconds since 1970) is refused, so a mistyped field is an error, not a date in 1970.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(WireTime).validate_python("2026-11-23T08:30:00Z").year
    2026
"""


class WireModel(BaseModel):
    """Base of every QX/1 model: unknown fields are refused, values are validated on assignment.

    Example:
        >>> class Ping(WireModel):
        ...     text: str
        >>> Ping(text="hi").text
        'hi'
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no QX/1 text needs it: refuse it here, naming the field.
        if _carries_nul(value):
            raise ValueError("must not contain NUL characters (\\u0000)")
        return value


def _carries_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_carries_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_carries_nul(key) or _carries_nul(item) for key, item in value.items())
    return False


class OrgKind(StrEnum):
    """What an organization is in the network."""

    OEM = "oem"
    SUPPLIER = "supplier"
    LAB = "lab"
    CERTIFIER = "certifier"
    OPERATOR = "operator"


class KpiName(StrEnum):
    """Quality KPIs a supply agreement can ask for."""

    CPK = "cpk"
    PPK = "ppk"
    MTBF = "mtbf"
    PPM = "ppm"


class DisclosureMode(StrEnum):
    """How much of a KPI value the OEM may see.

    ``threshold``: only "meets / does not meet" (proven in zero knowledge); ``value``: the value, bound to a
    commitment; ``value+proof``: the value and a proof that it meets the threshold.
    """

    THRESHOLD = "threshold"
    VALUE = "value"
    VALUE_AND_PROOF = "value+proof"


class PeriodKind(StrEnum):
    """Reporting period granularity: an ISO week (``2026-W48``) or a calendar month (``2026-11``)."""

    WEEK = "week"
    MONTH = "month"


class Comparator(StrEnum):
    """Direction in which a KPI is good: at least the threshold (CPK, MTBF) or at most (PPM)."""

    AT_LEAST = ">="
    AT_MOST = "<="


class KeyUse(StrEnum):
    """What an organization key is for: signing (Ed25519) or key wrapping (X25519)."""

    SIGNING = "sig"
    ENCRYPTION = "enc"


class KeyStatus(StrEnum):
    """Life cycle of an organization key. A retired key still verifies old signatures; a revoked one never."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class AgreementStatus(StrEnum):
    """A supply agreement is proposed by the OEM and takes effect only once the supplier accepts it."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    TERMINATED = "terminated"


class ClientAuthMethod(StrEnum):
    """How an API client authenticates at the token endpoint (RFC 7591 names)."""

    PRIVATE_KEY_JWT = "private_key_jwt"
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret


__all__ = [
    "CODE_PATTERN",
    "DECIMAL_PATTERN",
    "MAX_INT32",
    "STORED_INTEGER_DIGITS",
    "STORED_PLACES",
    "WIRE_PLACES",
    "AgreementStatus",
    "ClientAuthMethod",
    "Comparator",
    "ComputedDecimal",
    "DisclosureMode",
    "KeyStatus",
    "KeyUse",
    "KpiName",
    "OrgKind",
    "PeriodKind",
    "StoredDecimal",
    "WireDecimal",
    "WireModel",
    "WireTime",
]
