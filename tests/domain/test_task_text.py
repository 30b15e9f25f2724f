"""A task made from the JSON text a listing sent (``Task.from_json``) keeps that text until
a field is read, then holds the parsed objects only — unless they would not give the
text back (a number beyond a double's range), when the text stays for writing it out."""

from __future__ import annotations

import math

from tasktui.domain import Task

TEXT = b'{"task_id":"t1","status":"completed","customer_review_status":"accepted","metadata":{"k":[1,2]}}'


def test_the_text_is_kept_until_a_field_is_read():
    t = Task.from_json(memoryview(TEXT), "t1")
    assert t.task_id == "t1"
    assert bytes(t.json_text()) == TEXT, "the id alone does not parse the task"
    assert t.metadata == {"k": [1, 2]}
    assert t.json_text() is None
    assert t.raw == {"task_id": "t1", "status": "completed", "customer_review_status": "accepted",
                     "metadata": {"k": [1, 2]}}
    assert t.audit_label == "Accepted"
    assert t == Task({"task_id": "t1", "status": "completed", "customer_review_status": "accepted",
                      "metadata": {"k": [1, 2]}})


def test_a_number_beyond_a_double_is_read_and_its_text_kept():
    text = b'{"task_id":"t2","status":"pending","metadata":{"x":1e400,"n":1180591620717411303424}}'
    t = Task.from_json(text, "t2")
    assert t.metadata["x"] == math.inf and t.metadata["n"] == 2 ** 70
    assert bytes(t.json_text()) == text, "infinity would not write 1e400 back"
