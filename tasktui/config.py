"""Settings: how they are read from the config file and the environment, validated and
saved. No Textual.

One TOML file (where: :mod:`tasktui.locations`); environment variables override it
(``SCALE_API_KEY``, ``TASKTUI_API_URL``) and command-line flags override both (applied in
one place, :func:`tasktui.cli.common.settings_from_args`).

Every bad value raises :class:`ConfigError` with a sentence naming the file and the key.
The API key is never printed: :func:`mask_key` shows at most its prefix and last 4
characters, :func:`mask_url` hides a URL's user-info, and a refused value is quoted only
when it is a short plain word or number (:func:`shown`), since a value in the wrong place
may be a key.

Example file::

    api_url = "https://api.scale.com/v1"
    api_key = "live_0123456789abcdef"   # or set SCALE_API_KEY
    zone = "pacific"                    # utc | pacific | local
    refresh_interval = 15               # seconds between live refreshes, 0 = off
    read_only = false
    downloads_dir = "~/Downloads"

    [sync]                              # what `tasktui sync` keeps in the local index
    projects = ["Street signs"]         # default: every project
    from = "2026-01-01"                 # creation window (fixed dates, UTC); default: all
    to = "2026-06-30"

    [keymap]                            # binding id -> keys (comma-separated)
    "tasks.refresh" = "ctrl+r,r"

    [views."Ready to audit, this week"] # saved filter views (command palette)
    status = ["completed"]
    audit = ["ready_to_audit"]
    from = "-7d"
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from tasktui.domain import DateInputError, TaskQuery, Zone, parse_instant, parse_zone
from tasktui.domain.filters import FilterError, Filters
from tasktui.files import write_atomic
from tasktui import locations
from tasktui.locations import config_path, default_downloads_dir

DEFAULT_API_URL = "https://api.scale.com/v1"
DEFAULT_REFRESH_INTERVAL = 15.0
DEFAULT_SANDBOX_SEED = 20_000

ENV_API_KEY = "SCALE_API_KEY"
ENV_API_URL = "TASKTUI_API_URL"


class ConfigError(Exception):
    """The config file (or an environment variable or flag) holds a value we cannot use.
    ``str()`` is a sentence naming the file and the key."""


# --------------------------------------------------------------------------- key masking
_KEY_PREFIX = re.compile(r"^(live|test)_", re.IGNORECASE)


def mask_key(key: str | None) -> str:
    """A key as it may be shown: ``live_…abcd`` (prefix and at most the last 4 characters;
    only the prefix for short keys)."""
    if not key:
        return "(none)"
    m = _KEY_PREFIX.match(key)
    prefix = m.group(0) if m else ""
    rest = key[len(prefix):]
    tail = rest[-4:] if len(rest) >= 12 else ""
    return f"{prefix}…{tail}"


def mask_url(url: str) -> str:
    """A URL as it may be shown: any user-info (``user:password@``, which may be a key)
    replaced by ``…@``."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*@)(.*)$", url, re.DOTALL)
    return f"{m.group(1)}…@{m.group(3)}" if m else url


