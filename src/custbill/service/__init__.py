"""The service layer: the :class:`CustomerBilling` facade and the use cases it delegates to.

* :mod:`custbill.service.facade` — the public class, one thin method per operation;
* :mod:`custbill.service.customers` — creating and changing customers and accounts;
* :mod:`custbill.service.queries` — reading, searching, summaries, the validation report;
* :mod:`custbill.service.ledger` — bill runs, payments, adjustments, pooling;
* :mod:`custbill.service.tenant` — the tenant's settings and catalog;
* :mod:`custbill.service.notes` — notes on customers and accounts;
* :mod:`custbill.service.deposits` — security deposits;
* :mod:`custbill.service._unit` — what they share: the context (the clock), the batch's
  unit of work, the rules' lookup, records by number, new numbers, history.
"""

from custbill.service.facade import CustomerBilling

__all__ = ["CustomerBilling"]
