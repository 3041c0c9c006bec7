"""``cr.save`` / ``cr.load``: tensors and (nested) state dicts in NumPy's ``.npz`` format.

Arrays are stored as ``.npy`` members; the structure around them (dicts, lists, tuples and
plain Python numbers, strings, ``None``) as one JSON document. Nothing is pickled, and nothing
is unpickled, so loading a file from anywhere cannot run code.

``load`` treats its file as untrusted: it reads the zip directory and every ``.npy`` header
itself and checks the sizes they declare against ``max_bytes`` before allocating anything,
refuses what is not a regular file without opening it for long (a FIFO would block), and
answers every malformed file with one error class, ``LoadError`` (a ``ValueError``).
"""

from __future__ import annotations

import ast
import io
import json
import math
import operator
import os
import reprlib
import secrets
import stat
import struct
import zipfile
from collections import OrderedDict
from typing import IO, Any, Union, cast

import numpy as np

from .core.dtypes import unsupported
from .core.tensor import Tensor
from .nn.parameter import Parameter

__all__ = ["DEFAULT_MAX_BYTES", "LoadError", "load", "save"]

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]

_META = "__chainrule__"
_FORMAT = "chainrule.save"
_VERSION = 1
_SCALARS = (bool, int, float, str, type(None))
_ARRAY_KINDS = "biufUS"  # what an array may hold: bool, integers, floats (as tensors), strings

DEFAULT_MAX_BYTES = 1 << 30
"""What ``load`` accepts by default: files declaring at most 1 GiB of contents."""
_ENTRY_COST = 1024      # what each archive member counts at least (the Python objects it becomes)
_META_COST = 6          # the structure record counts 6x its size (24 bytes per character parsed)
_HEADER_LIMIT = 10_000  # longest .npy header read (NumPy's own limit)
_CHUNK = 1 << 20        # array data is read in pieces of this size
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this


class LoadError(ValueError):
    """``cr.load`` could not read a file: it is not a file ``cr.save``, ``np.save`` or
    ``np.savez`` wrote, it is damaged, it would need unpickling, or it declares more contents
    than ``max_bytes``. The message names ``load``, the file and what is wrong."""


# --------------------------------------------------------------------------------------------
# save

