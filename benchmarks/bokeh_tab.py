"""A browser tab of `zpb serve` as the server sees it, without a browser: the same HTTP requests (the
login form with its XSRF token, the page with its session token) and the same websocket messages
(Bokeh's protocol: the document pulled, then patches both ways), from a few lines of Python instead of
a Chromium renderer. bench_serve.py drives 20 of these at once to measure the server alone: 20
Chromiums on the same two cores take most of the CPU themselves.

What a tab sends is what Bokeh's own JavaScript sends for the same action: a property change
(``set``), a button's click event (``click``) and FileDropper's chunked upload events (``upload``),
each as a PATCH-DOC message. What it waits for is a text appearing in the document kept in step with
the server's patches (``until_text``).
"""
from __future__ import annotations

import asyncio
import html
import re
from http.cookies import SimpleCookie
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

from bokeh.client.websocket import WebSocketClientConnectionWrapper
from bokeh.document import Document
from bokeh.document.events import DocumentChangedEvent, MessageSentEvent
from bokeh.events import ButtonClick, DocumentReady
from bokeh.models import Model
from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

# Panel's FileDropper model and its upload event (the module is Panel's Bokeh extension)
from panel.models.file_dropper import UploadEvent

TOKEN = re.compile(r'"token":\s*"([^"]+)"')
XSRF = re.compile(r'name="_xsrf" value="([^"]+)"')


class TabError(RuntimeError):
    pass


class Upload(UploadEvent):
    """Panel's upload event with its data sent too (its Python class is made to receive, not send)."""

    def event_values(self) -> dict[str, Any]:
        return {**super().event_values(), "data": self.data}


