"""MNIST reading and verification, with small fake IDX files (and the real copy once)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from common.mnist import EXPECTED_SHA256, SPLITS, load_cache, save_cache
from training import dataset
from training.dataset import DatasetError


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_files() -> dict[str, bytes]:
    """Decompressed content of four small IDX files: 12 training and 5 test digits."""
    rng = np.random.default_rng(0)
    contents = {}
    for split, count in (("train", 12), ("test", 5)):
        images_name, labels_name = SPLITS[split]
        contents[images_name] = idx_bytes(rng.integers(0, 256, size=(count, 28, 28)))
        contents[labels_name] = idx_bytes(rng.integers(0, 10, size=count))
    return contents


def hashes_of(contents: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}


def write_files(folder: Path, contents: dict[str, bytes], compress: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_good_files_load(tmp_path: Path, fake_files: dict[str, bytes], compress: bool) -> None:
    write_files(tmp_path, fake_files, compress)
    mnist = dataset.fetch(tmp_path, False, [], hashes_of(fake_files))
    assert mnist.x_train.shape == (12, 28, 28) and mnist.x_test.shape == (5, 28, 28)
    assert mnist.y_train.shape == (12,) and mnist.x_train.dtype == np.uint8
    expected = np.frombuffer(fake_files[SPLITS["test"][0]][16:], dtype=np.uint8).reshape(5, 28, 28)
    np.testing.assert_array_equal(mnist.x_test, expected)


def test_cache_round_trip(tmp_path: Path, fake_files: dict[str, bytes]) -> None:
    write_files(tmp_path / "src", fake_files, True)
    mnist = dataset.fetch(tmp_path / "src", False, [], hashes_of(fake_files))
    save_cache(mnist, tmp_path / "cache" / "mnist.npz")
    again = load_cache(tmp_path / "cache" / "mnist.npz")
    np.testing.assert_array_equal(again.x_train, mnist.x_train)
    np.testing.assert_array_equal(again.y_test, mnist.y_test)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["mnist.npz"]  # no temporary left


def test_corrupt_file_names_file_and_both_hashes(tmp_path: Path, fake_files: dict[str, bytes]) -> None:
    hashes = hashes_of(fake_files)
    name = SPLITS["train"][0]
    fake_files[name] = fake_files[name][:-1] + b"\x01"
    write_files(tmp_path, fake_files, True)
    with pytest.raises(DatasetError) as caught:
        dataset.fetch(tmp_path, False, [], hashes)
    message = str(caught.value)
    assert f"{name}.gz" in message
    assert hashes[name] in message and hashlib.sha256(fake_files[name]).hexdigest() in message
    assert "delete" in message  # what to do


def test_truncated_gzip_is_reported(tmp_path: Path, fake_files: dict[str, bytes]) -> None:
    hashes = hashes_of(fake_files)
    write_files(tmp_path, fake_files, True)
    name = SPLITS["test"][1]
    path = tmp_path / f"{name}.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DatasetError, match=r"corrupt or truncated") as caught:
        dataset.fetch(tmp_path, False, [], hashes)
    assert str(path) in str(caught.value) and hashes[name] in str(caught.value)


def test_truncated_raw_file_fails_the_hash(tmp_path: Path, fake_files: dict[str, bytes]) -> None:
    hashes = hashes_of(fake_files)
    name = SPLITS["test"][0]
    fake_files[name] = fake_files[name][:100]
    write_files(tmp_path, fake_files, False)
    with pytest.raises(DatasetError, match="wrong content"):
        dataset.fetch(tmp_path, False, [], hashes)


def test_missing_file_without_download(tmp_path: Path, fake_files: dict[str, bytes]) -> None:
    hashes = hashes_of(fake_files)
    name = SPLITS["train"][1]
    del fake_files[name]
    write_files(tmp_path, fake_files, True)
    with pytest.raises(DatasetError, match="missing") as caught:
        dataset.fetch(tmp_path, False, [], hashes)
    assert name in str(caught.value) and "MNIST_DIR" in str(caught.value)


def test_bad_idx_header(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="IDX"):
        dataset.parse_idx(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab", "x")
    with pytest.raises(DatasetError, match="declares 3 bytes"):
        dataset.parse_idx(b"\x00\x00\x08\x01\x00\x00\x00\x03ab", "x")


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP mirror on loopback serving the files in a folder."""
    served = tmp_path / "mirror"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()


def test_download_from_mirror(tmp_path: Path, fake_files: dict[str, bytes], mirror: tuple[str, Path]) -> None:
    url, served = mirror
    write_files(served, fake_files, True)
    target = tmp_path / "data"
    mnist = dataset.fetch(target, True, ["http://127.0.0.1:9/unreachable/", url], hashes_of(fake_files))
    assert mnist.x_train.shape == (12, 28, 28)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{name}.gz" for name in fake_files)


def test_download_of_bad_content_keeps_nothing(
    tmp_path: Path, fake_files: dict[str, bytes], mirror: tuple[str, Path]
) -> None:
    url, served = mirror
    hashes = hashes_of(fake_files)
    name = SPLITS["train"][0]
    fake_files[name] = fake_files[name][:-5]
    write_files(served, fake_files, True)
    target = tmp_path / "data"
    with pytest.raises(DatasetError, match="no mirror gave a good copy") as caught:
        dataset.fetch(target, True, [url], hashes)
    assert "wrong content" in str(caught.value)
    assert not any(path.name.startswith(name) for path in target.iterdir())


def test_real_mnist_verifies(mnist_dir: Path) -> None:
    mnist = dataset.fetch(mnist_dir, False, [], EXPECTED_SHA256)
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
    assert np.bincount(mnist.y_test, minlength=10).sum() == 10000
