"""A bare ASGI app that answers with the client address uvicorn put in scope["client"].

tests/security/test_forwarded_headers.py serves it with the Dockerfile's own uvicorn command."""

import json


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({"client": scope["client"][0] if scope.get("client") else None}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"json")]}
    )
    await send({"type": "http.response.body", "body": body})
