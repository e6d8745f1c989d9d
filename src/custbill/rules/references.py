"""Rules about what an account names outside itself for its invoices: the catalog entries
it refers to (:mod:`custbill.model.references`) and the extra addresses its invoices go
to."""

from __future__ import annotations

from custbill.model import BillingAccount, NewAccount, Violation
from custbill.model.references import REFERENCE_FIELDS
from custbill.rules._support import email_valid, violation
from custbill.rules.lookup import Lookup

#: How a violation names each kind of reference (its ``kind`` param).
_KIND_NAMES = {
    "contract_type": "contract type",
    "invoice_template": "invoice template",
    "web_template": "web template",
    "salesperson": "salesperson",
    "rate_plan": "rate plan",
}


def check_catalog_references(
    account: NewAccount | BillingAccount, lookup: Lookup
) -> tuple[Violation, ...]:
    """Each reference the account names is an entry of the catalog
    (``account.reference_unknown``, as for its bill cycle)."""
    found = []
    for field, kind in REFERENCE_FIELDS.items():
        ref = getattr(account, field)
        if ref is not None and lookup.reference(kind, ref) is None:
            name = _KIND_NAMES[field]
            found.append(
                violation(
                    "account.reference_unknown", field, f"no {name} {ref!r}", kind=name, id=ref
                )
            )
    return tuple(found)


def check_invoice_emails(account: NewAccount | BillingAccount) -> tuple[Violation, ...]:
    """The extra invoice addresses are well-formed emails, each listed once."""
    found = []
    seen: set[str] = set()
    for i, email in enumerate(account.invoice_emails):
        if not email_valid(email):
            found.append(
                violation(
                    "account.invoice_email_invalid",
                    f"invoice_emails[{i}]",
                    "an invoice address is not a valid email address",
                )
            )
        elif email.casefold() in seen:
            found.append(
                violation(
                    "account.invoice_email_invalid",
                    f"invoice_emails[{i}]",
                    "an invoice address is listed twice",
                )
            )
        seen.add(email.casefold())
    return tuple(found)
