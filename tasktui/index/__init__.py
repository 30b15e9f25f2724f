"""The local task index: the tasks of a sync scope in a SQLite file per API origin, with
the bundled server's schema, so that the server's query code answers the console, offline
export and ``tasktui get --offline`` from disk. ``db`` holds the file, ``scope`` what it
holds, ``sync`` fills it from the API (initial, resumable; then deltas)."""
