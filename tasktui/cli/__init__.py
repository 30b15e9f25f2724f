"""The command line: one module per subcommand (``tui``, ``serve``, ``export``, ``get``,
``config``), the subcommand table in :mod:`tasktui.cli.main`, and what they share (exit
codes, error style, flags -> settings and filters) in :mod:`tasktui.cli.common`."""
