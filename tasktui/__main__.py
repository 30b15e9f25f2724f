"""``python -m tasktui``: the same as the ``tasktui`` command."""

from tasktui.cli.main import entry

entry()
