"""Access control: every route of ours refuses anonymous and wrong-token requests, the
upload endpoint refuses before reading a byte, and browsers cannot be made to post."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.utils import JupyterServerAuthWarning
from tornado.routing import Rule
from tornado.web import RequestHandler

from .conftest import NOTHING_STORED, Fetch
from .wire import CONTENT_TYPE, MIB, chunks, error_code, file_form, raw_request

SOME_ID = "0123456789abcdef0123456789abcdef"
WITH_BODY = {"POST", "PUT", "PATCH"}


def routes_of(web_app: Any) -> dict[str, type[RequestHandler]]:
    """Every (pattern, handler class) the server registered whose pattern is ours."""
    found: dict[str, type[RequestHandler]] = {}

    def walk(rules: list[Rule]) -> None:
        for rule in rules:
            target = rule.target
            if isinstance(target, type) and issubclass(target, RequestHandler):
                pattern = rule.matcher.regex.pattern  # type: ignore[attr-defined]
                if "/dsagent/" in pattern:
                    found[pattern] = target
            elif hasattr(target, "rules"):
                walk(target.rules)

    walk(web_app.default_router.rules)
    return found


def implemented_methods(handler: type[RequestHandler]) -> set[str]:
    return {
        method
        for method in handler.SUPPORTED_METHODS
        if getattr(handler, method.lower()) is not RequestHandler._unimplemented_method
    }


def url_for(pattern: str) -> str:
    url = pattern.removesuffix("$").replace("([^/]+)", SOME_ID).replace("(?:/.*)?", "/x")
    assert not re.search(r"[()\[\]*+?$^\\]", url), url
    return url


def requests_to_try(web_app: Any) -> Iterator[tuple[str, str]]:
    """(method, url) for every method every route of ours implements; the catch-all,
    which implements none and answers in prepare(), with each common method."""
    for pattern, handler in routes_of(web_app).items():
        methods = implemented_methods(handler) - {"OPTIONS"} or {"GET", "POST", "DELETE"}
        for method in sorted(methods):
            yield method, url_for(pattern)


def test_our_only_unauthenticated_method_is_jupyters_cors_preflight(jp_serverapp: Any) -> None:
    routes = routes_of(jp_serverapp.web_app)
    assert len(routes) == 10  # uploads 3, audit 2, health, model gateway 3, catch-all
    open_methods = {
        (handler.__name__, method)
        for handler in routes.values()
        for method in implemented_methods(handler)
        if hasattr(getattr(handler, method.lower()), "__allow_unauthenticated")
    }
    assert {method for _, method in open_methods} == {"OPTIONS"}


@pytest.mark.parametrize(
    "credentials",
    [{}, {"Authorization": "token not-the-token"}],
    ids=["anonymous", "wrong-token"],
)
async def test_every_route_and_method_refuses_without_the_right_token(
    jp_serverapp: Any,
    http_server_client: Any,
    credentials: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
) -> None:
    tried = []
    for method, url in requests_to_try(jp_serverapp.web_app):
        body = file_form("a.csv", b"a,b\n1,2\n") if method in WITH_BODY else None
        headers = {**credentials, **({"Content-Type": CONTENT_TYPE} if body else {})}
        response = await http_server_client.fetch(
            url,
            method=method,
            body=body,
            headers=headers,
            raise_error=False,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        assert (response.code, error_code(response)) == (403, "unauthorized"), (method, url)
        tried.append(method)
    assert {"GET", "POST", "DELETE"} <= set(tried) and len(tried) >= 9
    assert stored() == NOTHING_STORED


def test_server_start_raises_no_auth_warning(
    jp_configurable_serverapp: Callable[..., Any], jp_server_config: Any
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = jp_configurable_serverapp(config=jp_server_config)
    assert [w for w in caught if issubclass(w.category, JupyterServerAuthWarning)] == []
    assert len(routes_of(app.web_app)) == 10


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_tokenless_200mb_stream_is_refused_before_any_byte_is_kept(
    port: int,
    jp_base_url: str,
    chunked: bool,
    stored: Callable[[], dict[str, list[str]]],
) -> None:
    size = 200 * 10**6
    headers = {"Content-Type": CONTENT_TYPE}
    if not chunked:
        headers["Content-Length"] = str(size)
    response = await raw_request(
        port, "POST", f"{jp_base_url}dsagent/api/uploads", headers, chunks(size), chunked=chunked
    )
    assert (response.status, response.code) == (403, "unauthorized")
    # Answered from the headers: the client could only fill socket buffers meanwhile.
    assert response.sent < 32 * MIB
    assert stored() == NOTHING_STORED


async def test_a_browser_cannot_be_made_to_post_with_its_login_cookie(
    api: Fetch,
    http_server_client: Any,
    jp_base_url: str,
    stored: Callable[[], dict[str, list[str]]],
) -> None:
    # A token request logs the browser in: the server sets its login cookie.
    login = await api("uploads")
    cookie = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert "username-" in cookie

    async def post(headers: dict[str, str]) -> Any:
        return await http_server_client.fetch(
            f"{jp_base_url}dsagent/api/uploads",
            method="POST",
            body=file_form("a.csv", b"a,b\n1,2\n"),
            headers={"Content-Type": CONTENT_TYPE, **headers},
            raise_error=False,
        )

    cross_site = await post({"Cookie": cookie, "Origin": "http://evil.example"})
    assert cross_site.code in (403, 404)
    assert error_code(cross_site) in ("unauthorized", "not_found")
    same_site_no_xsrf = await post({"Cookie": cookie})
    assert (same_site_no_xsrf.code, error_code(same_site_no_xsrf)) == (403, "unauthorized")
    assert stored() == NOTHING_STORED
    # The cookie itself is valid: with the double-submitted XSRF token the post goes through.
    control = await post({"Cookie": f"{cookie}; _xsrf=abc123", "X-XSRFToken": "abc123"})
    assert control.code == 201, control.body


class ReadOnlyAuthorizer(Authorizer):
    """Allows reading only, and remembers every (action, resource) it was asked about."""

    asked: ClassVar[set[tuple[str, str]]] = set()

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        self.asked.add((action, resource))
        return action == "read"


@pytest.mark.serverapp(authorizer_class=ReadOnlyAuthorizer)
async def test_read_only_authorizer_gets_403_on_every_write_before_the_body(
    api: Fetch,
    port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    stored: Callable[[], dict[str, list[str]]],
    runtime: Any,
) -> None:
    ReadOnlyAuthorizer.asked.clear()
    for parts in (("uploads",), ("audit",), ("audit", "verify"), ("health",)):
        assert (await api(*parts)).code == 200, parts

    size = 60 * 10**6
    headers = {**jp_auth_header, "Content-Type": CONTENT_TYPE, "Content-Length": str(size)}
    posted = await raw_request(
        port, "POST", f"{jp_base_url}dsagent/api/uploads", headers, chunks(size)
    )
    assert (posted.status, posted.code) == (403, "unauthorized")
    assert posted.sent < 32 * MIB
    deleted = await api("uploads", SOME_ID, method="DELETE")
    assert (deleted.code, error_code(deleted)) == (403, "unauthorized")
    assert stored() == NOTHING_STORED

    assert ReadOnlyAuthorizer.asked >= {
        ("read", "jupyter_dsagent:uploads"),
        ("write", "jupyter_dsagent:uploads"),
        ("read", "jupyter_dsagent:audit"),
        ("read", "jupyter_dsagent:health"),
    }
    denials = runtime.audit.query(kind="auth.denied")
    assert {(d.details["method"], d.subject) for d in denials} == {
        ("POST", "/dsagent/api/uploads"),
        ("DELETE", "/dsagent/api/uploads/{id}"),
    }