def public_url(url: str | None) -> str | None:
    """An API URL as it may be stored (export checkpoints, the index's origin): without
    user-info (``https://user:secret@host`` -> ``https://host``), query or fragment."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+:/,-]{0,23}$")
_KEYLIKE_RUN = re.compile(r"[A-Za-z0-9]{12,}")


def _plain(text: str) -> bool:
    """A short word, number or date that cannot be a key: quoting it in an error is safe."""
    if not _PLAIN.match(text) or _KEY_PREFIX.match(text):
        return False
    return not any(re.search(r"[A-Za-z]", run) and re.search(r"[0-9]", run)
                   for run in _KEYLIKE_RUN.findall(text))


def shown(value: Any) -> str:
    """``value`` as an error message may quote it: short plain words and numbers as they
    are; anything else (it may be a misplaced key) described, not shown."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and _plain(value):
        return repr(value)
    kind = {str: "text", list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"the value given ({kind}, not shown: it could be a secret)"


def redact(text: str) -> str:
    """``text`` (a message from another layer) with each quoted value that is not plain
    (:func:`shown`) replaced by a description."""
    return re.sub(r"'([^'\n]*)'", lambda m: m.group(0) if _plain(m.group(1)) else shown(m.group(1)), text)


# --------------------------------------------------------------------------- saved views
@dataclass(frozen=True, kw_only=True)
class SavedView(Filters):
    """A named set of filters from the ``[views]`` table: :class:`Filters` (dates as typed,
    interpreted when the view is applied) with a name."""

    name: str = ""

    @classmethod
    def of(cls, name: str, filters: Filters) -> "SavedView":
        return cls(name=name, **{f.name: getattr(filters, f.name) for f in dataclasses.fields(Filters)})

    def to_toml(self) -> dict[str, Any]:
        """The view's table in the config file (only the filters that are on)."""
        return self.to_mapping(compact=True)

    # The Tasks screen and the sidebar reach views through these two.
    def to_query(self, zone: Zone, *, now: datetime | None = None) -> TaskQuery:
        """The query this view means now, in ``zone`` (:meth:`Filters.resolve`). Raises DateInputError."""
        return self.resolve(zone, now)

    @classmethod
    def from_query(cls, name: str, query: TaskQuery, from_text: str = "", to_text: str = "") -> "SavedView":
        """A view of a resolved query whose dates were typed as ``from_text`` / ``to_text``."""
        return cls(
            name=name, date_field=query.date_field, from_text=from_text, to_text=to_text,
            statuses=query.statuses, audit_statuses=query.audit_statuses,
            projects=tuple(sorted(set(query.projects))), batches=tuple(sorted(set(query.batches))),
            types=tuple(sorted(set(query.types))), tags=tuple(sorted(set(query.tags))),
            search=query.search, order=query.order,
        )


def parse_view(name: str, table: Any, where: str) -> SavedView:
    """One ``[views.NAME]`` table. Raises ConfigError naming ``where`` and the key."""
    try:
        return SavedView.of(name, Filters.parse(table))
    except FilterError as e:
        detail = redact(e.detail)
        raise ConfigError(f"{where}.{e.key}: {detail}" if e.key else f"{where}: {detail}") from None


# --------------------------------------------------------------------------- settings
@dataclass
class Settings:
    api_url: str = DEFAULT_API_URL
    api_key: str | None = None
    zone: Zone = Zone.UTC
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL  # seconds; 0 = off
    read_only: bool = False
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> "key1,key2"
    views: dict[str, SavedView] = field(default_factory=dict)
    downloads_dir: Path = field(default_factory=default_downloads_dir)
    sandbox_db: Path = field(default_factory=locations.sandbox_db)
    sandbox_seed: int = DEFAULT_SANDBOX_SEED  # demo tasks created on the sandbox's first run
    #: page chains a long listing is read by at once (None: the client's default, 8)
    parallel: int | None = None
    simulate: bool = True  # the sandbox moves tasks along (queued -> in progress -> completed)
    #: [sync]: the projects (empty: all) and creation window (fixed dates as typed, "" = open)
    #: the local index holds (see tasktui.index.scope.SyncScope)
    sync_projects: tuple[str, ...] = ()
    sync_from: str = ""
    sync_to: str = ""
    force_sandbox: bool = False  # use the sandbox even if an API key is configured
    #: where the settings were read from (None: no file)
    config_file: Path | None = None
    #: where each non-default value came from: key -> "file" | "env SCALE_API_KEY" | "flag --api-key"
    sources: dict[str, str] = field(default_factory=dict)
    #: things worth telling the operator that are not errors (loose file permissions, ...)
    warnings: list[str] = field(default_factory=list)

    @property
    def uses_sandbox(self) -> bool:
        return self.force_sandbox or not self.api_key

    @property
    def server_without_key(self) -> bool:
        """A server was named (flag, environment or file) but no key given: an error, never
        the sandbox, which is only for "no server named and no key" (or ``--sandbox``)."""
        return not self.force_sandbox and not self.api_key and "api_url" in self.sources

    def api_url_origin(self) -> str:
        """Where ``api_url`` came from, in the operator's words."""
        src = self.sources.get("api_url", "default")
        if src.startswith("flag "):
            return src[len("flag "):]
        if src.startswith("env "):
            return f"${src[len('env '):]}"
        if src == "file":
            return f"api_url in the config file {self.config_file}"
        return "the default api_url"

    def masked_key(self) -> str:
        return mask_key(self.api_key)

    def __repr__(self) -> str:  # never let the key reach a log or a traceback
        return (f"Settings(api_url={mask_url(self.api_url)!r}, api_key={self.masked_key()!r}, zone={self.zone!r}, "
                f"refresh_interval={self.refresh_interval!r}, read_only={self.read_only!r})")


_TOP_KEYS = (
    "api_url", "api_key", "zone", "refresh_interval", "read_only", "keymap", "views",
    "downloads_dir", "sandbox_db", "sandbox_seed", "simulate", "parallel", "sync",
)
_SYNC_KEYS = ("projects", "from", "to")
#: Two different "nows": a date that reads the same against both is a fixed date.
_NOW_A = datetime(2001, 1, 1, tzinfo=timezone.utc)
_NOW_B = datetime(2002, 6, 15, 7, 30, tzinfo=timezone.utc)


def parse_fixed_date(text: str, where: str, *, end: bool = False) -> datetime | None:
    """A fixed date or instant (``2026-01-01``, ``2026-01-01T08:00:00Z``; UTC when no
    offset is given) as a UTC instant, for the sync window; a bare date as ``end``
    includes that whole day. Empty: None. A relative date (``-30d``, ``today``) is
    refused: the window would move every day. Raises ConfigError naming ``where``."""
    t = (text or "").strip()
    if not t:
        return None
    try:
        a = parse_instant(t, Zone.UTC, now=_NOW_A, end=end)
        b = parse_instant(t, Zone.UTC, now=_NOW_B, end=end)
    except DateInputError as e:
        raise ConfigError(f"{where}: {redact(str(e))}; give a date such as 2026-01-01 (UTC)") from None
    if a != b:
        said = repr(t) if re.fullmatch(r"[-+]?[A-Za-z0-9]{1,12}", t) else shown(t)
        raise ConfigError(f"{where}: {said} is a relative date; the sync window needs a fixed date "
                          "such as 2026-01-01 (a moving window would hold different tasks every day)")
    return a


def _sync_table(value: Any, where: str) -> tuple[tuple[str, ...], str, str]:
    """``[sync]``: (projects, from, to), checked. Raises ConfigError naming the key."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table: [sync] with projects, from and to")
    unknown = sorted(str(k) for k in set(value) - set(_SYNC_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(shown(k) for k in unknown)}; "
                          f"known keys: {', '.join(_SYNC_KEYS)}")
    projects = value.get("projects", [])
    if isinstance(projects, str):
        projects = [projects]
    if not isinstance(projects, list) or not all(isinstance(p, str) and p.strip() for p in projects):
        raise ConfigError(f"{where}.projects must be a list of project names, e.g. [\"Street signs\"]")
    out = []
    for key in ("from", "to"):
        v = value.get(key, "")
        if not isinstance(v, str):
            raise ConfigError(f"{where}.{key} must be a date in quotes such as \"2026-01-01\", not {shown(v)}")
        out.append(v.strip())
    lo = parse_fixed_date(out[0], f"{where}.from")
    hi = parse_fixed_date(out[1], f"{where}.to", end=True)
    if lo is not None and hi is not None and hi <= lo:
        raise ConfigError(f"{where}: the window from {out[0]} to {out[1]} is empty")
    return tuple(dict.fromkeys(p.strip() for p in projects)), out[0], out[1]


def check_url(url: str, where: str) -> str:
    u = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", u):
        given = repr(mask_url(url)) if "://" in url and "\n" not in url else shown(url)
        raise ConfigError(f"{where} must be an http:// or https:// URL such as {DEFAULT_API_URL}, not {given}")
    return u


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be true or false, not {shown(value)}")


def _interval(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number of seconds (0 turns live refresh off), not {shown(value)}")
    if value < 0:
        raise ConfigError(f"{where} must not be negative (0 turns live refresh off)")
    if 0 < value < 1:
        raise ConfigError(f"{where} must be at least 1 second (or 0 for off), not {shown(value)}")
    return float(value)


#: The most page chains one console or export may run at once (each is a connection).
MAX_PARALLEL = 32


def check_parallel(value: Any, where: str) -> int:
    """``parallel`` (config) / ``--parallel`` (flag): 1 to MAX_PARALLEL page chains."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARALLEL:
        raise ConfigError(f"{where} must be a whole number of page chains from 1 to {MAX_PARALLEL}, "
                          f"not {shown(value)}")
    return value


def _path(value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a path (a string), not {shown(value)}")
    return Path(value.strip()).expanduser()


def _keymap(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table of binding id = \"keys\", e.g. \"tasks.refresh\" = \"ctrl+r\"")
    out: dict[str, str] = {}
    for bid, keys in value.items():
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            keys = ",".join(keys)
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"{where}.{bid} must be a key such as \"ctrl+r\" (or several, comma-separated)")
        out[str(bid)] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw TOML table of ``path`` ({} when the file does not exist)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise ConfigError(f"the config file {path} is a directory") from None
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror or e}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"the config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"the config file {path} is not valid TOML: {e}") from None


