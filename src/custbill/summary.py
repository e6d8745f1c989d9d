"""Read models for the Customer Summary and Account pages.

Amounts are formatted with babel in each account's preferred language, always with an
explicit locale (never the process locale).
"""

from __future__ import annotations

from datetime import date

import attrs
from moneyed import Money

from custbill.model import AccountStatus, BillingAccount, Customer, PaymentTerm
from custbill.model.records import Tabular


def format_amount(amount: Money, language: str) -> str:
    """*amount* formatted for the babel locale *language* (``"sv_SE"`` → ``"0,00 kr"``)."""
    from moneyed.l10n import format_money  # lazy: pulls in babel's locale data

    return str(format_money(amount, locale=language))


@attrs.frozen(kw_only=True)
class AccountLine(Tabular):
    """One row of a customer summary's account list."""

    number: str
    external_number: str | None
    currency: str
    status: AccountStatus
    balance: Money
    minimum_invoice_amount: Money | None
    is_default: bool
    preferred_language: str
    custom_fields: dict[str, object] = attrs.field(factory=dict, hash=False)

    @property
    def balance_text(self) -> str:
        """The balance formatted in the account's preferred language."""
        return format_amount(self.balance, self.preferred_language)

    @property
    def minimum_text(self) -> str:
        """The minimum invoice amount formatted in the account's preferred language."""
        if self.minimum_invoice_amount is None:
            return "-"
        return format_amount(self.minimum_invoice_amount, self.preferred_language)


@attrs.frozen(kw_only=True)
class CustomerSummary(Tabular):
    """The Customer Summary page: the customer's details and every account, default first.

    ``balance`` is what each account owes: zero until invoices are recorded against it.
    """

    customer: Customer
    accounts: tuple[AccountLine, ...]

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per account line, ready for ``pandas.DataFrame``."""
        return [
            {
                "customer": self.customer.number,
                "account": line.number,
                "external_number": line.external_number,
                "currency": line.currency,
                "status": line.status.value,
                "balance": line.balance.amount,
                "is_default": line.is_default,
                **line.custom_fields,
            }
            for line in self.accounts
        ]

    def _repr_html_(self) -> str:
        from custbill.model.html import table

        return table(
            f"{self.customer.name} ({self.customer.number})",
            ["account", "currency", "status", "balance", "minimum invoice", "default"],
            [
                [
                    line.number,
                    line.currency,
                    line.status.value,
                    line.balance_text,
                    line.minimum_text,
                    "yes" if line.is_default else "",
                ]
                for line in self.accounts
            ],
        )

    def __str__(self) -> str:
        c = self.customer
        head = f"{c.name} ({c.number}"
        head += f", external {c.external_number})" if c.external_number else ")"
        lines = [head, f"  primary email: {c.primary_email}"]
        if c.billing_address is not None:
            a = c.billing_address
            parts = [a.line1, a.line2, a.city, a.region, a.postal_code, a.country]
            lines.append("  billing address: " + ", ".join(p for p in parts if p))
        lines.append(
            f"  {'account':<10} {'currency':<8} {'status':<10} {'balance':>14} "
            f"{'minimum invoice':>16}  fields"
        )
        for line in self.accounts:
            fields = ", ".join(f"{k}={v}" for k, v in line.custom_fields.items())
            marker = "*" if line.is_default else " "
            lines.append(
                f"{marker} {line.number:<10} {line.currency:<8} {line.status.value:<10} "
                f"{line.balance_text:>14} {line.minimum_text:>16}  {fields}"
            )
        lines.append("  (* default account)")
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class AccountSummary(Tabular):
    """The Account page's summary: status, dates, payment setup and hierarchy links."""

    account: BillingAccount
    customer_number: str
    customer_name: str
    balance: Money
    unapplied_payments: Money
    #: What waits for the next invoice (queued charges and amounts carried forward).
    pending_charges: Money
    #: What can still be charged before a credit limit is reached (the account's, or one
    #: above it in the billing hierarchy); None when there is no limit.
    credit_available: Money | None
    #: The security deposit the account holds, apart from its balance.
    deposit_held: Money
    next_invoice_date: date | None
    payment_term: PaymentTerm | None
    managed_accounts: tuple[str, ...]
    child_accounts: tuple[str, ...]

    def _text(self, amount: Money) -> str:
        return format_amount(amount, self.account.preferred_language)

    @property
    def balance_text(self) -> str:
        """The balance formatted in the account's preferred language."""
        return self._text(self.balance)

    def to_records(self) -> list[dict[str, object]]:
        """The summary as one plain dict (in a list, for ``pandas.DataFrame``)."""
        a = self.account
        return [
            {
                "account": a.number,
                "customer": self.customer_number,
                "customer_name": self.customer_name,
                "status": a.status.value,
                "currency": a.invoice_currency,
                "balance": self.balance.amount,
                "unapplied_payments": self.unapplied_payments.amount,
                "pending_charges": self.pending_charges.amount,
                "deposit_held": self.deposit_held.amount,
                "credit_available": None
                if self.credit_available is None
                else self.credit_available.amount,
                "next_invoice_date": self.next_invoice_date,
                "start_date": a.start_date,
                "payment_term": a.payment_term,
                "auto_pay": a.auto_pay,
            }
        ]

    def __str__(self) -> str:
        a = self.account
        term = self.payment_term.name if self.payment_term is not None else a.payment_term
        next_date = self.next_invoice_date.isoformat() if self.next_invoice_date else "none"
        lines = [
            f"Account {a.number} of {self.customer_name} ({self.customer_number})",
            f"  status: {a.status.value}   start: {a.start_date.isoformat()}"
            f"   next invoice: {next_date}",
            f"  currency: {a.currency}   balance: {self.balance_text}"
            f"   unapplied payments: {self._text(self.unapplied_payments)}"
            f"   pending charges: {self._text(self.pending_charges)}",
            f"  payment term: {term}   auto-pay: {'yes' if a.auto_pay else 'no'}",
        ]
        if self.credit_available is not None:
            lines.append(f"  credit available: {self._text(self.credit_available)}")
        if self.deposit_held.amount:
            lines.append(f"  deposit held: {self._text(self.deposit_held)}")
        if a.responsible_account:
            lines.append(f"  invoiced on: {a.responsible_account}")
        if self.managed_accounts:
            lines.append(f"  manages: {', '.join(self.managed_accounts)}")
        if a.parent_account:
            lines.append(f"  parent: {a.parent_account}")
        if self.child_accounts:
            lines.append(f"  children: {', '.join(self.child_accounts)}")
        return "\n".join(lines)
