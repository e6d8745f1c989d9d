"""What is allowed: pure functions that return violations and never raise for bad data.

Every ``check_*`` function takes model objects (plus, where stored data matters, a read-only
:class:`~custbill.rules.lookup.Lookup`) and returns ``tuple[Violation, ...]``; an empty
tuple means valid.  :data:`~custbill.rules.codes.CODES` lists every code, and
:func:`violation` builds a violation with one of them (the billing calendar and the facade
report their own problems through it too).
"""

from custbill.rules._support import violation
from custbill.rules.account import check_account, check_account_edit, check_status_transition
from custbill.rules.catalog import check_catalog_entry
from custbill.rules.codes import CODES
from custbill.rules.customer import check_customer
from custbill.rules.hierarchy import check_hierarchy
from custbill.rules.lookup import Lookup
from custbill.rules.settings import check_settings

__all__ = [
    "CODES",
    "Lookup",
    "check_account",
    "check_account_edit",
    "check_catalog_entry",
    "check_customer",
    "check_hierarchy",
    "check_settings",
    "check_status_transition",
    "violation",
]