def permission_warning(path: Path) -> str | None:
    """A warning when ``path`` holds an API key and other users may read it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if os.name != "posix" or not (mode & (stat.S_IRGRP | stat.S_IROTH)):
        return None
    try:
        has_key = "api_key" in read_config_file(path)
    except ConfigError:
        return None
    if not has_key:
        return None
    return (f"the config file {path} holds an API key and other users can read it "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}")


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then the environment. Raises ConfigError."""
    env = os.environ if env is None else env
    p = Path(path).expanduser() if path is not None else config_path(env)
    raw = read_config_file(p)
    s = Settings(sandbox_db=locations.sandbox_db(env))
    if p.exists():
        s.config_file = p
    where = str(p)

    unknown = sorted(set(raw) - set(_TOP_KEYS))
    if unknown:
        names = [shown(k) for k in unknown if _plain(k)]
        hidden = len(unknown) - len(names)
        if hidden:
            names.append(f"{hidden} more not shown (it could be a secret)")
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(names)}; known keys: {', '.join(_TOP_KEYS)}"
        )

    def key(k: str) -> str:
        return f"{where}: {k}"

    if "api_url" in raw:
        if not isinstance(raw["api_url"], str):
            raise ConfigError(f"{key('api_url')} must be a string such as \"{DEFAULT_API_URL}\"")
        s.api_url = check_url(raw["api_url"], key("api_url"))
        s.sources["api_url"] = "file"
    if "api_key" in raw:
        v = raw["api_key"]
        if not isinstance(v, str):
            raise ConfigError(f"{key('api_key')} must be a string (your Scale API key)")
        s.api_key = v.strip() or None
        s.sources["api_key"] = "file"
    if "zone" in raw:
        try:
            s.zone = parse_zone(str(raw["zone"]))
        except ValueError as e:
            raise ConfigError(f"{key('zone')}: {redact(str(e))}") from None
        s.sources["zone"] = "file"
    if "refresh_interval" in raw:
        s.refresh_interval = _interval(raw["refresh_interval"], key("refresh_interval"))
        s.sources["refresh_interval"] = "file"
    if "read_only" in raw:
        s.read_only = _bool(raw["read_only"], key("read_only"))
        s.sources["read_only"] = "file"
    if "simulate" in raw:
        s.simulate = _bool(raw["simulate"], key("simulate"))
        s.sources["simulate"] = "file"
    if "downloads_dir" in raw:
        s.downloads_dir = _path(raw["downloads_dir"], key("downloads_dir"))
        s.sources["downloads_dir"] = "file"
    if "sandbox_db" in raw:
        s.sandbox_db = _path(raw["sandbox_db"], key("sandbox_db"))
        s.sources["sandbox_db"] = "file"
    if "parallel" in raw:
        s.parallel = check_parallel(raw["parallel"], key("parallel"))
        s.sources["parallel"] = "file"
    if "sandbox_seed" in raw:
        v = raw["sandbox_seed"]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10_000_000:
            raise ConfigError(f"{key('sandbox_seed')} must be a whole number of demo tasks (0 to 10,000,000)")
        s.sandbox_seed = v
        s.sources["sandbox_seed"] = "file"
    if "sync" in raw:
        s.sync_projects, s.sync_from, s.sync_to = _sync_table(raw["sync"], key("sync"))
        s.sources["sync"] = "file"
    if "keymap" in raw:
        s.keymap = _keymap(raw["keymap"], key("keymap"))
        s.sources["keymap"] = "file"
    if "views" in raw:
        views = raw["views"]
        if not isinstance(views, dict):
            raise ConfigError(f"{key('views')} must be a table of named views, e.g. [views.\"Ready to audit\"]")
        for name, table in views.items():
            s.views[str(name)] = parse_view(str(name), table, f"{where}: views.{name}")
        s.sources["views"] = "file"

    # environment ---------------------------------------------------------------
    if env.get(ENV_API_URL):
        s.api_url = check_url(env[ENV_API_URL], f"the environment variable {ENV_API_URL}")
        s.sources["api_url"] = f"env {ENV_API_URL}"
    if env.get(ENV_API_KEY):
        s.api_key = env[ENV_API_KEY].strip() or None
        s.sources["api_key"] = f"env {ENV_API_KEY}"

    if s.config_file is not None:
        w = permission_warning(s.config_file)
        if w:
            s.warnings.append(w)
    return s


