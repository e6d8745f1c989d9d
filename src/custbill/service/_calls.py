"""What the facade's mixins (:mod:`custbill.service.over_time`,
:mod:`custbill.service.platforms`) call on :class:`~custbill.CustomerBilling`: its way of
running a use case over a unit of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from custbill.service._unit import Context
from custbill.storage.protocols import UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")


class FacadeCalls:
    """The two ways :class:`~custbill.CustomerBilling` runs a use case, declared for the
    mixins that delegate to them."""

    def _run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        raise NotImplementedError  # (CustomerBilling's)

    def _read(
        self,
        use_case: Callable[Concatenate[UnitOfWork, Context, P], R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        raise NotImplementedError  # (CustomerBilling's)
