"""``GET /v1/openapi.json``: an OpenAPI 3.0 description of every route, parameter and
schema of the bundled server (used by schemathesis to fuzz it)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from tasktui.domain.statuses import WIRE_STATUSES
from tasktui.domain.wire import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    PAGE_LIMIT_MAX,
    PAGE_SIZE_EXT_MAX,
    REVIEW_FILTER_VALUES,
    STATUS_FILTER_VALUES,
    TASK_ID_PATTERN,
    Param,
)
from tasktui.server.content import PROJECTS
from tasktui.server.limits import NAME_LENGTH_MAX, TAG_LENGTH_MAX, TAGS_MAX


def _err(desc: str) -> dict[str, Any]:
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


#: the boolean spellings the server accepts (the SDK sends True / False)
BOOL = ["true", "false", "True", "False", "1", "0"]
_TIME = {"type": "string", "description": "ISO-8601 date or date-time (naive means UTC)", "example": "2026-03-08"}


def _q(name: str, schema: dict[str, Any], desc: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": desc, **extra}


def _task_path(desc: str = "task id") -> dict[str, Any]:
    return {"name": "task_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": TASK_ID_PATTERN}, "description": desc}


def _name_path(desc: str) -> dict[str, Any]:
    return {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
            "description": desc + " (percent-encoded; %2F for a slash)"}


def _common_errors(*codes: int) -> dict[str, Any]:
    names = {400: "bad parameter or forbidden transition", 401: "missing or wrong API key",
             404: "no such task, project or batch", 409: "unique_id already in use", 413: "request body too large",
             429: "rate limited (see Retry-After)"}
    return {str(c): _err(names[c]) for c in codes}


def _task_ok() -> dict[str, Any]:
    return {"200": {"description": "the task", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Task"}}}}}


def _idem() -> dict[str, Any]:
    return {"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
            "description": "extension `idempotency`: the same key replays the first successful answer"}


@lru_cache(maxsize=8)
def _spec_bytes(server_url: str) -> bytes:
    return orjson.dumps(build(server_url))


def spec(server_url: str) -> bytes:
    return _spec_bytes(server_url)


def build(server_url: str) -> dict[str, Any]:
    status_enum = STATUS_FILTER_VALUES
    review_enum = REVIEW_FILTER_VALUES
    types = sorted({p["type"] for p in PROJECTS})
    list_params = [
        _q(Param.START_TIME, _TIME, "created at or after (inclusive)"),
        _q(Param.END_TIME, _TIME, "created before (exclusive)"),
        _q(Param.COMPLETED_AFTER, _TIME, "completed at or after (inclusive)"),
        _q(Param.COMPLETED_BEFORE, _TIME, "completed before (exclusive)"),
        _q(Param.UPDATED_AFTER, _TIME, "updated at or after (inclusive)"),
        _q(Param.UPDATED_BEFORE, _TIME, "updated before (exclusive)"),
        _q(Param.STATUS, {"type": "string", "pattern": "^(" + "|".join(status_enum) + ")(,(" + "|".join(status_enum) + "))*$"},
           "wire status, or (extension `operator-status`) a comma-separated list of operator statuses"),
        _q(Param.REVIEW_STATUS, {"type": "string", "pattern": "^(" + "|".join(review_enum) + ")(,(" + "|".join(review_enum) + "))*$"},
           "comma-separated review statuses (pending = ready to audit)"),
        _q(Param.PROJECT, {"type": "array", "items": {"type": "string", "minLength": 1}},
           "project name; repeated means any of (extension `multi-value`)", style="form", explode=True),
        _q(Param.BATCH, {"type": "array", "items": {"type": "string", "minLength": 1}},
           "batch name; repeated means any of", style="form", explode=True),
        _q(Param.TYPE, {"type": "array", "items": {"type": "string", "minLength": 1}},
           f"task type, e.g. {', '.join(types)}; repeated means any of", style="form", explode=True),
        _q(Param.TAGS, {"type": "array", "items": {"type": "string", "minLength": 1}},
           "tasks carrying every one of these tags", style="form", explode=True),
        _q(Param.UNIQUE_ID, {"type": "array", "items": {"type": "string", "minLength": 1}},
           "tasks with any of these unique ids", style="form", explode=True),
        _q(Param.SEARCH, {"type": "string"}, "extension `search`: task id or unique id starts with this (case-insensitive)"),
        _q(Param.ORDER, {"type": "string", "enum": ["asc", "desc"]}, "extension `order`: asc = oldest first"),
        _q(Param.LIMIT, {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX, "default": PAGE_LIMIT_MAX},
           "page size"),
        _q(Param.PAGE_SIZE, {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_EXT_MAX},
           f"extension `page-size`: a page of up to {PAGE_SIZE_EXT_MAX} tasks (overrides limit; for bulk readers)"),
        _q(Param.NEXT_TOKEN, {"type": "string"}, "opaque position from the previous page"),
        _q(Param.INCLUDE_ATTACHMENT_URL, {"type": "string", "enum": BOOL}, "accepted, no effect"),
        _q(Param.LIMITED_RESPONSE, {"type": "string", "enum": BOOL},
           "only task_id, status, metadata and project"),
    ]
    json_body = lambda schema, required=True: {  # noqa: E731
        "required": required, "content": {"application/json": {"schema": schema}}}
    paths: dict[str, Any] = {
        "/tasks": {"get": {
            "operationId": "listTasks", "summary": "List tasks (newest first, keyset-paged)",
            "parameters": list_params,
            "responses": {"200": {"description": "a page of tasks", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/TaskPage"}}}}, **_common_errors(400, 401, 429)}}},
        "/task/{task_id}": {
            "get": {"operationId": "getTask", "summary": "One task", "parameters": [_task_path()],
                    "responses": {**_task_ok(), **_common_errors(401, 404, 429)}},
            "post": {"operationId": "createTask", "summary": "Create a Queued task of type {task_id}",
                     "parameters": [{"name": "task_id", "in": "path", "required": True,
                                     "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                                     "description": "task type, e.g. imageannotation"}, _idem()],
                     "requestBody": json_body({"$ref": "#/components/schemas/NewTask"}),
                     "responses": {**_task_ok(), **_common_errors(400, 401, 404, 409, 413, 429)}}},
        "/task/{task_id}/cancel": {"post": {
            "operationId": "cancelTask", "summary": "Cancel a Queued task (anything else is a 400 saying why)",
            "parameters": [_task_path(), _q("clear_unique_id", {"type": "string", "enum": BOOL},
                                            "also remove the unique id"), _idem()],
            "responses": {**_task_ok(), **_common_errors(400, 401, 404, 413, 429)}}},
        "/task/{task_id}/audit": {"post": {
            "operationId": "auditTask", "summary": "Accept, reject or (extension `fix`) fix a completed task",
            "parameters": [_task_path(), _idem()],
            "requestBody": json_body({"$ref": "#/components/schemas/Audit"}),
            "responses": {**_task_ok(), **_common_errors(400, 401, 404, 413, 429)}}},
        "/task/{task_id}/unique_id": {
            "post": {"operationId": "setUniqueId", "parameters": [_task_path(), _idem()],
                     "requestBody": json_body({"type": "object", "required": ["unique_id"], "properties": {
                         "unique_id": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX}}}),
                     "responses": {**_task_ok(), **_common_errors(400, 401, 404, 409, 413, 429)}},
            "delete": {"operationId": "clearUniqueId", "parameters": [_task_path()],
                       "responses": {**_task_ok(), **_common_errors(401, 404, 429)}}},
        "/task/{task_id}/setMetadata": {"post": {
            "operationId": "setMetadata", "summary": "Replace the task's metadata",
            "parameters": [_task_path(), _idem()],
            "requestBody": json_body({"type": "object", "additionalProperties": True}),
            "responses": {**_task_ok(), **_common_errors(400, 401, 404, 413, 429)}}},
        "/task/{task_id}/tags": {
            m: {"operationId": op, "summary": summ, "parameters": [_task_path()] + ([_idem()] if m != "delete" else []),
                "requestBody": json_body({"type": "array", "maxItems": TAGS_MAX,
                                          "items": {"type": "string", "minLength": 1, "maxLength": TAG_LENGTH_MAX}}),
                "responses": {**_task_ok(), **_common_errors(400, 401, 404, 413, 429)}}
            for m, op, summ in (("post", "setTags", "Replace the tags"), ("put", "addTags", "Add tags"),
                                ("delete", "deleteTags", "Remove tags"))},
        "/projects": {"get": {"operationId": "listProjects", "responses": {
            "200": {"description": "every project", "content": {"application/json": {"schema": {
                "type": "array", "items": {"$ref": "#/components/schemas/Project"}}}}}, **_common_errors(401, 429)}}},
        "/projects/{name}": {"get": {
            "operationId": "getProject", "parameters": [_name_path("project name")],
            "responses": {"200": {"description": "the project", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Project"}}}}, **_common_errors(401, 404, 429)}}},
        "/projects/{name}/taskTemplates": {"get": {
            "operationId": "getProjectTemplate", "summary": "The task template of a textcollection or chat project",
            "parameters": [_name_path("project name")],
            "responses": {"200": {"description": "the template", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/TaskTemplate"}}}}, **_common_errors(400, 401, 404, 429)}}},
        "/batches": {"post": {
            "operationId": "createBatch", "summary": "Create a batch of a project (status staging)",
            "requestBody": json_body({"type": "object", "required": ["project", "name"], "properties": {
                "project": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX},
                "name": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX},
                "callback": {"type": "string", "maxLength": 2000}, "calibration_batch": {"type": "boolean"},
                "self_label_batch": {"type": "boolean"}, "metadata": {"type": "object"}}}),
            "responses": {"200": {"description": "the new batch", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Batch"}}}}, **_common_errors(400, 401, 413, 429)}}, "get": {
            "operationId": "listBatches",
            "parameters": [
                _q("project", {"type": "string"}, "project name"),
                _q("status", {"type": "string", "enum": ["staging", "in_progress", "completed"]}, "batch status"),
                _q("start_time", _TIME, "created at or after"), _q("end_time", _TIME, "created before"),
                _q("exclude_archived", {"type": "string", "enum": BOOL}, "accepted"),
                _q(Param.LIMIT, {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX, "default": PAGE_LIMIT_MAX},
                   "page size"),
                _q("offset", {"type": "integer", "minimum": 0, "maximum": 1000000000, "default": 0}, "skip this many"),
            ],
            "responses": {"200": {"description": "a page of batches", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/BatchPage"}}}}, **_common_errors(400, 401, 429)}}},
        "/batches/{name}": {"get": {
            "operationId": "getBatch",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
            "responses": {"200": {"description": "the batch", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Batch"}}}}, **_common_errors(401, 404, 429)}}},
        "/batches/{name}/finalize": {"post": {
            "operationId": "finalizeBatch", "summary": "A staging batch goes in progress",
            "parameters": [_name_path("batch name")],
            "responses": {"200": {"description": "the batch", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Batch"}}}}, **_common_errors(401, 404, 413, 429)}}},
        "/batches/{name}/setMetadata": {"post": {
            "operationId": "setBatchMetadata", "summary": "Replace the batch's metadata",
            "parameters": [_name_path("batch name")],
            "requestBody": json_body({"type": "object", "additionalProperties": True}),
            "responses": {"200": {"description": "the batch", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Batch"}}}}, **_common_errors(400, 401, 404, 413, 429)}}},
        "/batches/{name}/status": {"get": {
            "operationId": "getBatchStatus",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
            "responses": {"200": {"description": "task counts by wire status", "content": {"application/json": {
                "schema": {"type": "object", "required": ["status"], "properties": {
                    "status": {"type": "string"}, "pending": {"type": "integer"}, "completed": {"type": "integer"},
                    "error": {"type": "integer"}, "canceled": {"type": "integer"}}}}}},
                **_common_errors(401, 404, 429)}}},
        "/media/{task_id}/{name}": {"get": {
            "operationId": "getMedia", "summary": "Generated media of a demo task",
            "parameters": [_task_path(), {"name": "name", "in": "path", "required": True, "schema": {
                "type": "string", "enum": ["image.png", "annotated.png", "pointcloud.json", "text.txt"]}}],
            "responses": {"200": {"description": "the media", "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/PointCloud"}},
                "text/plain": {"schema": {"type": "string"}}}}, **_common_errors(401, 404, 429)}}},
        "/openapi.json": {"get": {"operationId": "openapi", "responses": {
            "200": {"description": "this document", "content": {"application/json": {"schema": {"type": "object"}}}},
            **_common_errors(401, 429)}}},
    }
    str_list = {"type": "array", "items": {"type": "string"}}
    schemas = {
        "Error": {"type": "object", "required": ["status_code", "error"], "properties": {
            "status_code": {"type": "integer"}, "error": {"type": "string"}}},
        "Task": {"type": "object", "required": ["task_id", "status", "created_at", "updated_at", "type"],
                 "properties": {
                     "task_id": {"type": "string"}, "status": {"type": "string", "enum": list(WIRE_STATUSES)},
                     "type": {"type": "string"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
                     "completed_at": {"type": "string"}, "instruction": {"type": "string"},
                     "params": {"type": "object"}, "callback_url": {"type": "string"},
                     "callback_completed": {"type": "boolean"}, "response": {"type": "object"},
                     "metadata": {"type": "object"}, "project": {"type": "string"}, "batch": {"type": "string"},
                     "unique_id": {"type": "string"}, "tags": str_list, "audits": {"type": "array", "items": {"type": "object"}},
                     "customer_review_status": {"type": "string"}, "customer_review_comments": str_list,
                     "prior_responses": {"type": "array"}, "work_started": {"type": "boolean"}}},
        "LimitedTask": {"type": "object", "required": ["task_id", "status"], "properties": {
            "task_id": {"type": "string"}, "status": {"type": "string"}, "metadata": {"type": "object"},
            "project": {"type": "string"}}},
        "TaskPage": {"type": "object", "required": ["docs", "total", "limit", "offset", "has_more", "next_token"],
                     "properties": {
                         "docs": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/Task"},
                                                                       {"$ref": "#/components/schemas/LimitedTask"}]}},
                         "total": {"type": "integer", "minimum": 0}, "limit": {"type": "integer"},
                         "offset": {"type": "integer"}, "has_more": {"type": "boolean"},
                         "next_token": {"type": "string", "nullable": True}}},
        "NewTask": {"type": "object", "additionalProperties": True, "properties": {
            "instruction": {"type": "string"}, "attachment": {"type": "string"},
            "attachment_type": {"type": "string"},
            "callback_url": {"type": "string", "pattern": "^https?://", "format": "uri"},
            "metadata": {"type": "object"}, "project": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX},
            "batch": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX},
            "unique_id": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH_MAX},
            "tags": {"type": "array", "maxItems": TAGS_MAX,
                     "items": {"type": "string", "minLength": 1, "maxLength": TAG_LENGTH_MAX}},
            "params": {"type": "object"}}},
        "Audit": {"type": "object", "properties": {
            "accepted": {"type": "boolean"}, "comments": {"type": "string", "nullable": True, "maxLength": 10000},
            "response": {"type": "object", "description": "extension `fix`: the corrected response"}}},
        "Project": {"type": "object", "required": ["name", "type", "param_history"], "properties": {
            "name": {"type": "string"}, "type": {"type": "string"}, "created_at": {"type": "string"},
            "instruction": {"type": "string"},
            "param_history": {"type": "array", "items": {"type": "object", "required": ["version"],
                                                         "properties": {"version": {"type": "integer"}}}}}},
        "TaskTemplate": {"type": "object", "required": ["id", "version", "created_at", "updated_at",
                                                         "template_variables"], "properties": {
            "id": {"type": "string"}, "version": {"type": "integer"}, "created_at": {"type": "string"},
            "updated_at": {"type": "string"}, "template_variables": {"type": "object"}}},
        "Batch": {"type": "object", "required": ["name", "status", "project", "created_at", "metadata"], "properties": {
            "name": {"type": "string"}, "status": {"type": "string"}, "project": {"type": "string"},
            "created_at": {"type": "string"}, "metadata": {"type": "object"}}},
        "BatchPage": {"type": "object", "required": ["docs", "totalDocs", "limit", "offset", "has_more"], "properties": {
            "docs": {"type": "array", "items": {"$ref": "#/components/schemas/Batch"}},
            "totalDocs": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
            "has_more": {"type": "boolean"}}},
        "PointCloud": {"type": "object", "required": ["points"], "properties": {
            "format": {"type": "string"}, "points": {"type": "array", "items": {
                "type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "tasktui bundled Scale-compatible server", "version": "1",
                 "description": "Scale API v1 subset plus extensions advertised in X-Tasktui-Extensions."},
        "servers": [{"url": server_url}],
        "security": [{"basic": []}],
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic",
                                                     "description": "API key as the user name, empty password"}},
                       "schemas": schemas},
        "paths": paths,
    }