# --------------------------------------------------------------------------- saving
def settings_to_toml(s: Settings) -> dict[str, Any]:
    """The file form of settings (only values that differ from the defaults, plus the key
    when it came from the file)."""
    d = Settings(sandbox_db=s.sandbox_db)
    out: dict[str, Any] = {}
    if s.api_url != DEFAULT_API_URL:
        out["api_url"] = s.api_url
    if s.api_key and s.sources.get("api_key", "file") == "file":
        out["api_key"] = s.api_key
    if s.zone is not Zone.UTC:
        out["zone"] = s.zone.value
    if s.refresh_interval != DEFAULT_REFRESH_INTERVAL:
        out["refresh_interval"] = int(s.refresh_interval) if s.refresh_interval.is_integer() else s.refresh_interval
    if s.read_only:
        out["read_only"] = True
    if not s.simulate:
        out["simulate"] = False
    if s.downloads_dir != d.downloads_dir:
        out["downloads_dir"] = str(s.downloads_dir)
    if s.sandbox_db != locations.sandbox_db():
        out["sandbox_db"] = str(s.sandbox_db)
    if s.sandbox_seed != DEFAULT_SANDBOX_SEED:
        out["sandbox_seed"] = s.sandbox_seed
    if s.parallel is not None:
        out["parallel"] = s.parallel
    if s.sync_projects or s.sync_from or s.sync_to:
        out["sync"] = {k: v for k, v in (("projects", list(s.sync_projects)), ("from", s.sync_from),
                                         ("to", s.sync_to)) if v}
    if s.keymap:
        out["keymap"] = dict(s.keymap)
    if s.views:
        out["views"] = {name: v.to_toml() for name, v in s.views.items()}
    return out


