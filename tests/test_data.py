"""Tests for numvae.data.idx (the IDX file format) and numvae.data (datasets, download, binarize).

Nothing here touches the network or the real cache: downloads go to a local
HTTP server on 127.0.0.1, and HOME, XDG_CACHE_HOME and NUMVAE_DATA are
redirected into tmp_path by the `isolated_env` fixture.
"""

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import write_idx

from numvae.data import datasets as data
from numvae.data.datasets import ChecksumError, DataUnavailableError, binarize, download_files, load_dataset, search_dirs
from numvae.data.idx import IDXFormatError, read_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


def sample_array(dtype, shape, seed=0):
    """Values that use the whole range of small dtypes, and sign, where there is one."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return rng.normal(scale=1e3, size=shape).astype(dtype)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Point HOME at an empty folder and clear NUMVAE_DATA / XDG_CACHE_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("NUMVAE_DATA", raising=False)
    return home


def write_fake_mnist(directory, n_train=20, n_test=10, *, gz=True, seed=0):
    """Write the four IDX files of a tiny MNIST-like dataset; return the arrays."""
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    for role, array in arrays.items():
        write_idx(directory / (data.IDX_FILES[role] + (".gz" if gz else "")), array)
    return arrays


# ---------------------------------------------------------------- IDX format


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0, 28, 28), (1, 1, 1, 2)])
def test_idx_round_trip(tmp_path, suffix, dtype, shape):
    array = sample_array(dtype, shape)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_read_idx_big_endian_bytes_written_by_hand(tmp_path):
    # int16 (0x0B), 1-D, 3 elements: 1, -2, 258 stored most significant byte first.
    path = tmp_path / "int16.idx"
    path.write_bytes(b"\x00\x00\x0b\x01" + b"\x00\x00\x00\x03" + b"\x00\x01\xff\xfe\x01\x02")
    values = read_idx(path)
    assert values.dtype == np.int16 and values.dtype.isnative
    assert values.tolist() == [1, -2, 258]

    # float64 (0x0E), shape (2, 1).
    path = tmp_path / "f8.idx"
    path.write_bytes(b"\x00\x00\x0e\x02" + struct.pack(">II", 2, 1) + struct.pack(">2d", 0.5, -3.25))
    values = read_idx(path)
    assert values.shape == (2, 1) and values.dtype == np.float64
    assert values.ravel().tolist() == [0.5, -3.25]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "a.gz").rename(tmp_path / "gzipped-but-no-suffix")
    assert (tmp_path / "gzipped-but-no-suffix").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "gzipped-but-no-suffix"), array)

    write_idx(tmp_path / "raw", array)
    (tmp_path / "raw").rename(tmp_path / "raw-but-named.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "raw-but-named.gz"), array)


VALID_UBYTE = b"\x00\x00\x08\x01" + struct.pack(">I", 6) + bytes(range(6))


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + VALID_UBYTE[4:], "bad magic"),
    (b"\x00\x00\x0a\x01" + VALID_UBYTE[4:], "unknown type code 0x0A"),
    (b"\x00\x00\x08\x00", "number of dimensions is 0"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 6), "truncated header"),
    (VALID_UBYTE[:-3], "truncated: expected 6 bytes of data after the header, found 3"),
    (VALID_UBYTE + b"\x00\x00", "trailing bytes: expected 6 bytes of data after the header, found 8"),
    (gzip.compress(VALID_UBYTE)[:-12], "gzip"),
    (b"\x1f\x8b" + b"not a gzip stream at all", "gzip"),
    (gzip.compress(b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + b"\x00" * 5), "truncated"),
])
def test_malformed_idx_raises_with_file_name(tmp_path, content, problem):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message
    assert isinstance(info.value, ValueError)


def test_truncated_message_has_the_documented_form(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 60000, 28, 28) + bytes(1000))
    with pytest.raises(IDXFormatError, match=r"truncated") as info:
        read_idx(path)
    assert str(info.value) == (
        f"{path}: truncated: expected 47040000 bytes of data after the header, found 1000")


# ---------------------------------------------------------------- datasets from IDX files


def test_load_from_data_dir(tmp_path, isolated_env):
    arrays = write_fake_mnist(tmp_path / "mine")
    ds = load_dataset("mnist", data_dir=tmp_path / "mine")
    assert ds.name == "mnist"
    assert ds.x_train.shape == (20, 784) and ds.x_test.shape == (10, 784)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.y_train.shape == (20,) and ds.y_test.shape == (10,)
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    np.testing.assert_allclose(ds.x_train * 255, arrays["train_images"].reshape(20, 784), atol=1e-4)
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    assert not (isolated_env / ".cache").exists(), "the cache must not be touched"


def test_load_raw_files_in_dataset_subfolder_with_float64(tmp_path, isolated_env):
    arrays = write_fake_mnist(tmp_path / "d" / "mnist", gz=False)
    ds = load_dataset("mnist", data_dir=tmp_path / "d", dtype=np.float64)
    assert ds.x_test.dtype == np.float64
    np.testing.assert_array_equal(ds.x_test, arrays["test_images"].reshape(10, 784) / 255.0)


def test_subfolder_wins_over_flat_files(tmp_path, isolated_env):
    write_fake_mnist(tmp_path / "d", seed=1)
    wanted = write_fake_mnist(tmp_path / "d" / "mnist", n_train=5, n_test=3, seed=2)
    ds = load_dataset("mnist", data_dir=tmp_path / "d")
    np.testing.assert_array_equal(ds.y_train, wanted["train_labels"])


@pytest.mark.parametrize("subfolder", [False, True])
def test_load_from_numvae_data_env(tmp_path, isolated_env, monkeypatch, subfolder):
    root = tmp_path / "env-data"
    arrays = write_fake_mnist(root / "fashion-mnist" if subfolder else root)
    monkeypatch.setenv("NUMVAE_DATA", str(root))
    ds = load_dataset("fashion-mnist", dtype=np.float64)
    assert ds.name == "fashion-mnist" and ds.x_train.shape == (20, 784)
    np.testing.assert_array_equal(ds.y_train, arrays["train_labels"])


def test_load_from_cache(tmp_path, isolated_env, monkeypatch):
    arrays = write_fake_mnist(isolated_env / ".cache" / "numvae" / "mnist")
    np.testing.assert_array_equal(load_dataset("mnist").y_test, arrays["test_labels"])

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    arrays = write_fake_mnist(tmp_path / "xdg" / "numvae" / "mnist", n_train=4, n_test=2)
    assert load_dataset("mnist").x_train.shape == (4, 784)


def test_no_home_directory_is_one_clear_error(tmp_path, isolated_env, monkeypatch):
    """No HOME and no user-database entry (a container under an anonymous uid): Path.home() raises RuntimeError."""
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    for call in (lambda: search_dirs("mnist"), lambda: load_dataset("mnist"),
                 lambda: load_dataset("mnist", download=True)):
        with pytest.raises(DataUnavailableError, match="HOME is not set.*Set XDG_CACHE_HOME or NUMVAE_DATA"):
            call()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the way out the message names
    assert search_dirs("mnist") == [tmp_path / "xdg" / "numvae" / "mnist"]
    assert load_dataset("mnist5k").name == "mnist5k"  # the shipped subset needs no folder


def test_search_order(tmp_path, isolated_env, monkeypatch):
    assert search_dirs("mnist") == [isolated_env / ".cache" / "numvae" / "mnist"]
    monkeypatch.setenv("NUMVAE_DATA", str(tmp_path / "env"))
    assert search_dirs("mnist") == [tmp_path / "env" / "mnist", tmp_path / "env"]
    assert search_dirs("mnist", tmp_path / "arg") == [tmp_path / "arg" / "mnist", tmp_path / "arg"]
    assert search_dirs("fashion-mnist")[-1] == FASHION_SYSTEM_DIR


def test_mismatched_counts_raise(tmp_path, isolated_env):
    write_fake_mnist(tmp_path / "d")
    write_idx(tmp_path / "d" / "t10k-labels-idx1-ubyte.gz", np.zeros(9, np.uint8))
    with pytest.raises(ValueError, match="10 images but .*t10k-labels-idx1-ubyte.gz holds 9 labels"):
        load_dataset("mnist", data_dir=tmp_path / "d")


def test_labels_out_of_range_raise(tmp_path, isolated_env):
    write_fake_mnist(tmp_path / "d")
    write_idx(tmp_path / "d" / "train-labels-idx1-ubyte.gz", np.full(20, 10, np.uint8))
    with pytest.raises(ValueError, match="labels must be in 0..9"):
        load_dataset("mnist", data_dir=tmp_path / "d")


def test_images_of_wrong_size_raise(tmp_path, isolated_env):
    write_fake_mnist(tmp_path / "d")
    write_idx(tmp_path / "d" / "t10k-images-idx3-ubyte.gz", np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(IDXFormatError, match=r"t10k-images-idx3-ubyte.gz: expected uint8 images"):
        load_dataset("mnist", data_dir=tmp_path / "d")


def test_not_found_lists_directories_and_remedies(tmp_path, isolated_env, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})
    write_fake_mnist(tmp_path / "d" / "mnist")  # the wrong dataset's folder
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("fashion-mnist", data_dir=tmp_path / "d")
    message = str(info.value)
    for expected in [str(tmp_path / "d" / "fashion-mnist"), str(tmp_path / "d"),
                     "download=True", "--download", "--data-dir"]:
        assert expected in message
    assert not (tmp_path / "d" / "fashion-mnist").exists()


@pytest.mark.parametrize("download", [False, True])
@pytest.mark.parametrize("through", ["data_dir", "NUMVAE_DATA"])
def test_a_data_directory_that_is_a_file_is_named(tmp_path, isolated_env, monkeypatch, through, download):
    a_file = tmp_path / "mnist.tar.gz"
    a_file.write_bytes(b"not a directory")
    kwargs = {"data_dir": a_file} if through == "data_dir" else {}
    if through == "NUMVAE_DATA":
        monkeypatch.setenv("NUMVAE_DATA", str(a_file))
    with pytest.raises(ValueError) as info:
        load_dataset("mnist", download=download, **kwargs)
    assert str(info.value) == f"{through}: expected a directory, got the file {a_file}"
    assert a_file.read_bytes() == b"not a directory"


@pytest.mark.parametrize("kwargs, words", [
    ({"name": "cifar10"}, ["name", "'mnist5k', 'mnist', 'fashion-mnist'", "'cifar10'"]),
    ({"name": "mnist", "dtype": np.int32}, ["dtype", "int32"]),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        load_dataset(**kwargs)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_dataset_is_frozen_and_repr_is_short(tmp_path, isolated_env):
    write_fake_mnist(tmp_path / "d")
    ds = load_dataset("mnist", data_dir=tmp_path / "d")
    with pytest.raises(AttributeError):
        ds.name = "other"
    assert repr(ds) == "Dataset(name='mnist', x_train=(20, 784) float32, x_test=(10, 784) float32)"


@pytest.mark.skipif(not FASHION_SYSTEM_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_files_are_the_published_ones():
    # Debian's .gz files are upstream's with the gzip header's file name (and
    # FNAME flag) removed; restoring both reproduces the published SHA-256.
    mtimes = {"train": 1504176606, "t10k": 1504176627}  # upstream's gzip time stamps
    for file_name, expected in data.SHA256["fashion-mnist"].items():
        raw = (FASHION_SYSTEM_DIR / file_name).read_bytes()
        assert raw[:4] == b"\x1f\x8b\x08\x00"
        header = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtimes[file_name.split("-")[0]])
                  + raw[8:10] + file_name.removesuffix(".gz").encode() + b"\x00")
        assert hashlib.sha256(header + raw[10:]).hexdigest() == expected, file_name


@pytest.mark.skipif(not FASHION_SYSTEM_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package(isolated_env):
    ds = load_dataset("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0


# ---------------------------------------------------------------- download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requested: list  # set per server, records each path asked for

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requested.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/'served' on 127.0.0.1; yield (base_url, served_dir, requested_paths)."""
    served = tmp_path / "served"
    served.mkdir()
    requested = []
    handler = type("Handler", (_QuietHandler,), {"requested": requested})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(served)))
    # A short poll interval makes shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served, requested
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


