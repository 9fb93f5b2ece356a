"""Out-of-memory during loading or generation: recognise it and free what can be freed."""
from __future__ import annotations

import gc


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocation failures (torch raises them as different types)."""
    if isinstance(exc, MemoryError):
        return True
    import torch

    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory() -> None:
    """Drop unreachable tensors and return cached accelerator memory after a failed run."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        mps.empty_cache()


def out_of_memory_advice(width: int | None, height: int | None) -> str:
    size = f"{width}x{height}" if width and height else "this image"
    return (f"rendering {size} needs more memory than is free. Try a smaller canvas, fewer images, "
            "quantised weights (fp8, nf4 or a GGUF file; T5 in fp8), model or sequential offload, "
            "a lighter dtype (bf16/fp16), or close other programs using the GPU.")