def save_settings(s: Settings, path: Path | str | None = None) -> Path:
    """Write settings to the config file (0600, atomically). Returns the path."""
    import tomli_w

    p = Path(path).expanduser() if path is not None else (s.config_file or config_path())
    p.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p, tomli_w.dumps(settings_to_toml(s)).encode("utf-8"))
    return p


def update_config(updates: Mapping[str, Any], path: Path | str | None = None,
                  *, remove: tuple[str, ...] = ()) -> Path:
    """Merge top-level ``updates`` into the file's raw TOML (keeping every other key as it
    is), drop the keys in ``remove``, and write it back (0600, atomically)."""
    import tomli_w

    p = Path(path).expanduser() if path is not None else config_path()
    raw = read_config_file(p)
    for k in remove:
        raw.pop(k, None)
    for k, v in updates.items():
        if isinstance(v, dict) and isinstance(raw.get(k), dict):
            merged = dict(raw[k])
            merged.update(v)
            raw[k] = merged
        else:
            raw[k] = v
    p.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p, tomli_w.dumps(raw).encode("utf-8"))
    return p


def save_view(view: SavedView, path: Path | str | None = None) -> Path:
    """Add (or replace) one saved view in the config file."""
    return update_config({"views": {view.name: view.to_toml()}}, path)


def delete_view(name: str, path: Path | str | None = None) -> Path:
    p = Path(path).expanduser() if path is not None else config_path()
    raw = read_config_file(p)
    views = dict(raw.get("views") or {})
    views.pop(name, None)
    if views:
        return update_config({"views": views}, p, remove=("views",))
    return update_config({}, p, remove=("views",))


def warn(message: str) -> None:
    """Print a warning for the operator on standard error."""
    print(f"tasktui: warning: {message}", file=sys.stderr)
