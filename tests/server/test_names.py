"""The pure parts of the server's input checks: names, tags, JSON depth, and the 400 the
HTTP protocol writes for a request it cannot parse."""

from __future__ import annotations

import orjson
import pytest

from tasktui.server.bodies import json_depth, parse_json
from tasktui.server.errors import BadRequest
from tasktui.server.limits import JSON_DEPTH_MAX, TAG_LENGTH_MAX, TAGS_MAX
from tasktui.server.names import bad_character, check_name, check_tags, is_task_type
from tasktui.server.protocol import bad_request_bytes


@pytest.mark.parametrize("text,want", [
    ("Street Scenes", None), ("Café Menü ✨", None), ("日本語", None), ("a b\tc", "U+0009"),
    ("x\n", "U+000A"), ("\x00", "U+0000"), ("a\x7f", "U+007F"), ("a\x9b", "U+009B"),
    ("\u202eevil", "U+202E"), ("a\u2066b", "U+2066"), ("a\u2028", "U+2028"), ("a\u200fb", "U+200F"),
])
def test_bad_character(text, want):
    got = bad_character(text)
    assert (got is None) if want is None else got.startswith(want)


def test_check_name_says_what_is_wrong():
    assert check_name("project", "P 1", 10) == "P 1"
    for value, word in ((None, "non-empty string"), ("  ", "non-empty string"), (3, "non-empty string"),
                        ("x" * 11, "limit is 10"), ("a\nb", r"U\+000A")):
        with pytest.raises(BadRequest, match=word) as e:
            check_name("project", value, 10)
        assert "project" in e.value.message and e.value.status == 400


@pytest.mark.parametrize("text,ok", [("imageannotation", True), ("text_collection2", True),
                                     ("imageannotation\n", False), ("Image", False), ("", False),
                                     ("a" * 41, False), ("a" * 40, True), ("1abc", False)])
def test_task_type_is_matched_in_full(text, ok):
    assert is_task_type(text) is ok


def test_check_tags():
    assert check_tags(["b", "a", "b"]) == ["b", "a"]
    assert len(check_tags([f"t{i}" for i in range(TAGS_MAX)] * 2)) == TAGS_MAX  # duplicates do not count
    for bad, word in (("x", "JSON array"), ([""], "JSON array"), ([1], "JSON array"),
                      (["x" * (TAG_LENGTH_MAX + 1)], str(TAG_LENGTH_MAX)),
                      ([f"t{i}" for i in range(TAGS_MAX + 1)], str(TAGS_MAX)), (["a\x1b[31m"], r"U\+001B")):
        with pytest.raises(BadRequest, match=word):
            check_tags(bad)


def test_json_depth():
    assert [json_depth(v) for v in (1, "x", [], {}, [[]], {"a": [1, {"b": None}]})] == [0, 0, 1, 1, 2, 3]
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    assert json_depth(deep) == JSON_DEPTH_MAX + 1  # stops counting past the limit


def test_parse_json_depth_limit():
    ok = b"[" * JSON_DEPTH_MAX + b"]" * JSON_DEPTH_MAX
    assert json_depth(parse_json(ok)) == JSON_DEPTH_MAX
    for depth in (JSON_DEPTH_MAX + 1, 1024, 1025, 100_000):
        with pytest.raises(BadRequest, match=f"limit is {JSON_DEPTH_MAX} levels"):
            parse_json(b"[" * depth + b"]" * depth)
    with pytest.raises(BadRequest, match="not valid JSON"):
        parse_json(b"[1e400]")


def test_bad_request_bytes_is_a_complete_scale_error():
    raw = bad_request_bytes("Invalid header token")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    assert b"content-type: application/json" in lines and b"connection: close" in lines
    assert f"content-length: {len(body)}".encode() in lines
    got = orjson.loads(body)
    assert got["status_code"] == 400 and "Invalid header token" in got["error"] and "64 KB" in got["error"]
