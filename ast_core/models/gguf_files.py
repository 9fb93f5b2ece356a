"""Write GGUF weight files as city96's FLUX/SD3.5 quantisations are laid out (needs the ``gguf`` package).

2-D weights whose rows are a whole number of quantisation blocks are quantised to the asked
type (``Q8_0``, ``Q4_0``... as the ``gguf`` package's numpy quantiser does them); everything
else (biases, norm scales, 4-D patch embedders) is stored as float32. Key names stay as given:
pass the architecture's original layout so diffusers' GGUF loader reads the file as it reads
published ones. Used by ``export-tiny-model --single-file X.gguf``, the tests and the GPU
memory benchmark.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

#: Types the gguf package can quantise to in numpy and diffusers can load.
WRITABLE = ("Q8_0", "Q5_1", "Q5_0", "Q4_1", "Q4_0", "BF16")


def quantise(array, type_name: str):
    """``array`` (float32 numpy, 2-D) quantised to ``type_name``: (raw bytes array, gguf type)."""
    import gguf

    qtype = getattr(gguf.GGMLQuantizationType, type_name)
    return gguf.quants.quantize(array, qtype), qtype


def quantisable(shape: tuple[int, ...], type_name: str) -> bool:
    import gguf

    if len(shape) != 2:
        return False
    block, _ = gguf.GGML_QUANT_SIZES[getattr(gguf.GGMLQuantizationType, type_name)]
    return shape[1] % block == 0


def write_gguf(tensors: dict[str, Any], path: str | Path, type_name: str = "Q8_0", architecture: str = "") -> Path:
    """Write ``tensors`` (name -> torch tensor) to ``path`` quantised to ``type_name``."""
    from .quantisation import require_gguf

    require_gguf()
    import gguf
    import numpy as np

    if type_name not in WRITABLE:
        raise ValueError(f"GGUF type {type_name!r}: choose one of {', '.join(WRITABLE)}")
    path = Path(path)
    writer = gguf.GGUFWriter(str(path), arch=architecture or "unknown")
    try:
        for name, tensor in tensors.items():
            array = tensor.detach().float().cpu().numpy()
            if quantisable(array.shape, type_name):
                data, qtype = quantise(np.ascontiguousarray(array), type_name)
                writer.add_tensor(name, data, raw_dtype=qtype)
            else:
                writer.add_tensor(name, array.astype(np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
