"""How protected personal data is shown wherever custbill shows it."""

from __future__ import annotations

from datetime import date

#: What is shown in place of a date of birth, always.
DATE_OF_BIRTH_MASK = "[protected]"


def mask_tax_number(value: str | None) -> str | None:
    """Return *value* with everything but its last four characters hidden.

    Values of four characters or fewer are hidden entirely, so that at most four
    characters of a tax number are ever shown.

    >>> from custbill.model.masking import mask_tax_number
    >>> mask_tax_number("123-45-6789")
    '****6789'
    >>> mask_tax_number("1234")
    '****'
    """
    if value is None:
        return None
    return "****" + value[-4:] if len(value) > 4 else "****"


def mask_date_of_birth(value: date | None) -> str | None:
    """Return the mask for a date of birth, or None when there is none."""
    return None if value is None else DATE_OF_BIRTH_MASK


def repr_tax_number(value: str | None) -> str:
    """``repr`` of a tax number as attrs shows it: masked."""
    return repr(mask_tax_number(value))


def repr_date_of_birth(value: date | None) -> str:
    """``repr`` of a date of birth as attrs shows it: never the date."""
    return repr(mask_date_of_birth(value))
