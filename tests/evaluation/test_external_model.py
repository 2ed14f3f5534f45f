"""`--external` on the trained model (models/baton.tar.gz): the decisions of the model the
bot serves, with intervals, and never a message text in the output."""

from __future__ import annotations

from bot.evaluation.cli import main

MESSAGES = [
    ("I want to speak to a human agent", "request_human", "no"),
    ("can I talk to a real person please", "request_human", "no"),
    ("what is the capital of Peru", "out_of_scope", "no"),
    ("how much does delivery cost", "other", "no"),
    ("this is the third time my broadband has died, you are useless", "other", "yes"),
]


def test_the_served_model_is_scored_on_a_users_own_file(tmp_path, capsys):
    path = tmp_path / "mine.tsv"
    path.write_text(
        "".join(f"{text}\t{label}\t{frustrated}\tmine\n" for text, label, frustrated in MESSAGES),
        encoding="utf-8",
    )
    assert main(["--external", str(path)]) == 0
    report = capsys.readouterr().out
    assert "Model: models/baton.tar.gz" in report
    assert "Decisions: 5 messages" in report

    def line_of(figure: str) -> str:
        return next(line for line in report.splitlines() if line.strip().startswith(figure))

    # Each figure with its interval and counts; the totals are the file's, whatever the model.
    assert line_of("request_human recall").endswith("/2)")
    assert line_of("out of scope declined").endswith("/1)")
    assert line_of("frustration recall").endswith("/1)")
    assert " [" in line_of("request_human recall")
    assert "mine" in report  # the kind tag is broken down
    assert not any(text in report for text, _, _ in MESSAGES)
