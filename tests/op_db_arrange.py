"""The arrange family's entries: every function built from primitives, called as ``cr.<name>``
(PyTorch's arguments) and as ``np.<name>`` on tensors (NumPy's), reaching the primitives it claims."""

from __future__ import annotations

import numpy as np
from op_db import S, entry, uniform

import chainrule as cr


def _joined(*xs):
    return list(xs)


entry("tril", lambda x, **kw: cr.tril(x, **kw), "where",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (2, 3, 3)), diagonal=-1), S(uniform(rng, (4, 3)), diagonal=2)])
entry("triu", lambda x, **kw: x.triu(**kw), "where",
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (2, 4, 3)), diagonal=1)])
entry("np.tril", lambda x, **kw: np.tril(x, **kw), ("where", "broadcast_to"),
      lambda rng: [S(uniform(rng, (4,)), k=-1)])
entry("diag", lambda x, **kw: cr.diag(x, **kw), "diagonal_embed",
      lambda rng: [S(uniform(rng, (3,))), S(uniform(rng, (3,)), diagonal=-2)])
entry("diag_of_matrix", lambda x, **kw: cr.diag(x, **kw), ("diagonal", "clone"),
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (3, 4)), diagonal=1)])
entry("np.diag", lambda x, **kw: np.diag(x, **kw), "diagonal_embed", lambda rng: [S(uniform(rng, (4,)), k=1)])
entry("diag_embed", lambda x, **kw: cr.diag_embed(x, **kw), "diagonal_embed",
      lambda rng: [S(uniform(rng, (2, 3))), S(uniform(rng, (2, 3)), offset=1, dim1=0, dim2=2)])
entry("diagflat", lambda x, **kw: cr.diagflat(x, **kw), ("reshape", "diagonal_embed"),
      lambda rng: [S(uniform(rng, (2, 2))), S(uniform(rng, (3,)), offset=-1)])
entry("np.diagonal", lambda x, **kw: np.diagonal(x, **kw), "diagonal",
      lambda rng: [S(uniform(rng, (2, 3, 4)), offset=1, axis1=-1, axis2=0)])
entry("np.trace", lambda x, **kw: np.trace(x, **kw), ("diagonal", "sum"),
      lambda rng: [S(uniform(rng, (3, 4)), offset=1), S(uniform(rng, (2, 3, 3)), axis1=1, axis2=2)])
entry("movedim", lambda x, s, d: cr.movedim(x, s, d), "permute",
      lambda rng: [S(uniform(rng, (2, 3, 4)), s=0, d=-1), S(uniform(rng, (2, 3, 4)), s=(0, 1), d=(2, 0))])
entry("np.moveaxis", lambda x, s, d: np.moveaxis(x, s, d), "permute", lambda rng: [S(uniform(rng, (2, 3, 4)), s=-1, d=0)])
entry("np.swapaxes", lambda x: np.swapaxes(x, 0, -1), "permute", lambda rng: [S(uniform(rng, (2, 3, 4)))])
entry("fliplr", cr.fliplr, "flip", lambda rng: [S(uniform(rng, (3, 4)))])
entry("flipud", lambda x: np.flipud(x), "flip", lambda rng: [S(uniform(rng, (3,)))])
entry("rot90", lambda x, **kw: cr.rot90(x, **kw), ("flip", "permute"),
      lambda rng: [S(uniform(rng, (3, 4))), S(uniform(rng, (2, 3, 4)), k=3, dims=(2, 0))])
entry("rot90_half", lambda x: np.rot90(x, 2), "flip", lambda rng: [S(uniform(rng, (3, 4)))])
entry("roll", lambda x, **kw: cr.roll(x, **kw), ("getitem", "cat"),
      lambda rng: [S(uniform(rng, (3, 4)), shifts=1, dims=0), S(uniform(rng, (2, 3, 4)), shifts=(1, -2), dims=(0, 2))])
entry("roll_flat", lambda x, **kw: cr.roll(x, **kw), ("getitem", "cat", "reshape"),
      lambda rng: [S(uniform(rng, (3, 4)), shifts=5)])
entry("np.roll", lambda x, **kw: np.roll(x, **kw), ("getitem", "cat"),
      lambda rng: [S(uniform(rng, (3, 4)), shift=(1, 2), axis=(1, 1))])
entry("repeat_interleave", lambda x, **kw: cr.repeat_interleave(x, **kw), ("broadcast_to", "reshape"),
      lambda rng: [S(uniform(rng, (3, 2)), repeats=2, dim=0), S(uniform(rng, (2, 3)), repeats=3)])
entry("repeat_interleave_counts", lambda x, r, **kw: cr.repeat_interleave(x, r, **kw), "gather",
      lambda rng: [S(uniform(rng, (3, 2)), np.array([2, 0, 1]), dim=0)])
entry("np.repeat", lambda x, **kw: np.repeat(x, **kw), "gather",
      lambda rng: [S(uniform(rng, (2, 3)), repeats=[1, 3, 2], axis=-1)])
