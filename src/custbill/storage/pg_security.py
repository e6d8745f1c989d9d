"""Row-level security on PostgreSQL: the database itself keeps a scope's rows from a role
working in another scope.

A scoped facade (:meth:`custbill.CustomerBilling.scoped`) filters every read on every
store.  On PostgreSQL the boundary is held a second time, by the database: every table of
customer data has a policy (:data:`POLICIES`) that shows a row only when the setting
``custbill.scope`` names a customer whose subtree holds it — a customer under it (by the
chain of owners, walked by the function ``custbill_in_scope``), an account of such a
customer, the records of such an account.  With no scope set the policies show nothing.

Policies bind roles other than the tables' owner.  A store given ``scoped_role`` creates
that role (``NOLOGIN``; the store's user is made a member), grants it the rows of customer
data and reading of the shared catalog and settings, and runs each unit of work of a
scoped facade as that role (``SET LOCAL ROLE``) with the scope set (``set_config(...,
true)``: both end with the transaction).  A query a host writes under that role with a
scope set — or one custbill forgets to filter — cannot read or change another scope's
rows.  Uniqueness checks (numbers, external numbers, names) stay store-wide: a scoped unit
asks them outside the role.  Without ``scoped_role`` the policies are in place and bind
any other role the host grants the tables to.
"""

from __future__ import annotations

import re
from typing import Any

#: Owner chains longer than this end the walk (only data stored past the rules can loop).
MAX_OWNER_DEPTH = 100_000

#: What a role name must look like to be written into a statement unquoted.
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: Whether customer *start* or a customer above it (by owners) is the scope's root; false
#: with no scope.  SECURITY DEFINER: the walk reads every customer, whatever the role.
IN_SCOPE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION custbill_in_scope(start TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    WITH RECURSIVE up(number, depth) AS (
        SELECT start COLLATE "C", 0
        UNION ALL
        SELECT c.owner, up.depth + 1 FROM customers c JOIN up ON c.number = up.number
        WHERE c.owner IS NOT NULL AND up.depth < {MAX_OWNER_DEPTH}
    )
    SELECT coalesce(current_setting('custbill.scope', true), '') <> ''
        AND EXISTS (SELECT 1 FROM up WHERE number = current_setting('custbill.scope', true))
$$
"""

_ACCOUNT_ROWS = "account IN (SELECT number FROM accounts)"
_ANY_RECORD = "{0} IN (SELECT number FROM customers) OR {0} IN (SELECT number FROM accounts)"

#: Each table of customer data and the condition on which a scoped role sees a row (the
#: tables named in a condition are themselves under policies, so a subquery sees only the
#: scope's rows).
POLICIES = {
    # a customer under the root (a new one: its owner is), or the root itself
    "customers": "number = current_setting('custbill.scope', true) OR custbill_in_scope(owner)",
    "accounts": "custbill_in_scope(customer)",
    "customer_tokens": "number IN (SELECT number FROM customers)",
    "history": _ANY_RECORD.format("number"),
    "notes": _ANY_RECORD.format("about"),
    "ledger": _ACCOUNT_ROWS,
    "pending": _ACCOUNT_ROWS,
    "charges": _ACCOUNT_ROWS,
    # a scoped facade's runs are named "<cycle>@<root>" (custbill.storage.scoped)
    "run_parts": "right(bill_cycle, length(current_setting('custbill.scope', true)) + 1)"
    " = '@' || current_setting('custbill.scope', true)",
}
#: The shared tables a scoped role reads and never writes.
SHARED_TABLES = ("catalog", "custom_fields", "settings", "custbill_schema")


def install_statements() -> list[str]:
    """The statements that put the function and the policies in place (again: each
    policy is dropped first)."""
    statements = [IN_SCOPE_FUNCTION]
    for table, condition in POLICIES.items():
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS custbill_scope ON {table}",
            f"CREATE POLICY custbill_scope ON {table} USING ({condition})",
        ]
    return statements


def role_statements(role: str) -> list[str]:
    """The statements that create *role* (unless it exists), make the current user a member
    and grant it the customer data and the reading of the shared tables."""
    tables = ", ".join(POLICIES)
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')"
        f" THEN CREATE ROLE {role} NOLOGIN; END IF; END $$",
        f"GRANT {role} TO CURRENT_USER",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role}",
        f"GRANT SELECT ON {', '.join(SHARED_TABLES)} TO {role}",
        # every sequence of the schema: the numbers' and the serial keys' (the store
        # creates the numbers' sequences when it opens, before this runs)
        "DO $$ DECLARE s RECORD; BEGIN FOR s IN SELECT c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'S' AND n.nspname = current_schema() LOOP"
        f" EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO {role}', s.relname);"
        " END LOOP; END $$",
    ]


def scope_statements(root: str | None, role: str | None) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements that scope a transaction to customer *root* (None: unscope it), as
    *role* when the store has one."""
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("SELECT set_config('custbill.scope', %s, true)", (root or "",))
    ]
    if role is not None:
        statements.append((f"SET LOCAL ROLE {role}" if root is not None else "RESET ROLE", ()))
    return statements
