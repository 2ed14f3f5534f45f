"""`python -m bot.evaluation --external FILE.tsv`: what a user gets for a bad file or no
model, before anything is loaded or trained (the run on the model: test_external_model.py)."""

from __future__ import annotations

from bot.evaluation.cli import EXIT_ERROR, main


def test_a_malformed_file_is_refused_with_its_line(tmp_path, capsys):
    path = tmp_path / "mine.tsv"
    path.write_text("text\tlabel\nhi there\tgreeting\n", encoding="utf-8")
    assert main(["--external", str(path)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert f"{path}:2: label 'greeting' is not one of request_human, other, out_of_scope" in error


def test_no_trained_model_says_how_to_make_one(tmp_path, capsys):
    path = tmp_path / "mine.tsv"
    path.write_text("let me talk to a person\trequest_human\n", encoding="utf-8")
    absent = tmp_path / "models" / "none.tar.gz"
    assert main(["--external", str(path), "--model", str(absent)]) == EXIT_ERROR
    assert f"{absent}: no trained model (run `make train` first)" in capsys.readouterr().err
