"""Compiling generated functions the way attrs does: each one's source is registered with
:mod:`linecache` under a file name of its own, so tracebacks, ``inspect.getsource`` and pdb
show the generated code instead of nothing."""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable
from typing import Any

_serial = itertools.count(1)


def compile_function(source: str, name: str, label: str, env: dict[str, Any]) -> Any:
    """Compile *source*, which defines the function *name*, with the globals *env*, and
    return that function.

    The source is kept in :data:`linecache.cache` as ``<custbill generated LABEL #N>``
    (*N* keeps two compilations of one label apart).
    """
    filename = f"<custbill generated {label} #{next(_serial)}>"
    code = compile(source, filename, "exec")
    namespace: dict[str, Any] = {}
    exec(code, env, namespace)
    # (size, mtime, lines, fullname); mtime None: linecache.checkcache never drops it
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    function: Callable[..., Any] = namespace[name]
    return function
