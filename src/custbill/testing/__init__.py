"""The contract test-suite every storage adapter runs.

Subclass :class:`StoreContract` in a pytest module and give it a fresh, empty store::

    from custbill.testing import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore(...)

pytest then runs every contract test against it: create/read/update of every kind of
record, units of work that commit all or nothing, optimistic versions, every index and
search behaviour the facade relies on, history, settings, the ledger — and a hypothesis
state machine that drives :class:`~custbill.CustomerBilling` over the store beside a
plain-Python model and checks they never diverge.  Needs pytest and hypothesis
(``pip install custbill[tests]``).
"""

from custbill.testing._contract import StoreContract
from custbill.testing._data import ALL_ON, dump, facade_for, new_account, new_customer
from custbill.testing._machine import FacadeMachine, facade_machine

__all__ = [
    "ALL_ON",
    "FacadeMachine",
    "StoreContract",
    "dump",
    "facade_for",
    "facade_machine",
    "new_account",
    "new_customer",
]
