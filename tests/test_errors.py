"""custbill's errors cross process boundaries whole: a worker's error reaches the process
that waits for it (a multiprocessing pool, a job queue) with its type, message and
attributes."""

from __future__ import annotations

import copy
import inspect
import multiprocessing
import pickle

import pytest
from moneyed import Money

import custbill as cb
from custbill import errors
from custbill.storage import MemoryStore
from tests.conftest import new_account, new_customer, standard_facade

#: An error of each class, as custbill raises them.
SAMPLES: dict[type[cb.CustbillError], cb.CustbillError] = {
    errors.CustbillError: errors.CustbillError("something went wrong"),
    errors.RuleViolationError: errors.RuleViolationError(
        [
            cb.Violation(code="billing.charge_not_billable", path="charges[A-1\x1b]", message="x"),
            cb.Violation(code="account.currency_invalid", path="currency", message="y"),
        ]
    ),
    errors.NotFoundError: errors.NotFoundError("account", "A-404"),
    errors.ConflictError: errors.ConflictError(
        "A-000001", Money(5, "USD"), Money(7, "USD"), what="pending amount"
    ),
    errors.TransactionConflictError: errors.TransactionConflictError("deadlock detected"),
    errors.ConnectionLostError: errors.ConnectionLostError("SELECT statement: server closed"),
    errors.CurrencyMismatchError: errors.CurrencyMismatchError("USD", "EUR"),
    errors.InvalidDataError: errors.InvalidDataError(["a @ $.x", "b @ $.y"]),
    errors.StorageError: errors.StorageError("database is locked\nDETAIL: more"),
}


def test_every_error_class_has_a_sample() -> None:
    classes = {
        member
        for _, member in inspect.getmembers(errors, inspect.isclass)
        if issubclass(member, cb.CustbillError)
    }
    assert classes == set(SAMPLES)


@pytest.mark.parametrize("error", SAMPLES.values(), ids=lambda e: type(e).__name__)
def test_an_error_pickles_and_copies_whole(error: cb.CustbillError) -> None:
    """Pickled (as a pool or a job queue sends it) and deep-copied, an error keeps its
    class, message and attributes (classes whose __init__ takes other arguments than
    their message once failed to unpickle, killing a multiprocessing pool's result
    thread)."""
    for again in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(again) is type(error)
        assert str(again) == str(error)
        assert again.args == error.args
        assert vars(again) == vars(error)


def _refused_call(kind: str) -> None:
    """In a worker process: a facade call that custbill refuses, by *kind*."""
    with standard_facade(MemoryStore()) as billing:
        if kind == "not found":
            billing.get_customer("C-404")
        elif kind == "rules":
            billing.add_payment_term(cb.PaymentTerm(id="t", name="T", net_days=-5))
        else:  # an edit based on a version that is not the stored one
            customer, _ = billing.create_customer(new_customer(), new_account())
            billing.edit_customer(customer.number, expected_version=99, company_name="Other")


#: How long the test waits for a worker's answer: generous, as a new interpreter imports
#: custbill first; a pool whose result thread died never answers.
WORKER_SECONDS = 120


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("not found", cb.NotFoundError),
        ("rules", cb.RuleViolationError),
        ("conflict", cb.ConflictError),
    ],
)
def test_a_workers_error_reaches_the_pool(kind: str, expected: type[Exception]) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        waiting = pool.apply_async(_refused_call, (kind,))
        with pytest.raises(expected) as caught:
            waiting.get(timeout=WORKER_SECONDS)
    error = caught.value
    if isinstance(error, cb.RuleViolationError):
        assert error.codes == {"catalog.invalid"}
    if isinstance(error, cb.ConflictError):
        assert (error.number, error.what, error.expected) == ("C-000001", "version", 99)