entry("ravel", cr.ravel, "reshape", lambda rng: [S(uniform(rng, (2, 3)))])
entry("np.ravel_F", lambda x: np.ravel(x, order="F"), ("reshape", "gather"), lambda rng: [S(uniform(rng, (2, 3)))])
entry("atleast_3d", lambda x, y: cr.cat([a.reshape(-1) for a in cr.atleast_3d(x, y)]), ("reshape", "cat"), lambda rng: [S(uniform(rng, (3,)), uniform(rng, (2, 3)))])
entry("np.atleast_2d", lambda x: np.atleast_2d(x), "reshape", lambda rng: [S(uniform(rng, ()))])
entry("expand_dims", lambda x: cr.expand_dims(x, (0, -1)), "reshape", lambda rng: [S(uniform(rng, (2, 3)))])
entry("vstack", lambda x, y: cr.vstack([x, y]), ("reshape", "cat"), lambda rng: [S(uniform(rng, (3,)), uniform(rng, (2, 3)))])
entry("np.hstack", lambda x, y: np.hstack([x, y]), "cat", lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 1)))])
entry("dstack", lambda x, y: cr.dstack([x, y]), ("reshape", "cat"), lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 3)))])
entry("np.column_stack", lambda x, y: np.column_stack((x, y)), ("reshape", "cat"),
      lambda rng: [S(uniform(rng, (3,)), uniform(rng, (3, 2)))])
entry("np.stack_mixed", lambda x: np.stack([x, np.ones(3), 2 * x]), ("cat", "reshape", "mul"),
      lambda rng: [S(uniform(rng, (3,)))])
entry("np.concatenate_none", lambda x, y: np.concatenate([x, y], axis=None), ("reshape", "cat"),
      lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (3,)))])
entry("tensor_split", lambda x, **kw: cr.tensor_split(x, **kw), "getitem",
      lambda rng: [S(uniform(rng, (5, 2)), indices_or_sections=3), S(uniform(rng, (2, 5)), indices_or_sections=[1, 4], dim=1)])
entry("np.split", lambda x, **kw: np.split(x, **kw), "getitem",
      lambda rng: [S(uniform(rng, (4, 2)), indices_or_sections=2), S(uniform(rng, (2, 5)), indices_or_sections=[3, 1], axis=-1)])
entry("np.array_split", lambda x: np.array_split(x, 3, axis=1), "getitem", lambda rng: [S(uniform(rng, (2, 4)))])
entry("hsplit", lambda x: cr.hsplit(x, 2), "getitem", lambda rng: [S(uniform(rng, (2, 4)))])
entry("np.vsplit", lambda x: np.vsplit(x, [1]), "getitem", lambda rng: [S(uniform(rng, (3, 2)))])
entry("np.dsplit", lambda x: np.dsplit(x, 2), "getitem", lambda rng: [S(uniform(rng, (1, 2, 4)))])
entry("np.pad_constant", lambda x, **kw: np.pad(x, **kw), "pad",
      lambda rng: [S(uniform(rng, (3, 4)), pad_width=1), S(uniform(rng, (2, 3)), pad_width=((1, 0), (2, 1)), constant_values=2.0)])
entry("np.pad_values", lambda x, **kw: np.pad(x, **kw), "cat",
      lambda rng: [S(uniform(rng, (2, 3)), pad_width=((1, 2), (0, 1)), constant_values=((1.0, 2.0), (3.0, 4.0)))])
entry("np.pad_modes", lambda x, **kw: np.pad(x, **kw), "gather",
      lambda rng: [S(uniform(rng, (3, 4)), pad_width=((2, 1), (1, 3)), mode=m) for m in ("edge", "reflect", "symmetric", "wrap")]
      + [S(uniform(rng, (2, 3)), pad_width=((4, 5), (7, 2)), mode="reflect", label="wide-reflect")])
entry("append", lambda x, y, **kw: cr.append(x, y, **kw), ("reshape", "cat"),
      lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (3,)))])
entry("np.append_axis", lambda x, y: np.append(x, y, axis=1), "cat", lambda rng: [S(uniform(rng, (2, 2)), uniform(rng, (2, 1)))])
entry("diff", lambda x, **kw: cr.diff(x, **kw), ("getitem", "sub"),
      lambda rng: [S(uniform(rng, (5,))), S(uniform(rng, (3, 4)), n=2, dim=0)])
entry("diff_ends", lambda x, p, a: cr.diff(x, prepend=p, append=a), ("getitem", "sub", "cat"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2, 1)), uniform(rng, (2, 2)))])
entry("np.diff", lambda x, **kw: np.diff(x, **kw), ("getitem", "sub", "cat", "broadcast_to"),
      lambda rng: [S(uniform(rng, (3, 4)), n=3, axis=-1, prepend=0.5)])
entry("np.ediff1d", lambda x, b: np.ediff1d(x, to_begin=b, to_end=[1.0, 2.0]), ("getitem", "sub", "cat", "reshape"),
      lambda rng: [S(uniform(rng, (2, 3)), uniform(rng, (2,)))])
