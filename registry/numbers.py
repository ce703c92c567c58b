"""Registration numbers (登记编号): ``ZJ-2026-00001234``.

The province's ISO 3166-2:CN letters (``CN`` for national institutions), the year of
approval, and a sequence of eight digits per province and year. Numbers are allocated from
a counter row locked for the approving transaction, so concurrent approvals never share a
number; a number is never reused — a deregistered asset keeps its own, and a counter only
ever goes up (a rolled-back approval gives its number back before anyone saw it).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

# ISO 3166-2:CN letters by the first two digits of the province's division code.
PROVINCE_ABBR = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL",
    "23": "HL", "31": "SH", "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX",
    "37": "SD", "41": "HA", "42": "HB", "43": "HN", "44": "GD", "45": "GX", "46": "HI",
    "50": "CQ", "51": "SC", "52": "GZ", "53": "YN", "54": "XZ", "61": "SN", "62": "GS",
    "63": "QH", "64": "NX", "65": "XJ", "71": "TW", "81": "HK", "82": "MO",
}
NATIONAL_ABBR = "CN"
FORMAT = "{prefix}-{year}-{sequence:08d}"
PATTERN = re.compile(r"^(?P<prefix>[A-Z]{2})-(?P<year>\d{4})-(?P<sequence>\d{8})$")


def prefix_for(region_code: str | None) -> str:
    return PROVINCE_ABBR[region_code[:2]] if region_code else NATIONAL_ABBR


def allocate(region_code: str | None, *, at=None) -> str:
    """The next registration number for a holder in ``region_code`` (None: national).
    Must run inside the approving transaction."""
    from catalog.models import DataAsset

    from .models import RegistrationCounter

    prefix, year = prefix_for(region_code), (at or timezone.now()).year
    counter = RegistrationCounter.objects.select_for_update().filter(
        prefix=prefix, year=year
    ).first()
    if counter is None:
        # First number of this province and year here: continue after any number already
        # in the ledger (imported or seeded), so that none is issued twice.
        # Zero-padded: the greatest number is the greatest text.
        greatest = DataAsset.objects.filter(
            registration_number__startswith=f"{prefix}-{year}-"
        ).aggregate(at=Max("registration_number"))["at"]
        found = PATTERN.match(greatest or "")
        last = int(found["sequence"]) if found else 0
        try:
            with transaction.atomic():
                RegistrationCounter.objects.create(prefix=prefix, year=year, last=last)
        except IntegrityError:
            pass  # created by a concurrent approval: lock it below
        counter = RegistrationCounter.objects.select_for_update().get(prefix=prefix, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return FORMAT.format(prefix=prefix, year=year, sequence=counter.last)