class _Packer:
    """Turns an object into a JSON-able description plus the arrays it refers to."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, data: np.ndarray, where: str) -> str:
        if data.dtype.kind not in _ARRAY_KINDS or data.dtype.fields is not None:
            why = unsupported(data.dtype) or f"dtype kind {data.dtype.kind!r}"
            if data.dtype.hasobject:
                why = f"{why}: they would need pickle"
            raise TypeError(
                f"save: {where} is an array of dtype {data.dtype} ({why}); only bool, integer, "
                f"floating-point and string arrays can be saved"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = data
        return key

    def pack(self, obj: Any, where: str) -> Any:
        # Parameter is checked before Tensor: it is a subclass.

        if isinstance(obj, Tensor):
            node: dict[str, Any] = {"type": "parameter" if isinstance(obj, Parameter) else "tensor",
                                    "key": self.array(obj._data, where)}
            if obj._requires_grad and obj._node is None:
                node["requires_grad"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "key": self.array(obj, where)}
        if isinstance(obj, np.generic):
            return {"type": "npscalar", "key": self.array(np.asarray(obj), where)}
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"type": "float", "value": repr(obj)}
        if isinstance(obj, _SCALARS):
            return obj
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(
                        f"save: {where} has a key {k!r} of type {type(k).__name__}; only str and "
                        f"int keys can be saved"
                    )
                items.append([k, self.pack(v, f"{where}[{k!r}]")])
            return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            return {"type": type(obj).__name__ if type(obj) in (list, tuple) else "list",
                    "items": [self.pack(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(
            f"save: cannot save {where} of type {type(obj).__name__}; chainrule saves tensors, "
            f"NumPy arrays, Python numbers, strings, None, and dicts, lists and tuples of these "
            f"(save a module's state_dict(), not the module)"
        )


def save(obj: Any, f: PathOrFile) -> None:
    """Save a tensor, an array, or a (nested) dict, list or tuple of them to ``f``.

    Parameters
    ----------
    obj : Tensor, ndarray, dict, list, tuple, or a Python number
        Typically ``model.state_dict()`` or ``{"model": ..., "optimizer": ...}``. Dict keys must
        be str or int; values may also be strings and ``None``. Arrays hold bool, integer,
        floating-point or string data. Tensors keep their dtype and ``requires_grad``; history
        is not saved.
    f : str, os.PathLike or binary file object
        Where to write. The name is used as given (no ``.npz`` is appended). A file on disk is
        replaced only once the new one is complete (written to a temporary file beside it, then
        renamed over it), so a failed save leaves the old file as it was. A new file gets the
        permissions ``open`` would give it (0666 less the umask); an existing one keeps its
        permissions. A symbolic link is followed: its target is replaced, the link stays. An
        existing path that is not a regular file (``/dev/null``, a FIFO) is written into.

    Raises
    ------
    TypeError
        For anything that is not in the list above (modules, functions), arrays of dtypes a
        tensor cannot have other than strings (objects, complex numbers, dates, records), and
        ``None`` or a string on its own (as values inside a dict, list or tuple they are saved).
    ValueError
        For a structure nested too deeply to describe.
    """
    if obj is None or isinstance(obj, str):
        swapped = " (the order is save(obj, f): are the arguments swapped?)" if isinstance(obj, str) else ""
        raise TypeError(
            f"save: cannot save {type(obj).__name__} {_short.repr(obj)} on its own; save takes a "
            f"tensor, a NumPy array, a number, or a dict, list or tuple of these (a state_dict()), "
            f"whose values may also be strings and None{swapped}"
        )
    packer = _Packer()
    try:
        structure = packer.pack(obj, "the object" if not isinstance(obj, dict) else "the dict")
        meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": structure})
    except RecursionError:
        raise ValueError(
            "save: the object is nested too deeply to save (dicts, lists and tuples inside one "
            "another a few hundred levels deep)"
        ) from None
    # Any: np.savez's stub types its other keywords (allow_pickle) too, which **members would fill.
    members: dict[str, Any] = dict(packer.arrays)
    members[_META] = np.array(meta)
    if hasattr(f, "write"):
        np.savez(f, **members)
        return
    _write_file(_path("save", f), members)


def _path(op: str, f: Any) -> str | bytes:
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(
            f"{op}: f must be a path (str or os.PathLike) or a binary file object, got "
            f"{type(f).__name__}"
        ) from None


_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _write_file(path: str | bytes, members: dict[str, Any]) -> None:
    target = os.path.realpath(path)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # A device or a FIFO is written into, as open() would; replacing it would be wrong.
        with open(target, "wb") as out:
            np.savez(out, **members)
        return
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o666
    directory = os.path.dirname(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_CLOEXEC
    while True:
        name = f".chainrule-{secrets.token_hex(6)}.tmp"
        temporary = (os.path.join(directory, os.fsencode(name)) if isinstance(directory, bytes)
                     else os.path.join(directory, name))
        try:
            # The kernel applies the umask to a new file's permissions, as for open().
            handle = os.open(temporary, flags, mode & 0o777)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "wb") as out:
            if existing is not None:  # keep the existing file's permissions exactly
                if hasattr(os, "fchmod"):
                    os.fchmod(out.fileno(), mode)
                else:
                    os.chmod(temporary, mode)
            np.savez(out, **members)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise


# --------------------------------------------------------------------------------------------
# load

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an archive, an empty archive
_NPY_MAGIC = b"\x93NUMPY"
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


def load(f: PathOrFile, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Load what ``save`` wrote (tensors come back as tensors, dicts as dicts).

    A plain ``.npz`` written by ``np.savez`` loads as a dict of name to tensor, and a ``.npy``
    file as a tensor. The file is treated as untrusted: nothing in it is unpickled or run.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        The file to read: a regular file (a FIFO, a device or a directory is refused without
        being read), or a seekable binary file object, read from its current position.
    max_bytes : int or None, default ``DEFAULT_MAX_BYTES`` (1 GiB)
        The most the file may declare it holds once decompressed, checked from its zip
        directory and ``.npy`` headers before anything is allocated: the arrays' sizes, with
        each archive member counted as at least 1 KiB and the structure record as 6 times its
        size (for the Python objects they become). Raise it for larger checkpoints you trust;
        ``None`` means no limit.

    Raises
    ------
    LoadError
        (a ``ValueError``) for every file that cannot be loaded: not a NumPy/chainrule file, a
        pickle file or pickled object arrays (refused, never unpickled), a damaged or truncated
        file, a malformed structure record, contents larger than ``max_bytes``, or not a
        regular file. The message names the file and what is wrong.
    OSError
        If the file cannot be opened (``FileNotFoundError``, ``PermissionError``).
    """
    limit = _max_bytes(max_bytes)
    if hasattr(f, "read"):
        name = getattr(f, "name", None)
        return _load(cast("IO[bytes]", f), f"the file object {name!r}" if isinstance(name, str) else "the file object", limit)
    path = _path("load", f)
    source = repr(path)
    with _open_regular(path, source) as stream:
        return _load(stream, source, limit)


