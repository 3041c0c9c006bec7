"""``cr.save`` / ``cr.load``: tensors and (nested) state dicts in NumPy's ``.npz`` format.

Arrays are stored as ``.npy`` members; the structure around them (dicts, lists, tuples and
plain Python numbers, strings, ``None``) as one JSON document. Nothing is pickled, and files
are read with ``allow_pickle=False``, so loading a file from anywhere cannot run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import IO, Any, Union

import numpy as np

from .tensor import Tensor

__all__ = ["load", "save"]

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]

_META = "__chainrule__"
_FORMAT = "chainrule.save"
_VERSION = 1
_SCALARS = (bool, int, float, str, type(None))


class _Packer:
    """Turns an object into a JSON-able description plus the arrays it refers to."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, data: np.ndarray, where: str) -> str:
        if data.dtype.hasobject or data.dtype.kind == "V":
            raise TypeError(
                f"save: {where} is an array of dtype {data.dtype}; only numeric, bool and string "
                f"arrays can be saved (object arrays would need pickle)"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = data
        return key

    def pack(self, obj: Any, where: str) -> Any:
        # Parameter is checked before Tensor: it is a subclass.
        from .nn.parameter import Parameter

        if isinstance(obj, Tensor):
            node = {"type": "parameter" if isinstance(obj, Parameter) else "tensor",
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
    obj : Tensor, ndarray, dict, list, tuple, or a Python scalar
        Typically ``model.state_dict()`` or ``{"model": ..., "optimizer": ...}``. Dict keys must
        be str or int. Tensors keep their dtype and ``requires_grad``; history is not saved.
    f : str, os.PathLike or binary file object
        Where to write. The name is used as given (no ``.npz`` is appended); a file on disk is
        replaced only once the new one is complete.

    Raises
    ------
    TypeError
        For anything that is not in the list above (modules, functions, object arrays).
    """
    packer = _Packer()
    structure = packer.pack(obj, "the object" if not isinstance(obj, dict) else "the dict")
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "root": structure})
    members = dict(packer.arrays)
    members[_META] = np.array(meta)
    if hasattr(f, "write"):
        np.savez(f, **members)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".chainrule-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **members)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


class _Unpacker:
    def __init__(self, archive, source: str) -> None:
        self.archive = archive
        self.source = source

    def fail(self, why: str) -> ValueError:
        return ValueError(f"load: {self.source} is not a valid chainrule file: {why}")

    def array(self, key) -> np.ndarray:
        if not isinstance(key, str) or key == _META or key not in self.archive.files:
            raise self.fail(f"it refers to a missing array {key!r}")
        return _read(self.archive, key, self.source)

    def unpack(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or "type" not in node:
            raise self.fail(f"unexpected entry {str(node)[:80]!r}")
        kind = node["type"]
        if kind in ("tensor", "parameter"):
            data = self.array(node.get("key"))
            if kind == "parameter":
                from .nn.parameter import Parameter
                return Parameter(data, requires_grad=bool(node.get("requires_grad", False)))
            tensor = Tensor._wrap(data)
            if node.get("requires_grad"):
                tensor.requires_grad_(True)
            return tensor
        if kind == "ndarray":
            return self.array(node.get("key"))
        if kind == "npscalar":
            return self.array(node.get("key"))[()]
        if kind == "float":
            return float(node.get("value"))
        if kind in ("dict", "odict", "list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise self.fail(f"a {kind} entry without items")
            if kind in ("list", "tuple"):
                values = [self.unpack(v) for v in items]
                return values if kind == "list" else tuple(values)
            result = OrderedDict() if kind == "odict" else {}
            for pair in items:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                    raise self.fail(f"a malformed dict item {str(pair)[:80]!r}")
                result[pair[0]] = self.unpack(pair[1])
            return result
        raise self.fail(f"unknown entry type {kind!r}")


def _read(archive, key: str, source: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(
                f"load: {source} entry {key!r} holds pickled Python objects (an object array); "
                f"chainrule never unpickles, because unpickling can run arbitrary code. Re-save the "
                f"data with cr.save from numeric arrays."
            ) from None
        raise ValueError(f"load: {source} entry {key!r} is not a readable NumPy array ({exc})") from None
    if not isinstance(value, np.ndarray):
        raise ValueError(  # noqa: TRY004 - a bad file is a bad value, like every other load error
            f"load: {source} entry {key!r} is not a NumPy array (the file is a zip archive of "
            f"another kind, e.g. a torch.save checkpoint); only files written by cr.save, np.save "
            f"or np.savez can be loaded"
        )
    return value


_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


def _head(f: PathOrFile) -> bytes:
    """The first bytes of the file, leaving a file object's position where it was."""
    if hasattr(f, "read"):
        position = f.tell()
        head = f.read(len(_NPY_MAGIC))
        f.seek(position)
        return head
    with open(f, "rb") as stream:
        return stream.read(len(_NPY_MAGIC))


def load(f: PathOrFile) -> Any:
    """Load what ``save`` wrote (tensors come back as tensors, dicts as dicts).

    A plain ``.npz`` written by ``np.savez`` loads as a dict of name to tensor, and a ``.npy``
    file as a tensor.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        The file to read.

    Raises
    ------
    ValueError
        If the file holds pickled Python objects (such files are refused, never unpickled) or is
        not a NumPy/chainrule file.
    """
    source = repr(os.fspath(f)) if not hasattr(f, "read") else "the file object"
    head = _head(f)
    if not head.startswith((_ZIP_MAGIC, _NPY_MAGIC)):
        if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise ValueError(
                f"load: {source} is a pickle file (e.g. written by torch.save or pickle.dump); "
                f"chainrule never unpickles, because unpickling can run arbitrary code. Only "
                f"files written by cr.save, np.save or np.savez can be loaded."
            )
        raise ValueError(
            f"load: {source} is not a NumPy .npz/.npy file (it starts with {head!r}); only files "
            f"written by cr.save, np.save or np.savez can be loaded"
        )
    try:
        loaded = np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"load: {source} is not a readable NumPy .npz/.npy file ({exc})") from None
    if isinstance(loaded, np.ndarray):
        return Tensor._wrap(loaded)
    with loaded as archive:
        if _META not in archive.files:
            return {key: Tensor._wrap(_read(archive, key, source)) for key in archive.files}
        unpacker = _Unpacker(archive, source)
        try:
            meta = json.loads(str(_read(archive, _META, source)[()]))
        except (json.JSONDecodeError, TypeError) as exc:
            raise unpacker.fail(f"its structure record is not JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise unpacker.fail("its structure record has no chainrule format marker")
        if not isinstance(meta.get("version"), int) or meta["version"] > _VERSION:
            raise unpacker.fail(
                f"it was written by a newer chainrule (format version {meta.get('version')!r}, "
                f"this one reads up to {_VERSION}); upgrade chainrule"
            )
        return unpacker.unpack(meta.get("root"))

