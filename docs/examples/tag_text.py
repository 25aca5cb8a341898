"""Worked example: label a model's answer, a Markdown file and a DOCX report, then check them.

    python docs/examples/tag_text.py OUTDIR

Plain text has no metadata container: ``tag_text`` adds the explicit wording (and, asked for,
the invisible mark) and warns that the Annex E record is not embedded. Files with a container
(Markdown front matter, DOCX custom properties, ...) carry the record too.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import aigc_tag

PRODUCER = "001191110108MA01ABCDEN10001"
ANSWER = "长江是中国最长的河流，全长约 6300 公里。\nThe Yangtze is China's longest river."


def main(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", aigc_tag.AigcTagWarning)
        answer = aigc_tag.tag_text(ANSWER, producer=PRODUCER, text_at="suffix",
                                   invisible_mark=True)  # fmt: skip
    print(answer.splitlines()[-1])  # the explicit wording line
    for warning in caught:
        print(f"warning: {warning.message}")
    source = outdir / "answer.md"
    source.write_text(f"# 长江\n\n{ANSWER}\n", encoding="utf-8")
    with aigc_tag.Tagger(PRODUCER) as tagger:
        tagger.tag_file(source, outdir / "answer.tagged.md", produce_id="chat-1")
    report = aigc_tag.verify(outdir / "answer.tagged.md")
    label = report.metadata_label or {}
    print(f"answer.tagged.md: {report.verdict.value}, Label {label.get('Label')} in "
          f"{label.get('carrier')}")  # fmt: skip
    return 0 if report.verdict is aigc_tag.Verdict.COMPLIANT else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples")))
