"""The network a synthetic run builds: full scale is 10 OEMs x 10,000 suppliers x 100 characteristics, weekly.

``--scale s`` keeps the OEMs and the characteristics of an agreement and scales the suppliers per OEM (at least
one): what grows in a real network is the supplier base, while an agreement's size and the OEM count are the
shape of the business. So ``--scale 0.01`` is 10 OEMs x 100 suppliers x 100 characteristics = 100,000 reports a
week, 1/100 of the full 10^7. Each (OEM, supplier) pair is its own supplier organization with one agreement:
a real supplier serving several OEMs has one agreement per OEM, and agreements, not organizations, carry the load.
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_OEMS = 10
FULL_SUPPLIERS_PER_OEM = 10_000
FULL_CHARACTERISTICS = 100


@dataclass(frozen=True)
class Shape:
    oems: int
    suppliers_per_oem: int
    characteristics: int
    weeks: int

    @classmethod
    def at_scale(
        cls,
        scale: float,
        *,
        weeks: int,
        oems: int | None = None,
        suppliers_per_oem: int | None = None,
        characteristics: int | None = None,
    ) -> Shape:
        """The full network scaled by ``scale`` (suppliers only); an explicit count overrides its dimension."""
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        if weeks < 1:
            raise ValueError("weeks must be at least 1")
        shape = cls(
            oems=FULL_OEMS if oems is None else oems,
            suppliers_per_oem=(
                max(1, round(FULL_SUPPLIERS_PER_OEM * scale))
                if suppliers_per_oem is None
                else suppliers_per_oem
            ),
            characteristics=FULL_CHARACTERISTICS if characteristics is None else characteristics,
            weeks=weeks,
        )
        if min(shape.oems, shape.suppliers_per_oem, shape.characteristics) < 1:
            raise ValueError("oems, suppliers and characteristics must each be at least 1")
        return shape

    @property
    def agreements(self) -> int:
        return self.oems * self.suppliers_per_oem

    @property
    def reports_per_week(self) -> int:
        return self.agreements * self.characteristics

    @property
    def reports(self) -> int:
        return self.reports_per_week * self.weeks

    @property
    def fraction_of_full(self) -> float:
        full = FULL_OEMS * FULL_SUPPLIERS_PER_OEM * FULL_CHARACTERISTICS
        return self.reports_per_week / full
