"""How many page chains a long read uses: `--parallel N`, `parallel = N` in the config,
else the client's default (8). Observed at a public-contract proxy in front of a real
server, which counts the most requests it ever had in flight at once."""

from __future__ import annotations

import json

import pytest

from tasktui.config import ConfigError, load_settings
from tasktui.testing import FaultProxy


@pytest.fixture(scope="module")
def slices_server(tmp_path_factory, api_key, seed_now):
    """3,000 tasks, long enough to be read in slices; seeded once for the module (the
    exports only read it)."""
    from tasktui.server import seed_database, start_server_thread

    path = tmp_path_factory.mktemp("slices") / "slices.db"
    seed_database(path, 3000, seed=7, now=seed_now)
    handle = start_server_thread(path, [api_key])
    yield handle
    handle.stop()


def _export(cli, server, proxy, out, *extra):
    return cli.run("export", "--api-url", proxy.url, "--api-key", server.api_key, "--format", "ndjson",
                   "-o", str(out), "-q", *extra)


@pytest.mark.parametrize("flag,config,most", [
    (["--parallel", "1"], None, 1),
    ([], "parallel = 2\n", 2),
    (["--parallel", "1"], "parallel = 4\n", 1),  # the flag wins over the file
])
def test_the_number_of_chains_is_what_was_asked(cli, slices_server, sql, tmp_path, flag, config, most):
    shared_server = slices_server
    if config:
        cli.write_config(config)
    out = tmp_path / "all.ndjson"
    with FaultProxy(shared_server.url, public_contract=True, latency=0.02).running() as proxy:
        r = _export(cli, shared_server, proxy, out, *flag)
        assert r.returncode == 0, r.stderr
        assert proxy.refused == []
        assert proxy.stats.max_in_flight <= most
        if most > 1:
            assert proxy.stats.max_in_flight == most  # the chains did run side by side
    ids = [json.loads(line)["task_id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(r[0] for r in sql(shared_server, "SELECT task_id FROM tasks"))


@pytest.mark.parametrize("value", ["0", "33", "many", "-3"])
def test_a_bad_parallel_flag_is_one_line_and_exit_2(cli, value):
    r = cli.run("export", "--parallel", value, "-o", "-")
    assert r.returncode == 2 and "--parallel" in r.stderr and "1 to 32" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["0", "true", "40", '"8"'])
def test_a_bad_parallel_in_the_config_names_the_key(tmp_path, value):
    p = tmp_path / "config.toml"
    p.write_text(f"parallel = {value}\n")
    with pytest.raises(ConfigError, match=r"parallel must be a whole number of page chains from 1 to 32"):
        load_settings(p, env={})


def test_parallel_in_the_config_is_read(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text("parallel = 12\n")
    s = load_settings(p, env={})
    assert s.parallel == 12 and s.sources["parallel"] == "file"


def test_pages_of_a_thousand_are_read_by_four_chains_at_most(cli, api_key, seed_now, tmp_path):
    """From the bundled server (pages of 1,000 through its page-size extension) an
    export of 20,000 tasks or more runs four chains whatever --parallel says: chains
    times page size stays within 4,000 tasks held (PARALLEL_PAGE_BUDGET), and the server
    always has a page to make. Observed at a proxy that passes the extensions on."""
    from tasktui.server import seed_database, start_server_thread

    path = tmp_path / "many.db"
    seed_database(path, 20_500, seed=7, now=seed_now)
    server = start_server_thread(path, [api_key])
    try:
        out = tmp_path / "all.ndjson"
        with FaultProxy(server.url, latency=0.1).running() as proxy:
            r = _export(cli, server, proxy, out, "--parallel", "16")
            assert r.returncode == 0, r.stderr
            assert proxy.stats.max_in_flight <= 4  # the bound: tasks held
            assert proxy.stats.max_in_flight > 2  # and more than the two of before
            assert any("page_size=1000" in s.request_line for s in proxy.log)
        assert len(out.read_text().splitlines()) == 20_500
    finally:
        server.stop()
