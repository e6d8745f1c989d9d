"""custbill's version: the one place it is written (the package metadata reads it here,
so ``import custbill`` does not read the installed metadata to learn it)."""

__version__ = "0.1.0"
