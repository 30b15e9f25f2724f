"""tasktui: a keyboard-driven terminal console for a Scale-style labeling task queue."""

import sys as _sys

__version__ = "0.1.0"

# httpx's package imports its own command-line client, which imports rich, click and
# pygments wherever they are installed — here they always are (Textual and uvicorn need
# them): about 80 ms of every `tasktui export`, `sync` or `get` start for a client tasktui
# never runs. A None entry in sys.modules makes that import fail, and httpx (0.28) catches
# the ImportError and defines a stub instead. The console imports rich for itself anyway.
if "httpx" not in _sys.modules:
    _sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