def _max_bytes(max_bytes: Any) -> int | None:
    if max_bytes is None:
        return None
    if isinstance(max_bytes, bool):
        raise TypeError("load: max_bytes must be an int (a number of bytes) or None, got a bool")
    try:
        limit = operator.index(max_bytes)
    except TypeError:
        raise TypeError(
            f"load: max_bytes must be an int (a number of bytes) or None, got "
            f"{type(max_bytes).__name__}"
        ) from None
    if limit < 0:
        raise ValueError(f"load: max_bytes must be at least 0, got {limit}")
    return limit


_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket")]


def _require_regular(info: os.stat_result, source: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
    raise LoadError(
        f"load: {source} is {kind}, not a regular file; only files written by cr.save, np.save "
        f"or np.savez can be loaded (to read a stream, load io.BytesIO(stream.read()))"
    )


def _open_regular(path: str | bytes, source: str) -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file; never blocks on a FIFO."""
    _require_regular(os.stat(path), source)
    # Non-blocking, so that a FIFO swapped in after the stat cannot block the open.
    handle = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_BINARY | _O_CLOEXEC)
    try:
        _require_regular(os.fstat(handle), source)
        if _O_NONBLOCK:
            os.set_blocking(handle, True)
        return os.fdopen(handle, "rb")
    except BaseException:
        os.close(handle)
        raise


def _load(stream: IO[bytes], source: str, limit: int | None) -> Any:
    try:
        start = stream.tell()
        size = stream.seek(0, os.SEEK_END) - start
        stream.seek(start)
    except (AttributeError, OSError, ValueError) as exc:
        raise LoadError(
            f"load: {source} cannot be read at random positions ({exc}); pass a path, or the "
            f"bytes wrapped in io.BytesIO"
        ) from None
    head = stream.read(len(_NPY_MAGIC))
    if not isinstance(head, bytes):
        raise LoadError(f"load: {source} is not open in binary mode (it gave {type(head).__name__})")
    try:
        if head.startswith(_ZIP_MAGIC):
            return _load_zip(stream, start, size, source, limit)
        if head.startswith(_NPY_MAGIC):
            stream.seek(start)
            return Tensor._wrap(_read_npy(stream, size, source, None, limit))
    except (LoadError, MemoryError):
        raise
    except RecursionError:
        raise LoadError(f"load: {source} is nested too deeply to be a chainrule file") from None
    except Exception as exc:  # noqa: BLE001 - any failure to parse an untrusted file is a LoadError
        raise LoadError(
            f"load: {source} is not a readable NumPy .npz/.npy file ({type(exc).__name__}: {exc})"
        ) from None
    if not head:
        raise LoadError(f"load: {source} is empty; only files written by cr.save, np.save or np.savez can be loaded")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise LoadError(
            f"load: {source} is a pickle file (e.g. written by torch.save or pickle.dump); "
            f"chainrule never unpickles, because unpickling can run arbitrary code. Only "
            f"files written by cr.save, np.save or np.savez can be loaded."
        )
    raise LoadError(
        f"load: {source} is not a NumPy .npz/.npy file (it starts with {head!r}); only files "
        f"written by cr.save, np.save or np.savez can be loaded"
    )


def _too_big(source: str, what: str, limit: int) -> LoadError:
    return LoadError(
        f"load: {source} {what}, more than max_bytes={limit:,}; nothing was read. If you trust "
        f"the file, pass a larger max_bytes= (or None for no limit)"
    )


def _check_directory(stream: IO[bytes], start: int, size: int, source: str, limit: int | None) -> None:
    """Refuse a zip directory with room for more members than ``limit`` allows, before
    ``zipfile`` turns each of its entries into an object."""
    if limit is None:
        return
    tail_size = min(size, 22 + 0xFFFF)  # end record plus the longest comment
    stream.seek(start + size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # zipfile will say what is wrong
    directory_size = struct.unpack_from("<L", tail, at + 12)[0]
    if at >= 76 and tail[at - 20:at - 16] == b"PK\x06\x07" and tail[at - 76:at - 72] == b"PK\x06\x06":
        directory_size = struct.unpack_from("<Q", tail, at - 76 + 40)[0]  # zip64 end record
    entries = directory_size // 46  # the smallest directory entry is 46 bytes
    if entries * _ENTRY_COST > limit:
        raise _too_big(source, f"has a zip directory of {directory_size:,} bytes, room for "
                               f"{entries:,} members (counted as 1 KiB each)", limit)


def _load_zip(stream: IO[bytes], start: int, size: int, source: str, limit: int | None) -> Any:
    _check_directory(stream, start, size, source, limit)
    stream.seek(start)
    with zipfile.ZipFile(stream) as archive:
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in archive.infolist():
            name = info.filename
            if info.flag_bits & 0x1:
                raise LoadError(f"load: {source} entry {_short.repr(name)} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise LoadError(
                    f"load: {source} entry {_short.repr(name)} is compressed with zip method "
                    f"{info.compress_type}; only stored and deflated entries (what np.savez and "
                    f"np.savez_compressed write) are read"
                )
            stored = info.compress_type == zipfile.ZIP_STORED
            if (info.compress_size > size or (stored and info.compress_size != info.file_size)
                    or info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + _ENTRY_COST):
                raise LoadError(
                    f"load: {source} entry {_short.repr(name)} declares {info.file_size:,} bytes "
                    f"from {info.compress_size:,} compressed bytes in a file of {size:,} bytes; "
                    f"the zip directory is damaged"
                )
            key = name[:-4] if name.endswith(".npy") else name
            total += max(info.file_size * (_META_COST if key == _META else 1), _ENTRY_COST)
            members[key] = info
        if limit is not None and total > limit:
            raise _too_big(source, f"declares {total:,} bytes of contents (counted as described "
                                   f"under max_bytes)", limit)
        if _META not in members:
            return {key: Tensor._wrap(_read_member(archive, info, key, source))
                    for key, info in members.items()}
        unpacker = _Unpacker(archive, members, source)
        record = _read_member(archive, members[_META], _META, source)
        if record.dtype.kind != "U" or record.ndim != 0:
            raise unpacker.fail(f"its structure record is a {record.dtype} array, not a string")
        try:
            meta = json.loads(str(record[()]))
        except ValueError as exc:
            raise unpacker.fail(f"its structure record is not JSON ({exc})") from None
        except RecursionError:
            raise unpacker.fail("its structure record is nested too deeply") from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise unpacker.fail("its structure record has no chainrule format marker")
        version = meta.get("version")
        if type(version) is not int or version < 1:
            raise unpacker.fail(f"its structure record has no valid format version ({_short.repr(version)})")
        if version > _VERSION:
            raise unpacker.fail(
                f"it was written by a newer chainrule (format version {version}, this one reads "
                f"up to {_VERSION}); upgrade chainrule"
            )
        try:
            return unpacker.unpack(meta.get("root"))
        except RecursionError:
            raise unpacker.fail("its structure record is nested too deeply") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, source: str) -> np.ndarray:
    with archive.open(info) as member:
        return _read_npy(member, info.file_size, source, key, None)


def _read_exact(stream: IO[bytes], n: int, where: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise LoadError(f"load: {where} is truncated (its .npy header is cut short)")
    return data


def _read_npy(stream: IO[bytes], available: int, source: str, key: str | None,
              limit: int | None) -> np.ndarray:
    """Read one ``.npy`` array of at most ``available`` bytes from ``stream``, checking the
    header's shape and dtype against that before allocating the array."""
    where = source if key is None else f"{source} entry {_short.repr(key)}"
    prefix = stream.read(len(_NPY_MAGIC) + 2)
    if not prefix.startswith(_NPY_MAGIC):
        raise LoadError(
            f"load: {where} is not a NumPy array (the file is a zip archive of another kind, "
            f"e.g. a torch.save checkpoint); only files written by cr.save, np.save or np.savez "
            f"can be loaded"
        )
    if len(prefix) != len(_NPY_MAGIC) + 2:
        raise LoadError(f"load: {where} is truncated (its .npy header is cut short)")
    version = (prefix[-2], prefix[-1])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise LoadError(f"load: {where} is in .npy format version {version[0]}.{version[1]}, "
                        f"which is not one of 1.0, 2.0, 3.0")
    length_bytes = _read_exact(stream, 2 if version == (1, 0) else 4, where)
    header_length = int.from_bytes(length_bytes, "little")
    if header_length > _HEADER_LIMIT:
        raise LoadError(f"load: {where} has a .npy header of {header_length:,} bytes (NumPy "
                        f"writes at most {_HEADER_LIMIT:,}); the file is damaged")
    header = _read_exact(stream, header_length, where)
    shape, fortran_order, dtype = _parse_header(version, length_bytes + header)
    if dtype.hasobject:
        raise LoadError(
            f"load: {where} holds pickled Python objects (an object array); chainrule never "
            f"unpickles, because unpickling can run arbitrary code. Re-save the data with "
            f"cr.save from numeric arrays."
        )
    if any(d < 0 for d in shape):
        raise LoadError(f"load: {where} declares a negative dimension in shape {_short.repr(shape)}")
    count = math.prod(shape)
    size = count * dtype.itemsize
    needed = len(prefix) + len(length_bytes) + header_length + max(size, count)
    if limit is not None and needed > limit:
        raise _too_big(source, f"declares a {_short.repr(shape)} array of {dtype} ({needed:,} "
                               f"bytes with its header)", limit)
    if needed > available:
        raise LoadError(
            f"load: {where} declares a {_short.repr(shape)} array of {dtype} ({size:,} bytes) "
            f"but holds at most {available - (needed - max(size, count)):,} bytes of data; the "
            f"file is truncated or damaged"
        )
    array = np.empty(count, dtype)
    if size:
        # An ndarray is a buffer; NumPy's stubs declare __buffer__ for Python >= 3.12 only.
        _fill(stream, memoryview(array.view(np.uint8)), where)  # type: ignore[arg-type]
    if fortran_order:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def _fill(stream: IO[bytes], view: memoryview, where: str) -> None:
    """Read exactly ``len(view)`` bytes into ``view``, a piece at a time."""
    readinto = getattr(stream, "readinto", None)
    done, size = 0, len(view)
    while done < size:
        piece = view[done:done + _CHUNK]
        if readinto is not None:
            got = readinto(piece)
        else:
            data = stream.read(len(piece))
            got = len(data)
            piece[:got] = data
        if not got:
            raise LoadError(f"load: {where} is truncated ({done:,} of its {size:,} bytes of data)")
        done += got


def _parse_header(version: tuple[int, int], data: bytes) -> tuple[Any, ...]:
    """Shape, Fortran order and dtype from a ``.npy`` header (its length field and text)."""
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(io.BytesIO(data))
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(io.BytesIO(data))
    # Version 3.0 (UTF-8 field names) has no public reader; its header is the same literal.
    fields = ast.literal_eval(data[4:].decode("utf8"))
    if (not isinstance(fields, dict) or sorted(fields) != ["descr", "fortran_order", "shape"]
            or not isinstance(fields["shape"], tuple) or not isinstance(fields["fortran_order"], bool)
            or not all(type(d) is int for d in fields["shape"])):
        raise ValueError(f"malformed .npy 3.0 header {_short.repr(fields)}")
    return fields["shape"], fields["fortran_order"], np.lib.format.descr_to_dtype(fields["descr"])


class _Unpacker:
    def __init__(self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], source: str) -> None:
        self.archive = archive
        self.members = members
        self.source = source
        self.used: set[str] = set()

    def fail(self, why: str) -> LoadError:
        return LoadError(f"load: {self.source} is not a valid chainrule file: {why}")

    def array(self, key: object) -> np.ndarray:
        if not isinstance(key, str) or key == _META or key not in self.members:
            raise self.fail(f"it refers to a missing array {_short.repr(key)}")
        if key in self.used:
            raise self.fail(f"it refers to the array {_short.repr(key)} twice")
        self.used.add(key)
        return _read_member(self.archive, self.members[key], key, self.source)

    def unpack(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or "type" not in node:
            raise self.fail(f"unexpected entry {_short.repr(node)}")
        kind = node["type"]
        if kind in ("tensor", "parameter"):
            data = self.array(node.get("key"))
            requires_grad = node.get("requires_grad", False)
            if not isinstance(requires_grad, bool):
                raise self.fail(f"a {kind} entry with requires_grad {_short.repr(requires_grad)}")
            try:
                if kind == "parameter":
                    return Parameter(data, requires_grad=requires_grad)
                tensor = Tensor._wrap(data)
                if requires_grad:
                    tensor.requires_grad_(True)
                return tensor
            except (TypeError, ValueError, RuntimeError) as exc:
                raise self.fail(f"a {kind} entry that cannot be made ({exc})") from None
        if kind == "ndarray":
            return self.array(node.get("key"))
        if kind == "npscalar":
            data = self.array(node.get("key"))
            if data.ndim != 0:
                raise self.fail(f"a NumPy scalar entry holding an array of shape {data.shape}")
            return data[()]
        if kind == "float":
            value = node.get("value")
            try:
                if isinstance(value, str):
                    return float(value)
            except ValueError:
                pass
            raise self.fail(f"a float entry with value {_short.repr(value)}")
        if kind in ("dict", "odict", "list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise self.fail(f"a {kind} entry without items")
            if kind in ("list", "tuple"):
                values = [self.unpack(v) for v in items]
                return values if kind == "list" else tuple(values)
            result = OrderedDict() if kind == "odict" else {}
            for pair in items:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))
                        and not isinstance(pair[0], bool)):
                    raise self.fail(f"a malformed dict item {_short.repr(pair)}")
                result[pair[0]] = self.unpack(pair[1])
            return result
        raise self.fail(f"unknown entry type {_short.repr(kind)}")
