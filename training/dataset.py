"""MNIST: find, download, verify and cache the four IDX files.

The files may be gzip-compressed (`name.gz`) or raw (`name`). What is verified is the
SHA-256 of the decompressed content, so any faithful re-compression is accepted. The
verified images and labels are cached as one uint8 `.npz` for the later steps.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from common.config import Config
from common.errors import BuildError
from common.fsutil import atomic_path
from common.mnist import ENV_DIR, EXPECTED_SHA256, SPLITS, Mnist, local_file, resolve_dir, save_cache

DOWNLOAD_TIMEOUT_S = 60


class DatasetError(BuildError):
    """MNIST cannot be read; the message names the file and what to do."""


def _fix_hint(path: Path) -> str:
    return (
        f"delete {path} and rerun to download it again, or set {ENV_DIR} (or data.dir in the "
        "config) to a folder with a good copy"
    )


def read_verified(path: Path, name: str, hashes: dict[str, str] = EXPECTED_SHA256) -> bytes:
    """Decompressed content of `path`, checked against the known SHA-256 of `name`."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise DatasetError(
                f"{path}: corrupt or truncated gzip file ({exc}); expected SHA-256 of the content "
                f"{hashes[name]}; {_fix_hint(path)}"
            ) from None
    actual = hashlib.sha256(raw).hexdigest()
    expected = hashes[name]
    if actual != expected:
        raise DatasetError(
            f"{path}: wrong content: SHA-256 {actual}, expected {expected} (truncated, corrupt or "
            f"not MNIST); {_fix_hint(path)}"
        )
    return raw


def parse_idx(content: bytes, source: str) -> np.ndarray:
    """Parse an IDX file (unsigned-byte data) into an array of its declared shape."""
    if len(content) < 4:
        raise DatasetError(f"{source}: too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DatasetError(f"{source}: not an unsigned-byte IDX file (magic {content[:4].hex()})")
    header_end = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", content[4:header_end])
    expected_size = int(np.prod(shape))
    if len(content) - header_end != expected_size:
        raise DatasetError(
            f"{source}: IDX header declares {expected_size} bytes of data, file has {len(content) - header_end}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_end).reshape(shape)


def download(name: str, folder: Path, mirrors: list[str], hashes: dict[str, str] = EXPECTED_SHA256) -> Path:
    """Fetch `name.gz` from the first mirror that answers; verify it before keeping it."""
    target = folder / f"{name}.gz"
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        print(f"downloading {url}", file=sys.stderr)
        try:
            with atomic_path(target) as tmp:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, tmp.open("wb") as out:
                    shutil.copyfileobj(response, out)
                read_verified(tmp, name, hashes)  # raises before the bad file takes the real name
            return target
        except (urllib.error.URLError, OSError, DatasetError) as exc:
            failures.append(f"{url}: {exc}")
    raise DatasetError(
        f"{target}: missing, and no mirror gave a good copy:\n  " + "\n  ".join(failures) + "\n"
        f"Copy the four MNIST IDX files (.gz or raw) into {folder}, or set {ENV_DIR} to a folder that has them."
    )


def load_split(
    folder: Path, split: str, allow_download: bool, mirrors: list[str], hashes: dict[str, str] = EXPECTED_SHA256
) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name in SPLITS[split]:
        path = local_file(folder, name)
        if path is None:
            if not allow_download:
                raise DatasetError(
                    f"{folder / name}(.gz): missing (expected SHA-256 of the content {hashes[name]}); "
                    f"copy the MNIST IDX files there, set {ENV_DIR}, or set data.download: true"
                )
            path = download(name, folder, mirrors, hashes)
        arrays.append(parse_idx(read_verified(path, name, hashes), str(path)))
    images, labels = arrays
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise DatasetError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match")
    return images, labels


def fetch(
    folder: Path, allow_download: bool, mirrors: list[str], hashes: dict[str, str] = EXPECTED_SHA256
) -> Mnist:
    """Read (downloading if allowed and needed) and verify all of MNIST.

    `hashes` maps each file name to the SHA-256 of its decompressed content."""
    x_train, y_train = load_split(folder, "train", allow_download, mirrors, hashes)
    x_test, y_test = load_split(folder, "test", allow_download, mirrors, hashes)
    return Mnist(x_train, y_train, x_test, y_test)


def run(cfg: Config, root: Path, target: Path) -> None:
    """The `dataset` step: find (or download) MNIST, verify it and write the cache `target`."""
    folder = resolve_dir(cfg.data.dir, root)
    mnist = fetch(folder, cfg.data.download, cfg.data.mirrors)
    save_cache(mnist, target)
    print(f"MNIST verified in {folder}: {len(mnist.y_train)} training and {len(mnist.y_test)} test images")