PAYLOAD_DIGEST = hashlib.sha256(b"payload").hexdigest()


def digests_of(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(directory).iterdir()}


def test_download_then_load(tmp_path, http_server, isolated_env):
    base, served, requested = http_server
    arrays = write_fake_mnist(served)
    files = digests_of(served)
    paths = download_files(tmp_path / "dest", files, [base], timeout=5)
    assert sorted(paths) == sorted(files)
    for name, path in paths.items():
        assert path.read_bytes() == (served / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == sorted(files)
    ds = load_dataset("mnist", data_dir=tmp_path / "dest")
    np.testing.assert_array_equal(ds.y_train, arrays["train_labels"])

    # Verified files already in place are not fetched again.
    count = len(requested)
    download_files(tmp_path / "dest", files, [base], timeout=5)
    assert len(requested) == count


def test_load_dataset_downloads_only_when_asked(tmp_path, http_server, isolated_env, monkeypatch):
    base, served, requested = http_server
    arrays = write_fake_mnist(served)
    monkeypatch.setitem(data.MIRRORS, "mnist", [base])
    monkeypatch.setitem(data.SHA256, "mnist", digests_of(served))
    with pytest.raises(DataUnavailableError):
        load_dataset("mnist")
    assert requested == []
    ds = load_dataset("mnist", download=True)
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    cache = isolated_env / ".cache" / "numvae" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(digests_of(served))


def _damage(path, how):
    """Damage the file at `path` the way a cut download, a bad disk or a mix-up would."""
    content = path.read_bytes()
    if how == "truncated":
        path.write_bytes(content[: len(content) // 2])
    elif how == "garbage":
        path.write_bytes(b"<html>502 Bad Gateway</html>")
    elif how == "one byte changed":  # inside the deflate stream: a wrong digest, a bad CRC
        middle = len(content) // 2
        path.write_bytes(content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1:])
    elif how == "empty":
        path.write_bytes(b"")


DAMAGED = "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def damaged_cache(http_server, isolated_env, monkeypatch):
    """A cache holding all four files, one of them to be damaged; the mirror serves the good ones.

    Yields (cache_dir, served_dir, requested_paths, arrays).
    """
    base, served, requested = http_server
    arrays = write_fake_mnist(served)
    monkeypatch.setitem(data.MIRRORS, "mnist", [base])
    monkeypatch.setitem(data.SHA256, "mnist", digests_of(served))
    cache = isolated_env / ".cache" / "numvae" / "mnist"
    write_fake_mnist(cache)  # the same seed: the same bytes as the served files
    yield cache, served, requested, arrays


@pytest.mark.parametrize("how", ["truncated", "garbage", "one byte changed", "empty"])
def test_download_fetches_a_damaged_cached_file_again(damaged_cache, how):
    cache, served, requested, arrays = damaged_cache
    _damage(cache / DAMAGED, how)
    ds = load_dataset("mnist", download=True)
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    assert (cache / DAMAGED).read_bytes() == (served / DAMAGED).read_bytes()
    assert requested == [f"/{DAMAGED}"], "only the damaged file is fetched; the others check out"
    assert sorted(p.name for p in cache.iterdir()) == sorted(digests_of(served)), "no temporary left"


@pytest.mark.parametrize("how", ["truncated", "garbage", "one byte changed", "empty"])
def test_without_download_a_damaged_file_is_named_with_the_remedy(damaged_cache, how):
    cache, _, requested, _ = damaged_cache
    _damage(cache / DAMAGED, how)
    before = (cache / DAMAGED).read_bytes()
    with pytest.raises(IDXFormatError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert message.startswith(f"{cache / DAMAGED}: "), message
    for remedy in ["download=True", "--download", str(cache), "delete"]:
        assert remedy in message, message
    assert requested == [] and (cache / DAMAGED).read_bytes() == before


def test_a_damaged_file_stays_until_a_verified_copy_replaces_it(damaged_cache, monkeypatch):
    cache, served, requested, _ = damaged_cache
    _damage(cache / DAMAGED, "truncated")
    before = (cache / DAMAGED).read_bytes()
    (served / DAMAGED).write_bytes(b"not the published file")  # the mirror serves a wrong file
    with pytest.raises(ChecksumError) as info:
        load_dataset("mnist", download=True)
    message = str(info.value)
    assert f"{cache / DAMAGED}: corrupt or truncated" in message, "says why it was fetched again"
    assert "SHA-256 mismatch" in message, "and why that failed"
    assert (cache / DAMAGED).read_bytes() == before
    assert sorted(p.name for p in cache.iterdir()) == sorted(digests_of(served)), "no temporary left"


def test_a_damaged_file_in_a_folder_that_cannot_be_written_is_named_with_both_problems(
        damaged_cache, monkeypatch):
    # What atomic_write raises in a read-only folder (chmod cannot show it to root).
    def read_only(path, write):
        raise PermissionError(13, f"cannot write {path}: Permission denied")

    monkeypatch.setattr("numvae.data.download.atomic_write", read_only)
    cache, _, requested, _ = damaged_cache
    _damage(cache / DAMAGED, "truncated")
    before = (cache / DAMAGED).read_bytes()
    with pytest.raises(PermissionError) as info:
        load_dataset("mnist", download=True)
    message = str(info.value)
    assert f"{cache / DAMAGED}: corrupt or truncated" in message, f"says why it was fetched again: {message}"
    assert f"cannot write {cache / DAMAGED}: Permission denied" in message, message
    assert info.value.errno == 13
    assert (cache / DAMAGED).read_bytes() == before and requested == []


def test_download_leaves_a_damaged_file_outside_the_download_directory_alone(
        tmp_path, damaged_cache, isolated_env):
    _, served, requested, arrays = damaged_cache
    flat = tmp_path / "mine"  # data_dir itself, searched after data_dir/mnist, where downloads go
    write_fake_mnist(flat)
    _damage(flat / DAMAGED, "garbage")
    ds = load_dataset("mnist", data_dir=flat, download=True)
    np.testing.assert_array_equal(ds.y_train, arrays["train_labels"])
    assert sorted(p.name for p in (flat / "mnist").iterdir()) == sorted(digests_of(served))
    assert (flat / DAMAGED).read_bytes() == b"<html>502 Bad Gateway</html>", "not the download's to touch"


def test_wrong_digest_keeps_nothing(tmp_path, http_server):
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")
    actual = hashlib.sha256(b"payload").hexdigest()
    with pytest.raises(ChecksumError) as info:
        download_files(tmp_path / "dest", {"file.gz": "0" * 64}, [base], timeout=5)
    message = str(info.value)
    assert "file.gz" in message and "0" * 64 in message and actual in message
    assert list((tmp_path / "dest").iterdir()) == [], "no final file and no temporary"


def test_first_mirror_404_then_second_works(tmp_path, http_server):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    files = {"file.gz": hashlib.sha256(b"payload").hexdigest()}
    download_files(tmp_path / "dest", files, [base + "nowhere/", base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload"
    assert requested == ["/nowhere/file.gz", "/file.gz"]
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["file.gz"]


def test_all_mirrors_fail_lists_each(tmp_path, http_server):
    base, _, _ = http_server
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "dest", {"file.gz": "0" * 64}, [base + "a", base + "b/"], timeout=5)
    message = str(info.value)
    assert f"{base}a/file.gz" in message and f"{base}b/file.gz" in message and "404" in message
    assert list((tmp_path / "dest").iterdir()) == []


def test_server_down_is_a_clear_error(tmp_path):
    with socket.socket() as sock:  # a port that was free a moment ago and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(DataUnavailableError, match="could not download file.gz") as info:
        download_files(tmp_path / "dest", {"file.gz": "0" * 64}, [url], timeout=2)
    assert f"{url}file.gz" in str(info.value)
    assert list((tmp_path / "dest").iterdir()) == []


class _ScriptedHandler(http.server.BaseHTTPRequestHandler):
    """Answers GET with ``self.script(handler)``, a function the test supplies."""

    script = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).script(self)


@pytest.fixture
def scripted_server():
    """Start a server on 127.0.0.1 whose answer is ``script(handler)``; yields start(script) -> base URL."""
    servers = []

    def start(script):
        handler = type("Handler", (_ScriptedHandler,), {"script": staticmethod(script)})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_body_cut_short_is_a_network_failure_and_the_next_mirror_is_tried(
        tmp_path, http_server, scripted_server):
    base, served, _ = http_server
    payload = bytes(range(256)) * 20
    (served / "file.gz").write_bytes(payload)

    def cut_short(handler):  # promises the whole file, sends a fifth, hangs up
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload[:1024])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)

    broken = scripted_server(cut_short)
    files = {"file.gz": hashlib.sha256(payload).hexdigest()}
    download_files(tmp_path / "dest", files, [broken, base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == payload, "the second mirror's file"

    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", files, [broken], timeout=5)
    assert not isinstance(info.value, ChecksumError), f"a dropped connection is not a wrong file: {info.value}"
    assert f"{broken}file.gz: connection closed after 1,024 of 5,120 bytes" in str(info.value)
    assert list((tmp_path / "only").iterdir()) == []


def test_a_connection_reset_mid_body_is_not_called_a_write_error(tmp_path, scripted_server):
    payload = bytes(50_000)

    def reset(handler):  # part of the body, then a TCP reset (SO_LINGER 0)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload[:1000])
        handler.wfile.flush()
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()

    url = scripted_server(reset)
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "dest", {"file.gz": hashlib.sha256(payload).hexdigest()}, [url], timeout=5)
    message = str(info.value)
    assert f"{url}file.gz: " in message and "reset" in message, message
    assert "cannot write" not in message, f"the network failed, not the disk: {message}"
    assert list((tmp_path / "dest").iterdir()) == []


def _trickle(handler, head, body, *, every=0.2, give_up_after=8.0):
    """Send ``head`` at once, then ``body`` one byte every ``every`` seconds.

    Stops after ``give_up_after`` seconds (so a client that waits for ever
    fails the test instead of hanging it) or when the client has gone.
    """
    handler.wfile.write(head)
    handler.wfile.flush()
    stop = time.monotonic() + give_up_after
    try:
        for i in range(len(body)):
            if time.monotonic() > stop:
                break
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
            time.sleep(every)
    except OSError:
        pass  # the client hung up: what a client that gives up does
    handler.close_connection = True


_TRICKLED = bytes(range(256)) * 40  # 10,240 bytes


def _headers(length):
    return f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode()


@pytest.mark.parametrize("how", ["body", "headers", "after a fast start", "body without length"])
def test_a_server_that_trickles_is_given_up_on_and_the_next_mirror_is_tried(
        tmp_path, http_server, scripted_server, how):
    # Each read brings a byte well within the timeout, so a timeout on reads alone never fires.
    base, served, _ = http_server
    (served / "file.gz").write_bytes(_TRICKLED)
    files = {"file.gz": hashlib.sha256(_TRICKLED).hexdigest()}
    head, body = _headers(len(_TRICKLED)), _TRICKLED
    if how == "headers":
        head, body = b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"z" * 1000 + b"\r\n"
    if how == "after a fast start":
        head, body = head + _TRICKLED[:5000], _TRICKLED[5000:]
    if how == "body without length":  # its end is the connection's: cut, it would look complete
        head = b"HTTP/1.0 200 OK\r\n\r\n"
    trickler = scripted_server(lambda handler: _trickle(handler, head, body))

    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", files, [trickler], timeout=1)
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert f"{trickler}file.gz: too slow: " in message, message
    assert "bytes/s" in message, message
    assert elapsed < 6, f"gave up after {elapsed:.1f} s; the rule allows about 2 s"
    assert list((tmp_path / "only").iterdir()) == []

    download_files(tmp_path / "dest", files, [trickler, base], timeout=1)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == _TRICKLED, "the second mirror's file"
    assert "numvae-watchdog" not in [thread.name for thread in threading.enumerate()]


@pytest.fixture
def tls_trickler():
    """https:// URL of a 127.0.0.1 server that answers a TLS hello one byte at a time.

    It announces a 16,000-byte handshake record, then sends a byte every
    0.2 s, for 8 s at most: the handshake never ends, yet no read times out.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve():
        conn, _ = listener.accept()
        with conn:
            try:
                conn.sendall(b"\x16\x03\x03\x3e\x80")  # TLS record header: handshake, 16,000 bytes
                for _ in range(40):
                    if done.wait(0.2):
                        break
                    conn.sendall(b"\x00")
            except OSError:
                pass  # the client hung up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/"
    done.set()
    listener.close()
    thread.join(timeout=10)


def test_a_tls_handshake_that_trickles_is_given_up_on(tmp_path, tls_trickler):
    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "dest", {"file.gz": "0" * 64}, [tls_trickler], timeout=1)
    elapsed = time.monotonic() - start
    assert f"{tls_trickler}file.gz: too slow: " in str(info.value), str(info.value)
    assert elapsed < 6, f"gave up after {elapsed:.1f} s; the rule allows about 2 s"
    assert list((tmp_path / "dest").iterdir()) == []


def test_a_slow_but_steady_download_is_not_cut_off(tmp_path, scripted_server):
    # 5 windows of timeout=0.5 s, each bringing about 40 times the minimum.
    payload = bytes(range(256)) * 400  # 102,400 bytes
    piece = 2048

    def steady(handler):
        handler.wfile.write(_headers(len(payload)))
        for i in range(0, len(payload), piece):
            handler.wfile.write(payload[i:i + piece])
            handler.wfile.flush()
            time.sleep(0.05)

    url = scripted_server(steady)
    start = time.monotonic()
    download_files(tmp_path / "dest", {"file.gz": hashlib.sha256(payload).hexdigest()}, [url], timeout=0.5)
    assert time.monotonic() - start > 4 * 0.5, "the download lasted several windows"
    assert (tmp_path / "dest" / "file.gz").read_bytes() == payload


@pytest.mark.parametrize("promise", [True, False])
def test_a_mirror_that_sends_too_much_is_given_up_on_before_the_disk_fills(
        tmp_path, http_server, scripted_server, monkeypatch, promise):
    # Endless bytes were written until the disk was full, then blamed on the disk:
    # "cannot write ...: No space left on device".
    monkeypatch.setattr("numvae.data.download.MAX_BYTES", 10_000)
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")

    def endless(handler):
        handler.send_response(200)
        if promise:
            handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        try:
            for _ in range(100):  # 6.4 MB at most, so the test ends without the fix too
                handler.wfile.write(bytes(65536))
        except OSError:
            pass  # the client hung up

    url = scripted_server(endless)
    files = {"file.gz": PAYLOAD_DIGEST}
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", files, [url], timeout=5)
    assert not isinstance(info.value, ChecksumError), str(info.value)
    expected = ("promises 1,000,000,000,000 bytes" if promise else "sent more than 10,000 bytes")
    assert f"{url}file.gz: {expected}, more than numvae downloads (10,000 bytes, " in str(info.value)
    assert list((tmp_path / "only").iterdir()) == []
    download_files(tmp_path / "dest", files, [url, base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload"


def test_a_target_that_cannot_be_written_stops_at_once_naming_it(tmp_path, http_server):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    (tmp_path / "dest" / "file.gz").mkdir(parents=True)  # in the way of the download
    files = {"file.gz": hashlib.sha256(b"payload").hexdigest()}
    with pytest.raises(OSError) as info:
        download_files(tmp_path / "dest", files, [base, base], timeout=5)
    assert not isinstance(info.value, DataUnavailableError), f"not a mirror's fault: {info.value}"
    assert str(info.value) == f"[Errno 21] cannot write {tmp_path / 'dest' / 'file.gz'}: Is a directory"
    assert requested == ["/file.gz"], "the same file is not fetched again from the next mirror"
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["file.gz"]


def test_download_refuses_a_file_without_digest(tmp_path, http_server):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    with pytest.raises(DataUnavailableError, match="no known SHA-256 digest for file.gz"):
        download_files(tmp_path / "dest", {"file.gz": None}, [base], timeout=5)
    assert requested == []


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), None, "5"])
def test_a_timeout_that_is_not_a_positive_number_is_refused_before_any_request(tmp_path, http_server, timeout):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    files = {"file.gz": hashlib.sha256(b"payload").hexdigest()}
    with pytest.raises(ValueError) as info:  # None or inf would wait for ever on a silent server
        download_files(tmp_path / "dest", files, [base], timeout=timeout)
    assert str(info.value) == f"timeout: expected a finite number > 0, got {timeout!r}"
    assert requested == [] and not (tmp_path / "dest").exists()


@pytest.mark.parametrize("digest", ["zz", "0" * 63, "g" * 64, " " + "0" * 64])
def test_a_malformed_digest_is_refused_before_any_request(tmp_path, http_server, digest):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    with pytest.raises(ValueError) as info:  # not a ChecksumError blaming the downloaded file
        download_files(tmp_path / "dest", {"file.gz": digest}, [base], timeout=5)
    assert str(info.value) == f"files: expected a SHA-256 digest (64 hex digits) for file.gz, got {digest!r}"
    assert requested == []


@pytest.mark.parametrize("change, message", [
    ({"files": ["file.gz"]}, "files: expected a mapping of file name to SHA-256 digest, got ['file.gz']"),
    ({"files": {"file.gz": 123}}, "files: expected a SHA-256 digest (64 hex digits) for file.gz, got 123"),
    ({"files": {"../file.gz": PAYLOAD_DIGEST}}, "files: expected a plain file name, got '../file.gz'"),
    ({"files": {"served/file.gz": PAYLOAD_DIGEST}}, "files: expected a plain file name, got 'served/file.gz'"),
    ({"files": {"": PAYLOAD_DIGEST}}, "files: expected a plain file name, got ''"),
    ({"files": {b"file.gz": PAYLOAD_DIGEST}}, "files: expected a plain file name, got b'file.gz'"),
    ({"mirrors": "BASE"}, "mirrors: expected a list of base URLs, got the string 'BASE'"),
    ({"mirrors": iter(["BASE"])}, None),  # an iterator is read once, for every file
    ({"mirrors": ["127.0.0.1/"]}, "mirrors: expected http:// or https:// URLs, got '127.0.0.1/'"),
    ({"mirrors": ["ftp://127.0.0.1/"]}, "mirrors: expected http:// or https:// URLs, got 'ftp://127.0.0.1/'"),
    ({"mirrors": [None]}, "mirrors: expected http:// or https:// URLs, got None"),
    ({"mirrors": ["http://[::1/"]}, "mirrors: expected http:// or https:// URLs, got 'http://[::1/'"),
    ({"mirrors": []}, "mirrors: expected at least one base URL, got []"),
    ({"mirrors": 5}, "mirrors: expected a list of base URLs, got 5"),
    ({"timeout": 1e10}, "timeout: expected at most 86,400 seconds (a day), got 10000000000.0"),
])
def test_bad_download_arguments_are_named_before_any_request(tmp_path, http_server, change, message):
    # A string of mirrors was tried letter by letter, a file name with '..' written outside
    # dest_dir, a huge timeout raised OverflowError; others raised TypeError or AttributeError.
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    (served / "other.gz").write_bytes(b"payload")
    kwargs = {"files": {"file.gz": PAYLOAD_DIGEST}, "mirrors": [base], "timeout": 5, **change}
    if kwargs["mirrors"] == "BASE":
        kwargs["mirrors"] = base
    if message is None:
        kwargs["mirrors"] = iter([base])
        kwargs["files"] = {"file.gz": PAYLOAD_DIGEST, "other.gz": PAYLOAD_DIGEST}
        download_files(tmp_path / "dest", **kwargs)
        assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["file.gz", "other.gz"]
        return
    with pytest.raises(ValueError) as info:
        download_files(tmp_path / "dest", **kwargs)
    assert str(info.value) == message.replace("BASE", base)
    assert requested == [] and not (tmp_path / "dest").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]


def test_a_download_directory_that_is_a_file_is_named_as_such(tmp_path, http_server):
    base, served, requested = http_server
    (served / "file.gz").write_bytes(b"payload")
    (tmp_path / "mnist").write_bytes(b"mine")
    with pytest.raises(NotADirectoryError) as info:  # was FileExistsError: 'File exists: .../mnist'
        download_files(tmp_path / "mnist", {"file.gz": PAYLOAD_DIGEST}, [base], timeout=5)
    assert info.value.strerror == f"cannot download into {tmp_path / 'mnist'}: it is a file"
    assert requested == [] and (tmp_path / "mnist").read_bytes() == b"mine"


@pytest.mark.parametrize("download", ["False", "no", 1, None])
def test_download_must_be_true_or_false(tmp_path, isolated_env, http_server, monkeypatch, download):
    base, served, requested = http_server
    write_fake_mnist(served)
    monkeypatch.setitem(data.MIRRORS, "mnist", [base])
    monkeypatch.setitem(data.SHA256, "mnist", digests_of(served))
    with pytest.raises(ValueError) as info:  # "False" is a true string: it downloaded
        load_dataset("mnist", download=download)
    assert str(info.value) == f"download: expected True or False, got {download!r}"
    assert requested == []


def test_digest_tables_are_complete():
    for name in ("mnist", "fashion-mnist"):
        assert sorted(data.SHA256[name]) == sorted(f"{stem}.gz" for stem in data.IDX_FILES.values())
        assert all(len(d) == 64 and int(d, 16) >= 0 for d in data.SHA256[name].values())
        assert data.MIRRORS[name]


# ---------------------------------------------------------------- binarize


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binarize_threshold(dtype):
    x = np.array([[0.0, 0.2, 0.5, 0.51, 1.0]], dtype=dtype)
    out = binarize(x, "threshold")
    assert out.dtype == dtype and out.shape == x.shape
    assert out.tolist() == [[0, 0, 0, 1, 1]]  # x > 0.5: a grey level of exactly 0.5 is 0


def test_binarize_none_returns_input():
    x = np.linspace(0, 1, 7)
    assert binarize(x, "none") is x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binarize_dynamic_mean_matches_probability(dtype):
    rng = np.random.default_rng(0)
    n_draws = 4000
    probs = np.array([0.0, 0.05, 0.3, 0.5, 0.9, 1.0], dtype=dtype)
    x = np.broadcast_to(probs, (n_draws, probs.size))
    bits = binarize(x, "dynamic", rng=rng)
    assert bits.dtype == dtype and bits.shape == x.shape
    assert set(np.unique(bits).tolist()) <= {0.0, 1.0}
    # Each column mean is a binomial proportion: standard error sqrt(p (1 - p) / n).
    stderr = np.sqrt(probs * (1 - probs) / n_draws)
    np.testing.assert_array_less(np.abs(bits.mean(axis=0) - probs), 5 * stderr + 1e-12)


def test_binarize_dynamic_reproducible_with_seed():
    x = np.random.default_rng(3).random((8, 784))
    a = binarize(x, "dynamic", rng=np.random.default_rng(42))
    b = binarize(x, "dynamic", rng=np.random.default_rng(42))
    c = binarize(x, "dynamic", rng=np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, words", [
    ({"method": "otsu"}, ["method", "'none', 'threshold', 'dynamic'", "'otsu'"]),
    ({"method": "dynamic"}, ["rng", "Generator"]),
    ({"method": "dynamic", "rng": np.random.RandomState(0)}, ["rng", "Generator"]),
])
def test_binarize_errors(kwargs, words):
    with pytest.raises(ValueError) as info:
        binarize(np.zeros(3), **kwargs)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_a_redirect_to_ftp_is_not_followed(tmp_path, scripted_server):
    # urllib follows a redirect to ftp://, a connection the watchdog cannot see:
    # a trickling FTP server would then be waited on for ever.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    target = f"ftp://127.0.0.1:{listener.getsockname()[1]}/file.gz"

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = scripted_server(redirect)
    try:
        with pytest.raises(DataUnavailableError) as info:
            download_files(tmp_path / "dest", {"file.gz": PAYLOAD_DIGEST}, [url], timeout=1)
        with pytest.raises(BlockingIOError):
            listener.accept()[0].close()  # no connection was made to the FTP address
    finally:
        listener.close()
    message = str(info.value)
    assert f"{url}file.gz: " in message and f"redirect to {target} not followed" in message, message
    assert list((tmp_path / "dest").iterdir()) == []


@pytest.mark.parametrize("length", [None, "0"])
def test_an_empty_body_is_a_network_failure_and_the_next_mirror_is_tried(
        tmp_path, http_server, scripted_server, length):
    # A server that hangs up right after its headers (HTTP/1.0 style, no
    # Content-Length) sent nothing: that is no wrong file, and must not stop
    # every mirror with a SHA-256 mismatch.
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")

    def hang_up(handler):
        handler.send_response(200)
        if length is not None:
            handler.send_header("Content-Length", length)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True

    empty = scripted_server(hang_up)
    download_files(tmp_path / "dest", {"file.gz": PAYLOAD_DIGEST}, [empty, base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload", "the second mirror's file"
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", {"file.gz": PAYLOAD_DIGEST}, [empty], timeout=5)
    assert not isinstance(info.value, ChecksumError), info.value
    assert f"{empty}file.gz: sent an empty body (0 bytes)" in str(info.value)
    assert list((tmp_path / "only").iterdir()) == []


@pytest.mark.parametrize("location", ["http://[", "http://\u00e9xample.invalid/file.gz"])
def test_a_redirect_urllib_cannot_follow_is_a_mirror_failure(tmp_path, http_server, scripted_server, location):
    # urllib raises ValueError (Invalid IPv6 URL) or UnicodeEncodeError for these:
    # they stopped every mirror, naming none.
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = scripted_server(redirect)
    download_files(tmp_path / "dest", {"file.gz": PAYLOAD_DIGEST}, [url, base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload", "the second mirror's file"
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", {"file.gz": PAYLOAD_DIGEST}, [url], timeout=5)
    assert f"{url}file.gz: unusable answer (" in str(info.value), info.value
    assert list((tmp_path / "only").iterdir()) == []


def test_the_body_of_a_redirect_is_not_read(tmp_path, http_server, scripted_server):
    # urllib read a redirect's whole body into memory: a server sending one for
    # ever filled it. 50 MB here; the client must hang up long before.
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")
    size, written = 50 << 20, []

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", base + "file.gz")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        chunk, sent = bytes(1 << 16), 0
        try:
            while sent < size:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client hung up
            pass
        written.append(sent)

    url = scripted_server(redirect)
    download_files(tmp_path / "dest", {"file.gz": PAYLOAD_DIGEST}, [url], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload"
    deadline = time.monotonic() + 30
    while not written and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written and written[0] < size, f"the client read {written} of {size:,} bytes of a redirect"


def test_a_redirect_loop_is_a_mirror_failure_on_one_line(tmp_path, http_server, scripted_server):
    base, served, _ = http_server
    (served / "file.gz").write_bytes(b"payload")

    def loop(handler):
        handler.send_response(302)
        handler.send_header("Location", handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    url = scripted_server(loop)
    download_files(tmp_path / "dest", {"file.gz": PAYLOAD_DIGEST}, [url, base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == b"payload", "the second mirror's file"
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", {"file.gz": PAYLOAD_DIGEST}, [url, url], timeout=5)
    lines = str(info.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(f"  {url}file.gz: ") for line in lines[1:]), lines
    assert "infinite loop" in lines[1]


def test_a_body_compressed_in_transit_is_a_mirror_failure(tmp_path, http_server, scripted_server):
    # A .gz labelled "Content-Encoding: gzip" (as Apache does) is the file itself and is
    # kept; one compressed again in transit is not a wrong file: the next mirror is tried.
    base, served, _ = http_server
    payload = gzip.compress(b"payload")
    (served / "file.gz").write_bytes(payload)
    files = {"file.gz": hashlib.sha256(payload).hexdigest()}

    def serve(handler):
        body = gzip.compress(payload) if "again" in handler.path else payload
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    url = scripted_server(serve)
    download_files(tmp_path / "labelled", files, [url + "label/"], timeout=5)
    assert (tmp_path / "labelled" / "file.gz").read_bytes() == payload
    download_files(tmp_path / "dest", files, [url + "again/", base], timeout=5)
    assert (tmp_path / "dest" / "file.gz").read_bytes() == payload, "the second mirror's file"
    with pytest.raises(DataUnavailableError) as info:
        download_files(tmp_path / "only", files, [url + "again/"], timeout=5)
    assert not isinstance(info.value, ChecksumError), info.value
    assert "Content-Encoding: gzip" in str(info.value)
    assert list((tmp_path / "only").iterdir()) == []
