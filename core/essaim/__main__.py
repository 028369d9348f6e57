"""``python -m essaim``: the same as the ``essaim`` command."""

from essaim.cli import main

raise SystemExit(main())