class Tab:
    """One browser tab: its cookies, its websocket and the document as the server last said it is."""

    def __init__(self, base: str, timeout: float = 300.0):
        self.base, self.timeout = base.rstrip("/"), timeout
        self.cookies: dict[str, str] = {}
        self.doc = Document()
        self.protocol = Protocol()
        self.socket: WebSocketClientConnectionWrapper | None = None
        self.changed = asyncio.Event()  # set on each patch from the server
        self.reader: asyncio.Task | None = None
        self.outgoing: list[DocumentChangedEvent] = []
        self.applying = False

    # ---------------------------------------------------------------- HTTP

    async def fetch(self, path: str, *, method: str = "GET", body: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, body, Location) of one request with the tab's cookies; the cookies it sets kept."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = HTTPRequest(self.base + path, method=method, headers=headers, body=data,
                              follow_redirects=False, request_timeout=self.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPClientError as exc:  # pragma: no cover — raise_error=False returns it
            response = exc.response
        for raw in response.headers.get_list("Set-Cookie"):
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return response.code, response.body.decode("utf-8", "replace"), response.headers.get("Location", "")

    async def log_in(self, login: str, password: str) -> None:
        """The login form, as a browser submits it (its XSRF token from the form and its cookie)."""
        code, page, _ = await self.fetch("/login")
        token = XSRF.search(page)
        if code != 200 or token is None:
            raise TabError(f"the login form: HTTP {code}")
        code, _, where = await self.fetch("/login", method="POST", body={
            "_xsrf": html.unescape(token.group(1)), "login": login, "password": password, "next": "/", "lang": "pl"})
        if code != 302:
            raise TabError(f"the login of {login}: HTTP {code}, not a redirect")

    # ---------------------------------------------------------------- the page and its websocket

    async def open(self, path: str = "/") -> None:
        """The app's page (the server builds the session's document), then its websocket and the
        document pulled through it, as Bokeh's JavaScript does."""
        code, page, where = await self.fetch(path)
        if code != 200:
            raise TabError(f"the page: HTTP {code} {where}")
        token = TOKEN.search(page)
        if token is None:
            raise TabError("the page has no session token")
        parts = urlsplit(self.base)
        url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/ws"
        request = HTTPRequest(url, headers={"Origin": self.base, "Cookie": "; ".join(
            f"{k}={v}" for k, v in self.cookies.items())}, request_timeout=self.timeout)
        socket = await websocket_connect(request, subprotocols=["bokeh", token.group(1)],
                                         max_message_size=64 * 2 ** 20)
        self.socket = WebSocketClientConnectionWrapper(socket)
        self.receiver = Receiver(self.protocol)
        ack = await self._read()
        if ack.msgtype != "ACK":
            raise TabError(f"the websocket answered {ack.msgtype}, not ACK")
        await self._send(self.protocol.create("PULL-DOC-REQ"))
        reply = await self._read()
        if reply.msgtype != "PULL-DOC-REPLY":
            raise TabError(f"the websocket answered {reply.msgtype}, not the document")
        self.applying = True
        try:
            reply.push_to_document(self.doc)
        finally:
            self.applying = False
        self.doc.callbacks.on_change(self._local_change)
        self.reader = asyncio.ensure_future(self._read_on())
        # what Bokeh's JavaScript says once the page is drawn: Panel's onload callbacks start on it
        await self._send(self.protocol.create("PATCH-DOC", [MessageSentEvent(self.doc, "bokeh_event", DocumentReady())]))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.socket is not None:
            self.socket._socket.close()

    async def _read(self) -> Any:
        while True:
            fragment = await self.socket._socket.read_message()
            if fragment is None:
                raise TabError("the server closed the websocket")
            message = await self.receiver.consume(fragment)
            if message is not None:
                return message

    async def _read_on(self) -> None:
        try:
            await self._read_patches()
        finally:
            self.changed.set()  # a waiter sees the end

    async def _read_patches(self) -> None:
        while True:
            message = await self._read()
            if message.msgtype == "PATCH-DOC":
                self.applying = True
                try:
                    message.apply_to_document(self.doc, self)
                finally:
                    self.applying = False
                self.changed.set()
            elif message.msgtype == "ERROR":
                raise TabError(f"the server: {message.content}")

    async def _send(self, message: Any) -> None:
        await message.send(self.socket)

    def _local_change(self, event: DocumentChangedEvent) -> None:
        if not self.applying and getattr(event, "setter", None) is not self:
            self.outgoing.append(event)

    async def _flush(self) -> None:
        events, self.outgoing = self.outgoing, []
        if events:
            await self._send(self.protocol.create("PATCH-DOC", events))

    # ---------------------------------------------------------------- what a user does

    def find_all(self, kind: str, test: Callable[[Any], bool]) -> list[Any]:
        """The page's models of Bokeh type ``kind`` (its class name) that pass ``test``."""
        return [m for m in self.doc.models if type(m).__name__ == kind and test(m)]

    def find(self, kind: str, test: Callable[[Any], bool]) -> Any:
        """The one model of that type and test (several: a page that has changed, an error)."""
        hits = self.find_all(kind, test)
        if len(hits) != 1:
            raise TabError(f"{len(hits)} {kind} of that kind on the page, not one")
        return hits[0]

    async def set(self, model: Model, attr: str, value: Any) -> None:
        setattr(model, attr, value)
        await self._flush()

    async def click(self, button: Model) -> None:
        await self._event(button, ButtonClick(button))

    async def upload(self, dropper: Model, name: str, data: bytes, mime: str, chunk_size: int = 1_000_000) -> None:
        """FileDropper's chunks, each an event, as its JavaScript sends them (one more chunk than
        the size needs is never sent: ceil((size + 1) / chunk_size) chunks, the last possibly empty)."""
        chunks = (len(data) + 1 + chunk_size - 1) // chunk_size
        for i in range(chunks):
            part = data[i * chunk_size:(i + 1) * chunk_size]
            await self._event(dropper, Upload(dropper, data={
                "chunk": i + 1, "data": part, "name": name, "total_chunks": chunks, "type": mime}))

    async def _event(self, model: Model, event: Any) -> None:
        await self._send(self.protocol.create("PATCH-DOC", [MessageSentEvent(self.doc, "bokeh_event", event)]))

    def text(self) -> str:
        """Every text of the page's HTML panes, unescaped (Panel sends them escaped)."""
        return "\n".join(html.unescape(getattr(m, "text", "") or "") for m in self.doc.models
                         if type(m).__name__ == "HTML")

    async def until(self, test: Callable[[], Any]) -> Any:
        """Until ``test()`` is true on the document as the server last patched it: its value."""
        async def wait() -> Any:
            while True:
                found = test()
                if found:
                    return found
                if self.reader is not None and self.reader.done():
                    self.reader.result()  # raises what ended it
                    raise TabError("the websocket closed")
                self.changed.clear()
                await self.changed.wait()
        return await asyncio.wait_for(wait(), self.timeout)

    async def until_text(self, *wanted: str, refused: str = "zpb-refused") -> str:
        """Until one of ``wanted`` is on the page (the first found); a refusal's text raised."""
        def test() -> str | None:
            page = self.text()
            for w in wanted:
                if w in page:
                    return w
            if refused and refused in page:
                raise TabError("refused: " + re.sub(r"<[^>]+>", " ", page[page.index(refused):][:400]))
            return None
        return await self.until(test)
