"""Every violation code custbill reports, with what it means.

The codes are stable API: host applications branch on them.  The documentation's rules
reference is generated from :data:`CODES`, so this module is the one place they are listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Every violation code, mapped to when it is reported.
CODES: Mapping[str, str] = MappingProxyType(
    {
        # customers
        "customer.name_required": "A COMPANY customer has no company name, or a PERSON "
        "customer lacks a first or last name.",
        "customer.email_invalid": "The primary email is missing or malformed, or a secondary "
        "email is malformed.",
        "customer.date_of_birth_not_personal": "A date of birth is set on a COMPANY customer.",
        "customer.date_of_birth_in_future": "The date of birth is later than today.",
        "customer.number_taken": "The customer number is already a customer's or an "
        "account's number (they share one namespace).",
        "customer.external_number_taken": "Another customer has this external number.",
        "customer.name_taken": "With ``unique_customer_names``, another customer has the "
        "same name (compared by identity key: case, width, composition and invisible "
        "characters aside; see custbill.model.text).",
        "customer.address_invalid": "An address lacks line1, city, postal code or country, "
        "or its country is not an ISO 3166 alpha-2 code.",
        "customer.phone_invalid": "A phone number is empty or not a phone number.",
        "customer.erased": "Any change to a customer whose personal data was erased.",
        "customer.custom_field_invalid": "A customer custom field is unknown, has the wrong "
        "type, is not one of its options, or is required and missing.",
        # accounts
        "account.number_taken": "The account number is already an account's or a "
        "customer's number.",
        "account.external_number_taken": "Another account has this external number.",
        "account.currency_unknown": "The currency or invoice currency is not an ISO 4217 "
        "code known to py-moneyed.",
        "account.reference_unknown": "A bill cycle, payment term, category, dunning plan or "
        "account id does not exist; ``params['kind']`` says which.",
        "account.bill_cycle_currency_mismatch": "The bill cycle has a currency and it is not "
        "the account's currency.",
        "account.start_before_bill_cycle": "The account starts before its bill cycle does.",
        "account.multi_account_disabled": "A second account for a customer while "
        "``allow_multi_customer_accounts`` is False.",
        "account.invoice_type_not_allowed": "The invoice type is not in "
        "``overall_invoice_distribution``.",
        "account.email_invoice_requires_primary_email": "EMAIL or PAPER_AND_EMAIL invoices "
        "for a customer without a primary email.",
        "account.paper_invoice_requires_billing_address": "PAPER or PAPER_AND_EMAIL "
        "invoices for a customer without a billing address.",
        "account.minimum_invoice_invalid": "The minimum invoice amount is negative or not in "
        "the invoice currency.",
        "account.auto_pay_requires_payment_method": "Auto-pay is authorised but no payment "
        "method is on file.",
        "account.dunning_plan_required": "Dunning is enabled without a dunning plan.",
        "account.invoice_rendering_requires_managed_accounts": "An invoice rendering is set "
        "on an account that manages no accounts.",
        "account.status_transition_invalid": "The status change is not allowed by the "
        "lifecycle (ACTIVE ↔ SUSPENDED, ACTIVE ↔ PENDING_COLLECTION, any → DEACTIVATED, "
        "DEACTIVATED is final).",
        "account.field_immutable": "An edit changes ``number``, ``customer`` or ``currency``.",
        "account.custom_field_invalid": "An account custom field is unknown, has the wrong "
        "type, is not one of its options, or is required and missing.",
        "account.language_unknown": "The preferred language is not a locale babel knows.",
        "account.contact_invalid": "A contact has no name, or a malformed email.",
        "account.payment_method_invalid": "A payment method has an empty token, a last4 that "
        "is not four digits, a malformed expiry, or any field holding a card number.",
        "account.credit_limit_invalid": "The credit limit is negative or not in the account "
        "currency.",
        # hierarchies
        "hierarchy.responsible_disabled": "A responsible account is set while "
        "``enable_responsible_account_management`` is False.",
        "hierarchy.responsible_not_active": "The responsible account is not ACTIVE.",
        "hierarchy.responsible_bill_cycle_mismatch": "The responsible account and the managed "
        "account are on different bill cycles.",
        "hierarchy.responsible_currency_mismatch": "The responsible account's invoice "
        "currency differs from the managed account's, so charges could not be summed.",
        "hierarchy.parent_disabled": "A parent account is set while "
        "``enable_account_hierarchy_management`` is False.",
        "hierarchy.parent_status_ineligible": "The parent account is not ACTIVE, SUSPENDED "
        "or PENDING_COLLECTION.",
        "hierarchy.parent_bill_cycle_mismatch": "With "
        "``require_same_bill_cycle_for_account_hierarchy``, parent and child are on "
        "different bill cycles.",
        "hierarchy.cycle": "The link would make an account its own ancestor (itself "
        "included), in either hierarchy.",
        "hierarchy.has_active_dependents": "Deactivating an account that is still "
        "responsible for, or parent of, an account that is not deactivated.",
        # settings
        "settings.in_use": "A settings change that existing data contradicts.",
        # billing
        "billing.not_a_bill_date": "A bill run's date is not a bill date of its cycle.",
        "billing.charge_not_billable": "A charge for an account that the bill run does not bill.",
        "billing.charge_currency_mismatch": "A charge's currency differs from the billed "
        "account's invoice currency.",
        "billing.date_out_of_range": "A calendar computation would go past ``date.max``.",
        "billing.amount_invalid": "A payment or adjustment amount that is not positive, or "
        "a pooled allowance or usage that is negative.",
        "billing.partition_invalid": "A bill run's partition, or its number of partitions, is "
        "out of range (1 to 1,024 partitions, an index below the count).",
        # money (custbill.rules.money)
        "money.not_finite": "An amount (a charge, payment, adjustment, minimum invoice "
        "amount, credit limit, pooled allowance or usage) is NaN or infinite.",
        "money.too_large": "An amount is more than custbill's maximum (a trillion units of "
        "its currency) either way.",
        "money.too_precise": "An amount has more decimal places than its currency has "
        "(two for USD, none for JPY, three for BHD).",
        # limits (custbill.rules.limits)
        "limit.text_too_long": "A text field is longer than its limit (64 characters for "
        "numbers, external numbers and ids, 254 for emails, 4,000 for a note, 1,000 for any "
        "other text).",
        "limit.too_many": "A record has more than 100 phones, secondary emails, payment "
        "methods, contacts or custom fields.",
        "limit.search_too_long": "A search has more than 500 characters or 16 words.",
        # text (custbill.rules.limits, custbill.rules.cards)
        "text.invalid_character": "A text holds NUL, another control character (but tab "
        "and line breaks) or a lone surrogate, which custbill does not store.",
        "text.card_number": "A text field (a name, address line, email, number, contact, "
        "custom field, catalog name, payment reference or adjustment reason) holds a "
        "payment card number, however its digits are written: custbill never stores one.",
        # charges and credit (custbill.service.charges, custbill.service.accounting)
        "charge.description_required": "A queued charge has no description (or only white space).",
        "account.credit_limit_exceeded": "A charge or debit adjustment would take the "
        "exposure of the account's paying account (balance, carried amounts and pending "
        "charges of it and of every account it pays for) above a credit limit on the way "
        "up; ``available`` says what is left.",
        # payment modes (custbill.rules.account, custbill.service.charges)
        "account.payment_mode_requires_auto_pay": "An AUTOMATIC account has no auto-pay "
        "authorised.",
        "account.auto_pay_on_free_account": "A FREE account, never invoiced, has auto-pay "
        "authorised.",
        "charge.account_free": "A charge is queued for a FREE account, or one invoiced on a "
        "FREE account: no invoice would ever bill it.",
        # what an account or customer names (custbill.rules.references)
        "customer.reference_unknown": "The customer's type is not in the catalog, or its "
        "owner is no customer the facade sees.",
        "scenario.account_unknown": "A scenario file's charge, queued charge or payment "
        "habit names an account the file does not create.",
        "scope.shared_read_only": "A scoped facade changes the settings or the catalog, "
        "which are the host's, shared by every scope.",
        "account.location_invalid": "A service location has no name, a name another "
        "location of the account has, an incomplete address, or is a second primary one.",
        "hierarchy.cross_customer_link_not_allowed": "A responsible or parent link to an "
        "account of another customer while ``allow_links_across_customers`` is off, or "
        "when that customer's type takes no linked accounts (the telecom module's linked "
        "accounts belong to corporate customers).",
        "account.not_in_customer_type": "The account has a feature, rate plan or payment "
        "mode its customer's type does not allow (``option``, ``value``, "
        "``customer_type``); also reported when an edit gives a customer a type its "
        "accounts do not fit.",
        "account.invoice_email_invalid": "An extra invoice address is not a well-formed "
        "email, or is listed twice.",
        # the activity log (custbill.service.activity)
        "activity.actor_required": "The actor a facade is made for is blank.",
        "activity.reason_required": "The reason a facade is made for is blank.",
        # end dates (custbill.rules.ending)
        "account.end_date_before_start": "An account's end date is before its start date.",
        "account.end_date_passed": "An edit changes an account's end date that has passed.",
        "customer.end_date_passed": "An edit changes a customer's end date that has passed.",
        # deposits (custbill.service.deposits)
        "deposit.exceeds_held": "A deposit applied or refunded is more than the account holds.",
        "account.deposit_held": "An account holding a security deposit cannot be "
        "deactivated: apply or refund the deposit first.",
        # notes (custbill.rules.notes)
        "note.text_required": "A note has no text (or only white space).",
        "note.author_required": "A note names no author.",
        # catalog
        "catalog.invalid": "A catalog entry is malformed: empty id or name, bill day out of "
        "range for the period, negative net days, unknown currency, a CHOICE field "
        "without options, dunning steps out of order.",
        "catalog.id_taken": "A catalog entry of the same kind already has this id.",
    }
)
