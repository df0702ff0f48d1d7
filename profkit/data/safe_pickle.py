"""Restricted unpickling: only the numpy globals an ndarray needs; a crafted file runs no code."""

from __future__ import annotations

import io
import pickle

# (module, name) an ndarray pickle refers to; numpy 2 writes numpy._core, older numpy numpy.core.
ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
           ("numpy", "ndarray"), ("numpy", "dtype")}


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(module, name)


def loads(blob: bytes, encoding: str = "ASCII"):
    """Unpickle `blob` refusing every global outside ALLOWED (raises pickle.UnpicklingError)."""
    return SafeUnpickler(io.BytesIO(blob), encoding=encoding).load()
