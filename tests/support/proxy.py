"""Debian's nginx running the shipped deploy/nginx.conf in front of livevent instances.

The kit's settings (the lines marked `kit:`) get the test's values: the instances'
ports, free HTTP and HTTPS ports, and a self-signed certificate for localhost made
here with `cryptography`. Nothing else of the file changes, so what is tested is what
ships. nginx runs in the foreground with its own prefix, pid and logs in the test's
folder, and is stopped at the end.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from livevent.client import SpeakerClient
from tests.support.servers import free_port, wait_for_port

KIT = Path(__file__).parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    return chain, private


def render(
    upstreams: list[int],
    http: int,
    https: int,
    chain: Path,
    key: Path,
    api: list[int] | None = None,
) -> str:
    """The shipped file with the test's values on its `kit:` lines, and nothing else.
    `api`: the api role's instances (by default the same, serving every role)."""
    text = KIT.read_text()
    shipped = re.search(r"    server live:8080(?P<options>[^;]*);", text)
    assert shipped, "deploy/nginx.conf no longer has its kit's server line"
    options = shipped["options"]  # what the kit sets per instance, kept as shipped
    servers = "".join(f"    server 127.0.0.1:{port}{options};\n" for port in upstreams)
    apis = "".join(f"    server 127.0.0.1:{port}{options};\n" for port in api or upstreams)
    replaced = {
        r"    server live:8080[^;]*;[^\n]*\n": servers,
        r"    server api:8080[^;]*;[^\n]*\n": apis,
        r"listen 80;[^\n]*": f"listen 127.0.0.1:{http};",
        r"proxy_cache_path /var/cache/nginx/livevent-hls ": (
            f"proxy_cache_path {chain.parent / 'hls-cache'} "
        ),
        r"listen 443 ssl;[^\n]*": f"listen 127.0.0.1:{https} ssl;",
        r"ssl_certificate     [^;]+;[^\n]*": f"ssl_certificate     {chain};",
        r"ssl_certificate_key [^;]+;[^\n]*": f"ssl_certificate_key {key};",
    }
    for pattern, value in replaced.items():
        text, count = re.subn(pattern, value.replace("\\", "\\\\"), text)
        assert count == 1, f"deploy/nginx.conf no longer has one line like {pattern!r}"
    log = chain.parent / "livevent.access.log"
    text, count = re.subn(r"access_log [^ ]+ livevent;", f"access_log {log} livevent;", text)
    assert count == 2, "deploy/nginx.conf no longer logs both servers in its own format"
    return text


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    http: int
    https: int
    certificate: Path
    folder: Path

    def url(self, path: str) -> str:
        return f"https://localhost:{self.https}{path}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the test's certificate (and only it)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def access_log(self) -> str:
        path = self.folder / "livevent.access.log"
        return path.read_text() if path.exists() else ""

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""


def start_proxy(folder: Path, upstreams: list[int], *, api: list[int] | None = None) -> Proxy:
    folder.mkdir(parents=True, exist_ok=True)
    chain, key = self_signed(folder)
    http, https = free_port(), free_port()
    (folder / "livevent.conf").write_text(render(upstreams, http, https, chain, key, api))
    main = folder / "nginx.conf"
    # Workers run as the test's own user: the cache is written in the test's folder,
    # which only that user may enter (as root, nginx would switch them to nobody).
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"""{user}pid {folder}/nginx.pid;
error_log {folder}/error.log info;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/livevent.conf;
}}
"""
    )
    with (folder / "stderr.log").open("wb") as stderr:  # the child keeps its own copy
        process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_port(https, "nginx")
    except AssertionError:
        process.kill()
        why = (folder / "stderr.log").read_text()
        raise AssertionError(f"nginx did not start: {why}") from None
    return Proxy(process, http, https, chain, folder)


async def speak_through(proxy: Proxy, path: str, chunk: bytes, stop: asyncio.Event) -> int:
    """Talk through the proxy in real time (`chunk` every 100 ms) to `path` (/speak/...
    with its token); on a drop, reconnect at once, as the speak page does. Returns how
    many times it reconnected."""
    url = proxy.url(path).replace("https://", "wss://")
    drops = -1
    connector = aiohttp.TCPConnector(ssl=proxy.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as http:
        while not stop.is_set():
            drops += 1
            try:
                async with http.ws_connect(url) as ws:
                    await SpeakerClient(ws).greeted(within=10)
                    while not stop.is_set() and not ws.closed:
                        await ws.send_bytes(chunk)
                        await asyncio.sleep(0.1)  # a microphone's pace
            except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError):
                await asyncio.sleep(0.05)  # the proxy has no instance for a moment
    return drops
