"""Logging in and out. The login form is protected by a double-submit token (a cookie and a field that must
match), since there is no session yet; a name or password that fails counts against the account and the
address, and past `[console] login_attempts_per_minute` the form says how long to wait."""

from __future__ import annotations

import asyncio
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.webconsole import auth
from bot.webconsole.app import Console, Who, form_of, go, guarded, page, who_is

LOGIN_COOKIE = "migrant_console_login"
FAILED_PAUSE = 1.0  # seconds every failed attempt waits before it is answered


def _login_page(console: Console, request: Request, status: int = 200, error: str = "", name: str = "") -> Response:
    token = secrets.token_urlsafe(16)
    response = page(console, request, None, "login.html", status=status, error=error, name=name, login_token=token)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=console.secure, path="/console/login"
    )
    return response


def routes(console: Console) -> list[BaseRoute]:
    async def show(request: Request) -> Response:
        if await who_is(console, request) is not None:
            return go("/queue")
        return _login_page(console, request)

    async def submit(request: Request) -> Response:
        form = await form_of(request)
        if not auth.same_token(str(form.get("login_token", "")), request.cookies.get(LOGIN_COOKIE, "")):
            return _login_page(console, request, 403, "The form had expired. Please try again.")
        name, password = str(form.get("name", "")).strip()[:64], str(form.get("password", ""))
        address = request.client.host if request.client else "-"
        keys = (f"account:{name.casefold()}", f"address:{address}")
        wait = console.limiter.wait(*keys)
        if wait > 0:
            return _login_page(
                console, request, 429, f"Too many failed attempts. Try again in {int(wait) + 1} seconds.", name
            )
        login = await console.staff.login(name) if name else None
        if login is None or not auth.verify_password(login.password_hash, password):
            if login is None:
                auth.verify_password(None, password)  # as slow as a wrong password: names cannot be probed
            console.limiter.failed(*keys)
            await asyncio.sleep(FAILED_PAUSE)
            return _login_page(console, request, 401, "Wrong name or password.", name)
        console.limiter.succeeded(keys[0])
        if login.password_hash is not None and auth.needs_rehash(login.password_hash):
            await console.staff.rehash(login.consultant_id, auth.hash_password(password))
        token = auth.new_token()
        await console.staff.start_session(login.consultant_id, auth.token_hash(token))
        await console.staff.audit(name, "login", "console")
        response = go("/queue")
        response.set_cookie(
            auth.COOKIE,
            auth.sign(console.key, token),
            httponly=True,
            samesite="strict",
            secure=console.secure,
            path="/console",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/console/login")
        return response

    async def logout(console: Console, _request: Request, who: Who) -> Response:
        await console.staff.end_session(who.token_hash)
        await console.staff.audit(who.name, "logout", "console")
        response = go("/login")
        response.delete_cookie(auth.COOKIE, path="/console")
        return response

    return [
        Route("/login", show, methods=["GET"]),
        Route("/login", submit, methods=["POST"]),
        Route("/logout", guarded(console, logout), methods=["POST"]),
    ]
