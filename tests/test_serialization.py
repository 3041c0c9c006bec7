"""cr.save / cr.load: .npz round trips, and refusal of anything that would need pickle."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _round_trip(obj):
    buffer = io.BytesIO()
    cr.save(obj, buffer)
    buffer.seek(0)
    return cr.load(buffer)


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.linspace(-1, 1, 5),
    np.arange(4, dtype=np.int64),
    np.array([True, False]),
    np.ones(3, dtype=np.float16),
    np.array(2.5),
    np.zeros((0, 3)),
    np.arange(12.0).reshape(3, 4).T,        # not contiguous
], ids=lambda a: f"{a.dtype}{a.shape}")
def test_tensor_round_trip_keeps_values_dtype_and_shape(array):
    back = _round_trip(cr.tensor(array))
    assert type(back) is cr.Tensor
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back.numpy(), array)


def test_requires_grad_and_parameters_survive_but_history_does_not():
    x = cr.ones(2, requires_grad=True)
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    back = _round_trip({"x": x, "y": x * 2, "p": p})
    assert back["x"].requires_grad and back["x"].is_leaf
    assert not back["y"].requires_grad and back["y"].tolist() == [2.0, 2.0]
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad


def test_nested_structures_round_trip():
    obj = {
        "model": OrderedDict([("0.weight", cr.zeros(2, 2)), ("0.bias", cr.ones(2))]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": cr.ones(2)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False,
                                        "params": [0, 1], "name": None}]},
        "history": [1.5, float("inf"), float("nan")],
        "note": "résumé ✓",
        "array": np.arange(3),
        "scalar": np.float32(0.25),
    }
    back = _round_trip(obj)
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == ["0.weight", "0.bias"]
    assert list(back["optimizer"]["state"]) == [0]                      # int keys stay ints
    group = back["optimizer"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple)
    assert group["params"] == [0, 1] and group["amsgrad"] is False and group["name"] is None
    assert back["history"][:2] == [1.5, float("inf")] and np.isnan(back["history"][2])
    assert back["note"] == "résumé ✓"
    assert isinstance(back["array"], np.ndarray) and back["array"].tolist() == [0, 1, 2]
    assert back["scalar"] == np.float32(0.25) and back["scalar"].dtype == np.float32


def test_model_state_dict_round_trip_through_a_file(tmp_path):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    path = tmp_path / "model.pt"
    cr.save(model.state_dict(), path)
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]              # no ".npz" appended, no temp left
    assert zipfile.is_zipfile(path)
    restored = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    restored.load_state_dict(cr.load(str(path)))
    x = cr.randn(5, 4)
    np.testing.assert_array_equal(model(x).detach().numpy(), restored(x).detach().numpy())


def test_failed_save_leaves_the_existing_file_alone(tmp_path):
    path = tmp_path / "ck.npz"
    cr.save({"a": cr.ones(1)}, path)
    with pytest.raises(TypeError):
        cr.save({"a": cr.zeros(1), "module": nn.Linear(1, 1)}, path)
    assert cr.load(path)["a"].tolist() == [1.0]
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]


@pytest.mark.parametrize("obj, message", [
    (nn.Linear(2, 2), r"type Linear.*state_dict\(\)"),
    ({"f": len}, r"the dict\['f'\] of type builtin_function_or_method"),
    ({"a": np.array([{}, 1], dtype=object)}, r"the dict\['a'\] is an array of dtype object"),
    ({(1, 2): cr.ones(1)}, r"key \(1, 2\) of type tuple"),
    ({True: 1}, r"key True of type bool"),
    ({1.5: 1}, r"key 1.5 of type float"),
])
def test_save_refuses_what_would_need_pickle(obj, message):
    with pytest.raises(TypeError, match=message):
        cr.save(obj, io.BytesIO())


class _Payload:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_object_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.array([_Payload(str(marker))], dtype=object))
    with pytest.raises(ValueError, match=r"'weight' holds pickled Python objects.*never unpickles"):
        cr.load(path)
    assert not marker.exists()


def test_object_array_inside_a_chainrule_file_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.npz"
    meta = {"format": "chainrule.save", "version": 1, "root": {"type": "tensor", "key": "a0"}}
    np.savez(path, a0=np.array([_Payload(str(marker))], dtype=object), __chainrule__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match="pickled Python objects"):
        cr.load(path)
    assert not marker.exists()


def test_pickle_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    with pytest.raises(ValueError, match=r"is a pickle file.*never unpickles"):
        cr.load(path)
    assert not marker.exists()


def test_zip_archive_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"                 # the layout of a torch.save file
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("checkpoint/data.pkl", pickle.dumps({"w": 1}))
    with pytest.raises(ValueError, match=r"'checkpoint/data.pkl' is not a NumPy array"):
        cr.load(path)


@pytest.mark.parametrize("meta, message", [
    ("not json", "not JSON"),
    (json.dumps({"format": "other", "version": 1, "root": None}), "no chainrule format marker"),
    (json.dumps({"format": "chainrule.save", "version": 99, "root": None}), "newer chainrule"),
    (json.dumps({"format": "chainrule.save", "version": 1, "root": {"type": "tensor", "key": "zz"}}),
     "missing array 'zz'"),
    (json.dumps({"format": "chainrule.save", "version": 1, "root": {"type": "set", "items": []}}),
     "unknown entry type 'set'"),
    (json.dumps({"format": "chainrule.save", "version": 1, "root": {"type": "dict", "items": [[1]]}}),
     "malformed dict item"),
    (json.dumps({"format": "chainrule.save", "version": 1, "root": {"type": "list"}}), "a list entry without items"),
    (json.dumps({"format": "chainrule.save", "version": 1, "root": [1, 2]}), "unexpected entry"),
])
def test_corrupt_structure_record_is_a_clear_error(tmp_path, meta, message):
    path = tmp_path / "bad.npz"
    np.savez(path, a0=np.zeros(1), __chainrule__=np.array(meta))
    with pytest.raises(ValueError, match=message):
        cr.load(path)


def test_plain_numpy_files_load_as_tensors(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.eye(2), b=np.zeros(2))
    loaded = cr.load(tmp_path / "plain.npz")
    assert set(loaded) == {"w", "b"} and isinstance(loaded["w"], cr.Tensor)
    np.testing.assert_array_equal(loaded["w"].numpy(), np.eye(2))
    np.save(tmp_path / "one.npy", np.arange(3.0))
    assert cr.load(tmp_path / "one.npy").tolist() == [0.0, 1.0, 2.0]


def test_not_a_numpy_file_and_missing_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.txt.*not a"):
        cr.load(path)
    truncated = tmp_path / "truncated.npz"
    cr.save({"w": cr.ones(100)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"truncated.npz.*not a readable NumPy"):
        cr.load(truncated)
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "absent.npz")
