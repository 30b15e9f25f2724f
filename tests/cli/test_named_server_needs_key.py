"""A server named anywhere (``--api-url``, ``$TASKTUI_API_URL``, ``api_url`` in the config
file) without a key is an error in words with exit 3 — never the local demo sandbox, whose
20,000 demo tasks would otherwise be exported (or whose "no task" answered) with exit 0.
Only "no server named and no key" means the sandbox. The real CLI, in a subprocess."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("shared_server")


def _no_sandbox_made(cli) -> bool:
    return not (cli.data / "sandbox.db").exists() and not (cli.data / "sandbox.db.partial").exists()


@pytest.mark.parametrize("how", ["flag", "env", "file"])
def test_export_to_a_named_server_without_a_key_is_exit_3(cli, shared_server, tmp_path, how):
    args, env = [], {}
    if how == "flag":
        args = ["--api-url", shared_server.url]
        where = "--api-url"
    elif how == "env":
        env = {"TASKTUI_API_URL": shared_server.url}
        where = "TASKTUI_API_URL"
    else:
        cli.write_config(f'api_url = "{shared_server.url}"\n')
        where = str(cli.config)
    out = tmp_path / "out.json"
    r = cli.run("export", "-o", str(out), *args, env=env)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "no API key" in r.stderr and where in r.stderr and "--sandbox" in r.stderr, r.stderr
    assert "sandbox ready" not in r.stderr.lower()
    assert not out.exists() and _no_sandbox_made(cli)


def test_get_from_a_named_server_without_a_key_is_exit_3_not_no_task(cli, shared_server, sql):
    task_id = sql(shared_server, "SELECT task_id FROM tasks LIMIT 1")[0][0]
    r = cli.run("get", task_id, "--api-url", shared_server.url)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "no task" not in r.stderr and "no API key" in r.stderr, r.stderr
    assert _no_sandbox_made(cli)
    # with the key, the same command finds the task
    r = cli.run("get", task_id, "--api-url", shared_server.url, env={"SCALE_API_KEY": shared_server.api_key})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["task_id"] == task_id


def test_the_console_refuses_a_named_server_without_a_key_before_opening(cli, shared_server):
    r = cli.run("--api-url", shared_server.url)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "no API key" in r.stderr and "needs a terminal" not in r.stderr, r.stderr
    assert _no_sandbox_made(cli)


def test_the_user_info_of_a_named_url_is_not_echoed(cli, shared_server):
    url = shared_server.url.replace("http://", "http://me:hunter2secret@")
    r = cli.run("get", "x", "--api-url", url)
    assert r.returncode == 3 and "hunter2secret" not in r.stderr, r.stderr


def test_sandbox_flag_or_nothing_named_still_means_the_sandbox(cli, shared_server):
    cli.write_config(f'api_url = "{shared_server.url}"\nsandbox_seed = 50\n')
    r = cli.run("get", "nope", "--sandbox", "--no-simulate")
    assert r.returncode == 4, r.stderr  # asked the sandbox, which has no such task
    assert (cli.data / "sandbox.db").exists()
    cli.write_config("sandbox_seed = 50\n")
    r = cli.run("get", "nope", "--no-simulate")
    assert r.returncode == 4 and "no task with id 'nope'" in r.stderr, r.stderr


def test_config_show_says_a_named_server_needs_a_key(cli, shared_server):
    r = cli.run("config", "show", env={"TASKTUI_API_URL": shared_server.url})
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("api_key"))
    assert "sandbox is used" not in line and "no key" in line and "$TASKTUI_API_URL" in line, line
    r = cli.run("config", "show")
    line = next(x for x in r.stdout.splitlines() if x.startswith("api_key"))
    assert "the embedded sandbox is used" in line, line
