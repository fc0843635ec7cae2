"""Real CalDAV servers no one here wrote, started as subprocesses on loopback: Radicale (HTTP,
htpasswd with a plain entry) and Xandikos (its own ``--htpasswd`` needs HTTPS, so it serves
``--autocert`` with a certificate made here for 127.0.0.1, which clients verify). Each gets a
free port, a storage folder of its own and one user with an app password. For tests, the
bench and the demo."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

KINDS = ("radicale", "xandikos")
USER = "maria@firm.test"
PASSWORD = "app-pw-7Hq2-xV9k-Lm4t"
CALENDAR = "calendar"


@dataclass
class CalDavServer:
    """One running server. ``url`` is its root (the adapter's ``server_url``); ``verify`` is
    what an ``httpx`` client passes to trust it (a CA file for Xandikos' HTTPS)."""

    kind: str
    url: str
    root: Path
    username: str
    password: str
    process: subprocess.Popen[bytes]
    ca_file: str | None = None
    principal_path: str = ""
    calendar_path: str = ""
    log: Path = field(default_factory=Path)
    others: dict[str, str] = field(default_factory=dict)
    """The other users of the same server (Radicale): username -> password."""

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What an ``httpx`` client passes as ``verify`` to trust this server."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=self.ca_file)

    @property
    def calendar_url(self) -> str:
        return self.url.rstrip("/") + self.calendar_path

    def client(self, **kwargs: object) -> httpx.Client:
        """A synchronous client as the user (for setting up and inspecting the server)."""
        return httpx.Client(
            auth=(self.username, self.password),
            verify=self.verify,
            timeout=30,
            **kwargs,  # type: ignore[arg-type]
        )

    def set_password(self, password: str) -> None:
        """Replace the user's password on the server (the old app password stops working)."""
        self.password = password
        users = {**self.others, self.username: password}
        _write_htpasswd(self.kind, self.root / "htpasswd", users)

    def add_user(self, username: str, password: str) -> CalDavServer:
        """Another user of the same Radicale, with a calendar of their own: the same server
        seen as that user."""
        if self.kind != "radicale":
            raise ValueError("Xandikos serves one principal")
        self.others[username] = password
        _write_htpasswd(
            self.kind, self.root / "htpasswd", {**self.others, self.username: self.password}
        )
        other = replace(self, username=username, password=password,
                        principal_path=f"/{username}/", calendar_path=f"/{username}/{CALENDAR}/",
                        others={**self.others, self.username: self.password})  # fmt: skip
        with other.client() as http:  # the principal appears on its first visit
            http.request("PROPFIND", other.url + username + "/", headers={"Depth": "0"})
        other.reset_calendar()
        return other

    def reset_calendar(self, display_name: str = "Calendar") -> None:
        """An empty calendar at ``calendar_path`` (deleted and made again)."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"<D:displayname>{escape(display_name)}</D:displayname>"
            "</D:prop></D:set></C:mkcalendar>"
        )
        with self.client() as http:
            http.request("DELETE", self.calendar_url)
            answer = http.request(
                "MKCALENDAR",
                self.calendar_url,
                content=body.encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
            if answer.status_code not in (201, 405):
                raise RuntimeError(f"MKCALENDAR answered {answer.status_code}: {answer.text}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(kind: str, root: Path, username: str = USER, password: str = PASSWORD) -> CalDavServer:
    """Start ``kind`` (radicale or xandikos) with its data under ``root``, one user, and one
    calendar (``CALENDAR``) in the user's home; returns once it answers."""
    if kind not in KINDS:
        raise ValueError(f"unknown CalDAV server {kind!r}; one of {KINDS}")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    _write_htpasswd(kind, root / "htpasswd", {username: password})
    log = root / "server.log"
    ca_file: str | None = None
    bin_dir = Path(sys.executable).parent
    if kind == "radicale":
        command = [
            str(bin_dir / "radicale"),
            "--server-hosts", f"127.0.0.1:{port}",
            "--storage-filesystem-folder", str(root / "storage"),
            "--auth-type", "htpasswd",
            "--auth-htpasswd-filename", str(root / "htpasswd"),
            "--auth-htpasswd-encryption", "plain",
            "--logging-level", "warning",
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        principal = f"/{username}/"
    else:
        certs = root / "state" / "certs"
        _make_certificate(certs)
        command = [
            str(bin_dir / "xandikos"), "serve",
            "-d", str(root / "data"), "--state-dir", str(root / "state"),
            "--defaults", "--current-user-principal", "/user/",
            "-l", "127.0.0.1", "-p", str(port),
            "--autocert", "--htpasswd", str(root / "htpasswd"),
        ]  # fmt: skip
        url, ca_file = f"https://127.0.0.1:{port}/", str(certs / "selfsigned.crt")
        principal = "/user/"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, stdout=out, stderr=subprocess.STDOUT, cwd=root
        )
    server = CalDavServer(
        kind=kind, url=url, root=root, username=username, password=password,
        process=process, ca_file=ca_file, principal_path=principal, log=log,
    )  # fmt: skip
    try:
        _wait(server)
        server.calendar_path = _home(server) + f"{CALENDAR}/"
        server.reset_calendar()
    except BaseException:
        server.stop()
        raise
    return server


def _home(server: CalDavServer) -> str:
    if server.kind == "xandikos":
        return "/user/calendars/"
    return server.principal_path


def _wait(server: CalDavServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited: {server.log.read_text()[-2000:]}")
        try:
            with server.client() as http:
                answer = http.request("PROPFIND", server.url, headers={"Depth": "0"})
            if answer.status_code < 500:
                if server.kind == "radicale":  # the principal appears on its first visit
                    with server.client() as http:
                        http.request("PROPFIND", server.url + server.username + "/")
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.kind} did not answer in {timeout} s: {server.log.read_text()}")


def _write_htpasswd(kind: str, path: Path, users: dict[str, str]) -> None:
    """Radicale reads plain entries; Xandikos takes bcrypt or ``{SHA}`` (bcrypt would need one
    more package for a test-only file)."""
    lines = []
    for username, password in users.items():
        if kind == "radicale":
            lines.append(f"{username}:{password}\n")
        else:
            digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324
            lines.append(f"{username}:{{SHA}}{digest}\n")
    temp = path.with_suffix(".new")
    temp.write_text("".join(lines))
    temp.replace(path)


def _make_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (an IP SAN, so clients can verify it) where
    Xandikos' ``--autocert`` looks for one."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "selfsigned.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "selfsigned.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def remove(server: CalDavServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
