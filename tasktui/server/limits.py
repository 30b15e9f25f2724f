"""The bundled server's limits on what one request may hold: how many query parameters,
how many values of a repeated one, how deep a JSON body, how many tags and how long.

Each is enforced where the request is read, with a 400 in the Scale error shape that
names the limit, so that nothing past a limit reaches SQLite (whose expression depth is
bounded) or orjson (which cannot write a document nested deeper than 254 levels).
"""

from __future__ import annotations

#: Query parameters in one request, all names together.
QUERY_PARAMS_MAX = 1000
#: Values of one repeated parameter (``tags``, ``unique_id``, ``project``, ``batch``, ``type``).
REPEATED_VALUES_MAX = 100
#: Nesting depth of a JSON body (an object or array inside another counts one level).
JSON_DEPTH_MAX = 64
#: Tags on one task, and characters in one tag.
TAGS_MAX = 100
TAG_LENGTH_MAX = 200
#: Characters in a project, batch or unique id.
NAME_LENGTH_MAX = 500
#: Bytes of one stored task: writes that append (audits, comments, fixes, tags) stop here.
TASK_BYTES_MAX = 8 * 1024 * 1024
