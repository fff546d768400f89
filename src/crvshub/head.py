"""Answer HEAD on every GET route: run the request as GET and send the headers only."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD request is served by its GET route, without the body.

    FastAPI routes declared with `@router.get` do not answer HEAD (405), yet HTTP says every
    GET resource answers HEAD (RFC 9110 §9.3.2) and load balancers probe `/healthz` with it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve HEAD as GET, dropping every body chunk but keeping Content-Length."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last, empty chunk below ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server still sees HEAD and must not send a body either.
        await self.app({**scope, "method": "GET"}, receive, headers_only)
