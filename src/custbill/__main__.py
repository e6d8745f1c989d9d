"""``python -m custbill``: the command line."""

from custbill.cli import main

raise SystemExit(main())
