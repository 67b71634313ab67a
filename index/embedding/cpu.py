"""What this CPU offers the embedder: its cores and whether INT8 pays, read at run time.

Machines of one kind differ (docs/latency.md, field notes): on a CPU with VNNI (AVX-512 VNNI, AVX-VNNI, AMX) the
dynamic INT8 model embeds ~2x faster than fp32; on an AVX2-only CPU it was measured 1.07x faster, within noise,
while its vectors are further from the model's (mean cosine ~0.993), so fp32 is chosen there.
`NEWSRAG_EMBED_BACKEND=auto` (the default) asks `choose_backend`; an index that already holds vectors keeps the
backend that made them (app/engine.py).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

# CPU flags (as /proc/cpuinfo spells them) with which INT8 matrix products run on dot-product instructions.
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp")
# The flags the bench and docs print beside every speed figure.
SHOWN_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp")


@functools.cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags; empty where /proc/cpuinfo cannot be read (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, ARM
            flags.update(value.split())
    return frozenset(flags)


def shown_flags() -> str:
    """e.g. "avx2 avx512_vnni avx512f": the flags that decide embedding speed, for reports."""
    have = sorted(f for f in SHOWN_FLAGS if f in cpu_flags())
    return " ".join(have) or "unknown"


def choose_backend(flags: frozenset[str] | None = None) -> str:
    """onnx-int8 where INT8 runs on dot-product instructions (or the flags are unknown: the former default),
    onnx (fp32) otherwise."""
    flags = cpu_flags() if flags is None else flags
    if not flags or any(f in flags for f in INT8_FLAGS):
        return "onnx-int8"
    return "onnx"


def usable_cores() -> int:
    """Cores this process may run on (a container or `taskset` may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)
