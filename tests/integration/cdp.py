"""A minimal Chrome DevTools Protocol client, Python stdlib only: starts headless Chromium and drives a page.

    with cdp.Browser() as browser:
        page = browser.page()
        page.navigate("http://127.0.0.1:5001/ui")
        page.evaluate("document.title")
        page.screenshot("/tmp/page.png")
        page.errors()                   # what the page logged as errors, and its uncaught exceptions

The protocol runs over a websocket; WebSocket below is the client side of RFC 6455 that CDP needs: the opening
handshake, masked text frames out, and in: text frames, fragmented messages (continuation frames), 16- and
64-bit lengths, ping (answered with pong) and close. Chromium is found as `chromium` (Debian's package; CI
installs it through FRS_TEST_PACKAGES in deploy/lib.sh) or CHROMIUM=path.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class CdpError(AssertionError):
    """The browser answered a command with an error, or went away."""


class WebSocket:
    """A websocket client connection (RFC 6455) to ws://host:port/path: text messages in and out.
    recv() keeps partial frames buffered across a timeout, so a short wait loses nothing."""

    def __init__(self, url, timeout=30):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise ValueError(f"only ws:// URLs: {url}")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self._buf = b""
        self._fragments = []
        key = base64.b64encode(os.urandom(16)).decode()
        # No Origin header: Chromium refuses websocket clients whose Origin it was not told to allow.
        request = (f"GET {u.path or '/'}{'?' + u.query if u.query else ''} HTTP/1.1\r\n"
                   f"Host: {u.hostname}:{u.port or 80}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._buf:
            self._recv_some(deadline)
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if len(lines[0].split()) < 2 or lines[0].split()[1] != "101":
            raise CdpError(f"websocket handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        want = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise CdpError("websocket handshake: wrong Sec-WebSocket-Accept")

    def _recv_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("websocket: nothing received in time")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout as e:
            raise TimeoutError("websocket: nothing received in time") from e
        if not chunk:
            raise CdpError("websocket: the browser closed the connection")
        self._buf += chunk

    def _send_frame(self, opcode, payload):
        # A client masks every frame it sends (RFC 6455 section 5.3).
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.sock.sendall(head + mask + _mask_fast(payload, mask))

    def send_text(self, text):
        self._send_frame(_OP_TEXT, text.encode())

    def _frame(self):
        """The next complete frame in the buffer as (fin, opcode, payload), or None (nothing consumed)."""
        b = self._buf
        if len(b) < 2:
            return None
        fin, opcode = b[0] & 0x80, b[0] & 0x0F
        masked, n = b[1] & 0x80, b[1] & 0x7F
        at = 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack("!Q", b[2:10])[0], 10
        mask = b""
        if masked:  # servers do not mask, but a frame that is masked is still read right
            if len(b) < at + 4:
                return None
            mask, at = b[at:at + 4], at + 4
        if len(b) < at + n:
            return None
        payload = b[at:at + n]
        self._buf = b[at + n:]
        if mask:
            payload = _mask_fast(payload, mask)
        return bool(fin), opcode, payload

    def recv(self, timeout):
        """The next text message, or None when none arrived within timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is None:
                try:
                    self._recv_some(deadline)
                except TimeoutError:
                    return None
                continue
            fin, opcode, payload = frame
            if opcode == _OP_PING:
                self._send_frame(_OP_PONG, payload)
            elif opcode == _OP_PONG:
                pass
            elif opcode == _OP_CLOSE:
                try:
                    self._send_frame(_OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise CdpError("websocket: the browser closed the connection")
            elif opcode in (_OP_TEXT, _OP_BINARY, _OP_CONT):
                # Control frames may come between the fragments of a message; data frames never do.
                self._fragments.append(payload)
                if fin:
                    message, self._fragments = b"".join(self._fragments), []
                    return message.decode("utf-8")

    def close(self):
        try:
            self._send_frame(_OP_CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def _mask_fast(payload, mask):
    """XOR with the 4-byte mask repeated, a whole integer at a time (screenshots are megabytes)."""
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class Page:
    """One page target: send(method, params) waits for the answer to that id; every event that arrives meanwhile
    is kept in self.events as (method, params)."""

    def __init__(self, ws_url, timeout=30):
        self.ws = WebSocket(ws_url, timeout)
        self.events = []
        self._next_id = 0

    def send(self, method, params=None, timeout=30):
        self._next_id += 1
        mid = self._next_id
        self.ws.send_text(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            text = self.ws.recv(left) if left > 0 else None
            if text is None:
                raise CdpError(f"{method}: no answer within {timeout} s")
            msg = json.loads(text)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append((msg["method"], msg.get("params", {})))

    def pump(self, seconds):
        """Reads the events that arrive within seconds."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            text = self.ws.recv(left)
            if text is None:
                return
            msg = json.loads(text)
            if "method" in msg:
                self.events.append((msg["method"], msg.get("params", {})))

    def wait_event(self, name, timeout=30, since=0):
        """The params of the first event called name from self.events[since:] on, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for method, params in self.events[since:]:
                if method == name:
                    return params
            if time.monotonic() >= deadline:
                raise CdpError(f"no {name} event within {timeout} s")
            self.pump(min(0.2, max(0.01, deadline - time.monotonic())))

    def enable(self, *domains):
        for d in domains:
            self.send(f"{d}.enable")

    def navigate(self, url, timeout=30):
        """Loads url and returns once its load event fired."""
        since = len(self.events)
        result = self.send("Page.navigate", {"url": url}, timeout)
        if result.get("errorText"):
            raise CdpError(f"navigate {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", timeout, since)

    def evaluate(self, expression, timeout=30):
        """The value of a JavaScript expression in the page (promises awaited, returned as JSON values)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                           timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            why = details.get("exception", {}).get("description") or details
            raise CdpError(f"evaluate {expression[:200]!r}: {why}")
        return result["result"].get("value")

    def screenshot(self, path, full_page=True):
        """Writes a PNG of the page (the whole page, not only the viewport, when full_page)."""
        params = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", params, timeout=60)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    def errors(self):
        """Every error the page reported so far: console.error and console.assert calls, uncaught exceptions and
        rejections, and the browser's own error entries (failed loads, CSP violations), as readable strings."""
        found = []
        for method, p in self.events:
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append("console." + p["type"] + ": " +
                             " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                found.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}"
                             f" at {d.get('url', '')}:{d.get('lineNumber', '')}")
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                found.append(f"log ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
        return found

    def requested_urls(self):
        """The URL of every request the page made (Network.requestWillBeSent), in order."""
        return [p["request"]["url"] for m, p in self.events if m == "Network.requestWillBeSent"]

    def close(self):
        self.ws.close()


def find_chromium():
    """The Chromium binary: CHROMIUM, else chromium (Debian) or chromium-browser on PATH; AssertionError with what to
    install when there is none."""
    given = os.environ.get("CHROMIUM")
    for candidate in ([given] if given else ["chromium", "chromium-browser"]):
        path = shutil.which(candidate)
        if path:
            return path
    raise AssertionError("Chromium not found: the browser test needs headless Chromium (Debian: apt-get install "
                         "chromium; tests/run.sh installs it with FRS_TEST_PACKAGES from deploy/lib.sh), or set "
                         "CHROMIUM=/path/to/chromium")


class Browser:
    """Headless Chromium in its own process group and profile directory, with the DevTools port it chose
    (--remote-debugging-port=0, read from DevToolsActivePort: no race for a free port). close() ends it."""

    def __init__(self, width=1440, height=1000, timeout=60):
        self.binary = find_chromium()
        self.profile = tempfile.mkdtemp(prefix="test-chromium-")
        self.log_path = os.path.join(self.profile, "chromium.log")
        argv = [self.binary, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                # As root (CI, containers) Chromium refuses to start with its sandbox.
                "--no-sandbox",
                # Nothing but the page's own requests: no update checks, sync or other calls home.
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
                f"--window-size={width},{height}", "about:blank"]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        self.port = None
        while self.port is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"Chromium exited with {self.proc.returncode} at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"Chromium did not open its DevTools port within {timeout} s:\n{self.log_tail()}")
            try:
                with open(port_file) as f:
                    self.port = int(f.readline().strip())
            except (OSError, ValueError):
                time.sleep(0.1)
        self._pages = []

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def _json(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def version(self):
        return self._json("/json/version")

    def page(self):
        """The browser's first page (about:blank at start), connected."""
        targets = [t for t in self._json("/json/list") if t.get("type") == "page"]
        if not targets:
            raise CdpError("Chromium has no page target")
        page = Page(targets[0]["webSocketDebuggerUrl"])
        self._pages.append(page)
        return page

    def close(self):
        for page in self._pages:
            page.close()
        self._pages = []
        # The whole group: the renderer, GPU and utility processes are children of the browser process.
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        else:
            self._signal_group(signal.SIGKILL)  # what a browser that died left behind
        if not self._log.closed:
            self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            sys.stderr.write(f"--- chromium log tail, {self.log_path} ---\n{self.log_tail()}\n")
        self.close()
        return False
