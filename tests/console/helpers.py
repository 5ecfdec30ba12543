"""What the console's tests share: logging in through the form, and reading a page's CSRF token."""

from __future__ import annotations

import re

import httpx


async def login(http: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    form = await http.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    return await http.post("/console/login", data={"login_token": token.group(1), "name": name, "password": password})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
