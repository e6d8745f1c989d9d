"""Rules about an account's service locations (:class:`~custbill.ServiceLocation`)."""

from __future__ import annotations

import attrs

from custbill.model import BillingAccount, NewAccount, Violation
from custbill.model.text import identity_key
from custbill.rules._support import blank, violation
from custbill.rules.customer import check_address


def check_locations(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """Each location has a name no other location of the account has (compared as names
    are: by identity key) and a complete address; at most one is primary
    (``account.location_invalid``)."""
    found: list[Violation] = []
    names: set[str] = set()
    primary = False
    for i, location in enumerate(account.locations):
        path = f"locations[{i}]"
        if blank(location.name):
            found.append(
                violation("account.location_invalid", f"{path}.name", "a location needs a name")
            )
        elif (key := identity_key(location.name)) in names:
            message = f"another location is named {location.name!r}"
            found.append(violation("account.location_invalid", f"{path}.name", message))
        else:
            names.add(key)
        if location.primary and primary:
            message = "another location is the primary one"
            found.append(violation("account.location_invalid", f"{path}.primary", message))
        primary = primary or location.primary
        found.extend(
            attrs.evolve(v, code="account.location_invalid")
            for v in check_address(location.address, f"{path}.address")
        )
    return tuple(found)
