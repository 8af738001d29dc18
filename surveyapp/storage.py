"""The one storage location for files that outlive a request: scoring runs' inputs and
outputs (``STORAGE_DIR``, by default the instance folder). Every host of a deployment
mounts the same location; what is in it is known from :class:`StoredFile` records.
"""

import hashlib
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app

from surveyapp.extensions import db
from surveyapp.models.results import StoredFile


def root() -> Path:
    return Path(current_app.config.get("STORAGE_DIR") or current_app.instance_path)


def path(key: str) -> Path:
    """The file or folder of a storage key (keys are relative, "/"-separated)."""
    relative = PurePosixPath(key)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"not a storage key: {key!r}")
    return root().joinpath(*relative.parts)


def key_of(file: Path) -> str:
    return file.resolve().relative_to(root().resolve()).as_posix()


def _digest(file: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return file.stat().st_size, hasher.hexdigest()


def record(file: Path, name: str, kind: str, **owner) -> StoredFile:
    """A record of ``file`` (already in the storage location), added to the session."""
    size, sha256 = _digest(file)
    stored = StoredFile(key=key_of(file), name=name, kind=kind, size=size, sha256=sha256, **owner)
    db.session.add(stored)
    return stored


def refresh(file: Path) -> None:
    """Size and hash of a stored file rewritten in place (e.g. scrubbed by the purge)."""
    stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.key == key_of(file)))
    if stored is not None:
        stored.size, stored.sha256 = _digest(file)
