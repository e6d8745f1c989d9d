"""Erasure reaches the disk: after erase_customer returns on a SQLite store, no erased value
(nor a value an edit replaced before) is left in the database, its write-ahead log or its
shared-memory file, with another connection open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs

import custbill as cb
from custbill.storage import SQLiteStore
from tests.conftest import ALL_ON, add_catalog, fixed_clock, new_account

#: Values found nowhere else in the files, as they are stored (JSON text, ISO dates).
SENTINELS = {
    "first_name": "Qwertyfirst",
    "last_name": "Zxcvblast",
    "primary_email": "sentinel.mail@qwerty.example",
    "secondary_email": "second.sentinel@qwerty.example",
    "phone": "+15550199778",
    "tax_number": "TAXSENTINEL9876",
    "date_of_birth": "1913-07-29",
    "street": "17 Sentinelstrasse",
    "contact": "Contactsentinel",
}
#: What edits replace before the erasure.
EARLIER = {
    "first_name": "Oldfirstsentinel",
    "primary_email": "old.sentinel@qwerty.example",
    "street": "99 Oldsentinel Road",
}


def _leftovers(path: Path) -> dict[str, list[str]]:
    """Which sentinels each of the database's files holds."""
    found: dict[str, list[str]] = {}
    for file in sorted(path.parent.glob(path.name + "*")):
        data = file.read_bytes()
        hits = [
            value
            for value in [*SENTINELS.values(), *EARLIER.values()]
            if value.encode() in data or value.encode("utf-16-le") in data
        ]
        if hits:
            found[file.name] = hits
    return found


def test_erased_values_leave_every_file(tmp_path: Path) -> None:
    path = tmp_path / "erasure.db"
    other = SQLiteStore(path)  # another connection, open the whole time
    with cb.CustomerBilling(store=SQLiteStore(path), settings=ALL_ON, clock=fixed_clock) as billing:
        add_catalog(billing)
        address = cb.Address(
            line1=EARLIER["street"], city="Austin", postal_code="78701", country="US"
        )
        customer, _ = billing.create_customer(
            cb.NewCustomer(
                kind=cb.CustomerKind.PERSON,
                first_name=EARLIER["first_name"],
                last_name=SENTINELS["last_name"],
                primary_email=EARLIER["primary_email"],
                secondary_emails=(SENTINELS["secondary_email"],),
                phones=(cb.Phone(type=cb.PhoneType.MOBILE, number=SENTINELS["phone"]),),
                tax_number=SENTINELS["tax_number"],
                date_of_birth=date.fromisoformat(SENTINELS["date_of_birth"]),
                billing_address=address,
            ),
            new_account(contacts=(cb.Contact(name=SENTINELS["contact"], category="billing"),)),
        )
        billing.edit_customer(
            customer.number,
            first_name=SENTINELS["first_name"],
            primary_email=SENTINELS["primary_email"],
            billing_address=attrs.evolve(address, line1=SENTINELS["street"]),
        )
        with other.unit_of_work(read_only=True) as uow:  # the other connection reads too
            assert uow.customers.get(customer.number) is not None
        assert _leftovers(path)  # (the scan finds them while they are there)
        billing.erase_customer(customer.number)
        assert _leftovers(path) == {}
        erased = billing.get_customer(customer.number)
        assert erased.erased and erased.last_name != SENTINELS["last_name"]
    other.close()
    assert _leftovers(path) == {}
