"""``python -m anet_tui``: the ``anet-tui`` command (:func:`anet_tui.cli.main`)."""

from anet_tui.cli import main

raise SystemExit(main())
