"""Files and folders livevent writes (store, spool, recordings, exports): its user's only.

What is said at a private event, and the store of who may speak at it, must not
be readable by every account on the host: files are created 0600 and folders
0700, whatever the process's umask. A folder that already exists is left as its
owner made it; the systemd unit sets `UMask=0077` for everything else.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """`path` and its missing parents, each new one created 0700."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # another process made it first
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path) -> Path:
    """`path`, created empty if it is not there, and made 0600 if this user owns it.

    A store or spool an older version left world-readable is closed on next open.
    """
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(descriptor).st_uid == os.geteuid():
            os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8); a new file is 0600."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


def replace_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` at once: a reader sees the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    write_private_text(temporary, text)
    os.replace(temporary, path)
