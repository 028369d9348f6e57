"""``python -m essaim``: the same as the ``essaim`` command."""

from .cli import main

raise SystemExit(main())
