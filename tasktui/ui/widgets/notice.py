"""The notice bar: what went wrong talking to the server and what to do, shown above the
table (which keeps the rows it had). Text is data: built with ``Text``, no markup."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tasktui.api import AuthError, MalformedResponseError, NetworkError, RateLimitedError, ServerError
from tasktui.ui.safe import one_line


def advice_for(error: BaseException, retry_key: str, config_hint: str = "", *, has_rows: bool = True) -> str:
    """One or two sentences: what happened and what to do."""
    msg = one_line(str(error)).rstrip(".")
    kept = "The list shows what was loaded before" if has_rows else "Nothing could be loaded yet"
    if isinstance(error, AuthError):
        what = (f"{msg}. Check the API key (SCALE_API_KEY, --api-key, or api_key in "
                f"{config_hint or 'the config file'}), then press {retry_key} to retry")
    elif isinstance(error, RateLimitedError):
        what = f"{msg}. {kept}; wait a moment and press {retry_key} to retry"
    elif isinstance(error, (NetworkError, ServerError, MalformedResponseError)):
        what = f"{msg}. {kept}; press {retry_key} to retry"
    else:
        what = f"{msg}. Press {retry_key} to retry"
    return what + "."


class Notice(Static):
    """Hidden unless there is something to say."""

    DEFAULT_CSS = """
    Notice { height: auto; max-height: 4; width: 100%; padding: 0 1; display: none; }
    Notice.-error { display: block; background: $error 30%; color: $text; }
    Notice.-info { display: block; background: $primary 25%; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.message = ""

    def show_error(self, text: str) -> None:
        self.message = text
        self.update(Text("⚠ " + text))
        self.set_class(False, "-info")
        self.set_class(True, "-error")

    def show_info(self, text: str) -> None:
        self.message = text
        self.update(Text("ℹ " + text))
        self.set_class(False, "-error")
        self.set_class(True, "-info")

    def clear(self) -> None:
        self.message = ""
        self.update("")
        self.set_class(False, "-error")
        self.set_class(False, "-info")
