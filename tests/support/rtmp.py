"""Debian's nginx with libnginx-mod-rtmp, as a streaming platform's RTMP ingest: it
records every stream it receives to `{folder}/{stream key}.flv`, for ffprobe to read."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.proxy import NGINX
from tests.support.servers import free_port, wait_for_port

MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


@dataclass
class RtmpServer:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def recording(self, key: str) -> Path:
        return self.folder / "records" / f"{key}.flv"

    def start(self) -> None:
        records = self.folder / "records"
        records.mkdir(parents=True, exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.folder / "rtmp.conf"
        conf.write_text(
            f"""load_module {MODULE};
{user}pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log info;
worker_processes 1;
events {{ worker_connections 256; }}
rtmp {{
    server {{
        listen 127.0.0.1:{self.port};
        application live {{
            live on;
            record all;
            record_path {records};
            record_unique off;
        }}
    }}
}}
"""
        )
        with (self.folder / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(self.folder), "-c", str(conf), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        wait_for_port(self.port, "the RTMP server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def rtmp_server(folder: Path) -> RtmpServer:
    """An RTMP server on a free port of its own, not started yet."""
    folder.mkdir(parents=True, exist_ok=True)
    return RtmpServer(folder, free_port())
