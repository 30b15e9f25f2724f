"""Literal expectations that kill the mutants `make mutate` found alive in transport.py's
key scrubbing, URL helpers and error texts (see RELIABILITY.md, "Mutation score"). Pure: no
server; the error texts are made from hand-built answers and exceptions."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from tasktui.api import RetryPolicy
from tasktui.api.transport import Transport, _Secret, display_url, origin_of, server_date

KEY = "k?>~ x"
# every form of KEY, written out: as is, percent-encoded (quote / quote_plus), and the base64
# of "KEY:" and "KEY" (standard and URL-safe alphabets, padded and not)
FORMS = ["k?>~ x", "k%3F%3E~%20x", "k%3F%3E~+x", "az8+fiB4Og==", "az8-fiB4Og==", "az8+fiB4Og", "az8-fiB4Og",
         "az8+fiB4", "az8-fiB4"]


def transport(key: str = KEY, url: str = "http://127.0.0.1:9/v1") -> Transport:
    return Transport(httpx.URL(url), key, timeout=httpx.Timeout(5.0, connect=2.5, read=7.0),
                     retry=RetryPolicy.none(), max_connections=1, user_agent="t",
                     on_answer=lambda r: None, replays_writes=lambda: False)


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_the_key_is_scrubbed(form):
    assert transport().scrub(f"<{form}>") == "<***>"


def test_the_key_holder_never_shows_it():
    s = _Secret(KEY)
    assert repr(s) == "<hidden>" and str(s) == "<hidden>"


@pytest.mark.parametrize(("url", "origin"), [
    ("http://Api.Example/v1", ("http", "api.example", 80)),
    ("https://api.example/v1", ("https", "api.example", 443)),
    ("https://api.example:8443/v1", ("https", "api.example", 8443)),
    ("ftp://api.example/v1", ("ftp", "api.example", None)),
])
def test_the_origin_names_the_default_port(url, origin):
    assert origin_of(httpx.URL(url)) == origin


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@api.example:8443/v1/tasks?sig=s", "https://api.example:8443/v1/tasks"),
    ("https://api.example/v1/tasks?sig=s", "https://api.example/v1/tasks"),
])
def test_urls_in_messages_lose_user_info_and_query(url, shown):
    assert display_url(httpx.URL(url)) == shown


def test_the_server_clock_is_read_from_the_date_header():
    assert server_date(httpx.Response(200, headers={"Date": "Tue, 01 Dec 2026 20:00:00 GMT"})) == \
        datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc)
    assert server_date(httpx.Response(200)) is None
    assert server_date(httpx.Response(200, headers={"Date": "yesterday"})) is None


def test_an_excerpt_of_a_body_repeating_a_long_key_holds_no_piece_of_it():
    key = "k" * 40
    assert "kkkkkkkk" not in transport(key).excerpt((key * 20).encode(), 100)


def answer(code: int, body: bytes = b"", **headers) -> httpx.Response:
    return httpx.Response(code, content=body, headers=headers)


@pytest.mark.parametrize(("resp", "text"), [
    (answer(401, b'{"error": "bad key k?>~ x"}'),
     "Could not list tasks: the server at http://127.0.0.1:9 did not accept the API key (HTTP 401: bad key ***). "
     "Check the key you configured."),
    (answer(403), "Could not list tasks: the server at http://127.0.0.1:9 did not accept the API key (HTTP 403). "
                  "Check the key you configured."),
    (answer(404, b'{"message": "no such task"}'), "Could not list tasks: not found on the server (HTTP 404: no such task)."),
    (answer(409, b'{"error": " ", "detail": "busy"}'), "Could not list tasks: conflict (HTTP 409: busy)."),
    (answer(429, b"{}", **{"Retry-After": "3"}),
     "Could not list tasks: the server is limiting how fast we may ask (HTTP 429) (2 tries). The server asks to "
     "wait 3 s. Wait a little and try again."),
    (answer(408, b"<!DOCTYPE html><p>x"),
     "Could not list tasks: the server failed (HTTP 408: the answer was an HTML page, not JSON: a proxy or gateway "
     "in between may be failing) (2 tries). It may be overloaded or down; try again later."),
    (answer(502, b"gateway k?>~ x down", **{"Content-Type": "text/plain"}),
     "Could not list tasks: the server failed (HTTP 502: gateway *** down) (2 tries). It may be overloaded or "
     "down; try again later."),
    (answer(418, b"x", **{"Content-Type": "text/html"}),
     "Could not list tasks: the server refused the request (HTTP 418: the answer was an HTML page, not JSON: a "
     "proxy or gateway in between may be failing)."),
    (answer(302), "Could not list tasks: unexpected answer HTTP 302."),
])
def test_each_refusal_reads_as_written(resp, text):
    err = transport()._status_error(resp, resp.content, "list tasks", 2)
    assert str(err) == text


def test_a_single_try_is_not_counted_and_a_429_without_retry_after_says_no_wait():
    resp = answer(429)
    assert str(transport()._status_error(resp, b"", "list tasks", 1)) == (
        "Could not list tasks: the server is limiting how fast we may ask (HTTP 429). Wait a little and try again.")


URL = httpx.URL("http://api.example:8080/v1/tasks")


@pytest.mark.parametrize(("exc", "text"), [
    (httpx.ConnectTimeout("t"), "could not connect to http://api.example:8080 within 2.5 s"),
    (httpx.ConnectError("[Errno 111] Connection refused"),
     "cannot reach the server at http://api.example:8080 (connection refused): check that it is running and that the URL is right"),
    (httpx.ConnectError("no route for k?>~ x"),
     "cannot reach the server at http://api.example:8080 (no route for ***): check that it is running and that the URL is right"),
    (httpx.ConnectError(""),
     "cannot reach the server at http://api.example:8080 (connection failed): check that it is running and that the URL is right"),
    (httpx.ReadTimeout("t"), "the server at http://api.example:8080 did not answer within 7 s"),
    (httpx.PoolTimeout("t"), "too many requests were already waiting for a connection"),
    (httpx.WriteError("t"), "the connection to http://api.example:8080 broke while sending the request"),
    (httpx.RemoteProtocolError("t"), "the connection to http://api.example:8080 was dropped before the answer was complete"),
    (httpx.ReadError("t"), "the connection to http://api.example:8080 was dropped before the answer was complete"),
    (httpx.UnsupportedProtocol("odd k?>~ x"), "network problem talking to http://api.example:8080 (odd ***)"),
    (httpx.UnsupportedProtocol(""), "network problem talking to http://api.example:8080 (UnsupportedProtocol)"),
])
def test_each_network_failure_reads_as_written(exc, text):
    assert str(transport()._network_error(exc, URL, "list tasks", 1)) == f"Could not list tasks: {text}."
    assert str(transport()._network_error(exc, URL, "list tasks", 3)) == f"Could not list tasks: {text} (3 tries)."


def test_a_url_without_host_is_reported_as_the_api_origin():
    err = transport()._network_error(httpx.ReadError("t"), httpx.URL("/v1/tasks"), "list tasks", 1)
    assert str(err) == ("Could not list tasks: the connection to http://127.0.0.1:9 was dropped before the answer "
                        "was complete.")




def test_the_server_clock_is_utc_whatever_the_machine_says(clock_not_on_utc):
    got = server_date(httpx.Response(200, headers={"Date": "Tue, 01 Dec 2026 20:00:00 GMT"}))
    assert got.utcoffset().total_seconds() == 0 and got.hour == 20


def test_an_excerpt_of_bytes_that_are_not_utf8_shows_replacement_characters():
    assert transport().excerpt(b"\xff abc", 10) == "\ufffd abc"


def test_an_excerpt_of_a_short_body_is_the_whole_body():
    assert transport().excerpt(b"abcdefghij", 10) == "abcdefghij"


def test_a_malformed_answer_shows_80_characters_and_counts_its_tries():
    t = transport()
    err = t.malformed("list tasks", "not JSON", b"a" * 100)
    assert str(err) == "Could not list tasks: not JSON. It began: '" + "a" * 80 + "'."
    assert err.attempts == 1
    assert t.malformed("list tasks", "not JSON", b"x", 3).attempts == 3


@pytest.mark.parametrize("body", [b"   <html><p>down", b"<html><p>down", b"\n<!DOCTYPE html>"])
def test_an_html_page_is_recognised_by_its_start(body):
    err = transport()._status_error(answer(500, body), body, "list tasks", 1)
    assert str(err) == ("Could not list tasks: the server failed (HTTP 500: the answer was an HTML page, not JSON: a "
                        "proxy or gateway in between may be failing). It may be overloaded or down; try again later.")


def test_network_errors_name_a_url_without_port_count_two_tries_and_keep_their_attempts():
    t = transport()
    err = t._network_error(httpx.ReadError("t"), httpx.URL("http://api.example/v1"), "list tasks", 2)
    assert str(err) == ("Could not list tasks: the connection to http://api.example was dropped before the "
                        "answer was complete (2 tries).")
    assert err.attempts == 2


def test_no_timeout_reads_as_zero_seconds():
    t = Transport(httpx.URL("http://127.0.0.1:9/v1"), KEY, timeout=httpx.Timeout(None), retry=RetryPolicy.none(),
                  max_connections=1, user_agent="t", on_answer=lambda r: None, replays_writes=lambda: False)
    assert str(t._network_error(httpx.ConnectTimeout("t"), URL, "x", 1)) == (
        "Could not x: could not connect to http://api.example:8080 within 0 s.")
    assert str(t._network_error(httpx.ReadTimeout("t"), URL, "x", 1)) == (
        "Could not x: the server at http://api.example:8080 did not answer within 0 s.")


@pytest.mark.parametrize(("exc", "text"), [
    (httpx.ConnectError("e" * 200),
     "cannot reach the server at http://api.example:8080 (" + "e" * 119 + "…): check that it is running and that the URL is right"),
    (httpx.UnsupportedProtocol("e" * 200), "network problem talking to http://api.example:8080 (" + "e" * 119 + "…)"),
])
def test_a_long_exception_text_is_cut_at_120_characters(exc, text):
    assert str(transport()._network_error(exc, URL, "list tasks", 1)) == f"Could not list tasks: {text}."


@pytest.mark.parametrize(("code", "cls_name"), [
    (401, "AuthError"), (404, "NotFoundError"), (409, "ConflictError"), (500, "ServerError"),
    (400, "InvalidRequestError"), (499, "InvalidRequestError"), (302, "MalformedResponseError"),
])
def test_every_refusal_carries_its_code_message_and_tries(code, cls_name):
    err = transport()._status_error(answer(code, b'{"error": "why"}'), b'{"error": "why"}', "x", 2)
    assert type(err).__name__ == cls_name
    assert (err.status_code, err.server_message, err.attempts) == (code, "why", 2)
    silent = transport()._status_error(answer(code), b"", "x", 1)
    assert silent.server_message is None


def test_a_refusal_at_each_end_of_the_4xx_range_reads_as_a_refusal():
    for code in (400, 499):
        assert str(transport()._status_error(answer(code), b"", "x", 1)) == (
            f"Could not x: the server refused the request (HTTP {code}).")


def test_a_four_character_key_and_a_key_with_a_slash_are_scrubbed_in_every_form():
    assert transport("abcd").scrub("x abcd y") == "x *** y"
    assert transport("a/b c").scrub("<a%2Fb%20c> <a%2Fb+c>") == "<***> <***>"


def test_an_excerpt_of_a_body_of_repeated_keys_has_exactly_the_stars_its_window_leaves():
    # worked out by hand: the key's longest form (the base64 of "K"*40 + ":") is 56 characters,
    # so an excerpt of 100 reads a window of 100*4 + 4*56 = 624 bytes: 15 whole keys and 24
    # bytes of the 16th, scrubbed to 15 * "***" + 24 "K" = 69 characters; more follows, so the
    # window's last 55 characters go (a piece of a key may hide there): 14 stars are left
    key = "K" * 40
    body = (key * 20).encode()
    assert transport(key).excerpt(body, 100) == "*" * 14
    # an excerpt of 10: 40 + 224 = 264 bytes, 6 keys and 24 bytes, 18 + 24 = 42 characters,
    # fewer than the 55 to drop: nothing is left
    assert transport(key).excerpt(body, 10) == ""


def test_only_padding_is_stripped_from_a_base64_form():
    # "abcdeW" is six bytes: its base64, "YWJjZGVX", has no padding and ends in X; only '='
    # may be stripped to make the unpadded form, so "YWJjZGV" is not the key and stays
    t = transport("abcdeW")
    assert t.scrub("Basic YWJjZGVX") == "Basic ***"
    assert t.scrub("a YWJjZGV b") == "a YWJjZGV b"
