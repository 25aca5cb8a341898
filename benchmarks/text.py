"""Text tagging speed and invisible-mark survival, run by hand: ``python benchmarks/text.py``.

1. Tagging N (10 000) short answers in memory (80-400 characters, Chinese and English mixed),
   timed per step and together: explicit suffix label (``add_label``), invisible mark
   (``mark_text``), the Annex E label record (``AIGCLabel.for_producer(...).to_json()``).
2. Stream wrapper overhead: T tokens of 1-4 characters consumed through a bare generator, through
   ``label_stream`` and through ``label_stream(mark=...)``; overhead = (wrapped - bare) / T.
3. Invisible-mark survival: random excerpts of 100/150/200 visible characters taken from marked
   answers of ~1 000 characters; survival = the exact payload decodes from the excerpt. The same
   excerpts from unmarked text count false decodes.

All timings are medians over R rounds. Prints Markdown tables. The statistical (KGW) watermark
has its own benchmark, ``benchmarks/text_kgw.py``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag.label import AIGCLabel  # noqa: E402
from aigc_tag.text.explicit import add_label  # noqa: E402
from aigc_tag.text.invisible import mark_text, read_mark  # noqa: E402
from aigc_tag.text.stream import label_stream  # noqa: E402
from aigc_tag.watermark.payload import Payload  # noqa: E402

PRODUCER = "001191110108MA01ABCDEN10001"
ZH = [
    "人工智能技术正在快速发展，深度学习模型在多个领域取得了显著成果。",
    "根据您的描述，建议先检查网络连接，然后重启路由器。",
    "这道题的关键在于理解函数的单调性：先求导，再判断符号。",
    "总体来看，该方案成本较低、风险可控，适合小规模试点。",
    "以下是三个要点：一是明确目标；二是分解任务；三是定期复盘！",
]
EN = [
    "Machine learning models keep improving, and researchers expect faster algorithms. ",
    "To fix the error, check the network settings first and then restart the router. ",
    "The key idea is monotonicity: take the derivative and look at its sign. ",
    "Overall the plan is cheap and low-risk, so a small pilot makes sense. ",
    "Here are three points: set a goal, split the work, and review it weekly. ",
]


def answers(n: int, lo: int, hi: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = ZH if rng.random() < 0.5 else EN
        target = rng.randrange(lo, hi)
        text = ""
        while len(text) < target:
            text += rng.choice(pool)
        out.append(text[:target])
    return out


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def part_tagging(n: int, rounds: int) -> None:
    texts = answers(n, 80, 400, 1)
    labels = [AIGCLabel.for_producer(PRODUCER, f"answer-{i}") for i in range(n)]
    payloads = [Payload.for_label(lab.ContentProducer, lab.ProduceID) for lab in labels]

    def explicit() -> None:
        for t in texts:
            add_label(t)

    def mark() -> None:
        for t, p in zip(texts, payloads, strict=True):
            mark_text(t, p)

    def record() -> None:
        for i in range(n):
            lab = AIGCLabel.for_producer(PRODUCER, f"answer-{i}")
            lab.to_json()
            Payload.for_label(lab.ContentProducer, lab.ProduceID)

    def full() -> None:
        for i, t in enumerate(texts):
            lab = AIGCLabel.for_producer(PRODUCER, f"answer-{i}")
            lab.to_json()
            add_label(mark_text(t, Payload.for_label(lab.ContentProducer, lab.ProduceID)))

    chars = sum(map(len, texts))
    print(f"\n### Tagging {n} short answers in memory ({chars / n:.0f} characters on average)\n")
    print("| step | total s | answers/s | µs/answer |")
    print("|---|---:|---:|---:|")
    for name, fn in (
        ("explicit label (add_label)", explicit),
        ("invisible mark (mark_text)", mark),
        ("label record (AIGCLabel + JSON + payload)", record),
        ("all three", full),
    ):
        s = timed(fn, rounds)
        print(f"| {name} | {s:.3f} | {n / s:,.0f} | {s / n * 1e6:.1f} |")


def part_stream(n_tokens: int, rounds: int) -> None:
    rng = random.Random(2)
    text = "".join(answers(200, 300, 600, 3))
    tokens: list[str] = []
    i = 0
    while len(tokens) < n_tokens:
        k = rng.randrange(1, 5)
        tokens.append(text[i % len(text) : i % len(text) + k] or "x")
        i += k
    payload = Payload.for_label(PRODUCER, "stream")

    def gen():
        yield from tokens

    def consume(it) -> None:
        for _ in it:
            pass

    bare = timed(lambda: consume(gen()), rounds)
    wrapped = timed(lambda: consume(label_stream(gen(), where="both")), rounds)
    marked = timed(lambda: consume(label_stream(gen(), where="both", mark=payload)), rounds)
    print(f"\n### Stream wrapper overhead ({n_tokens:,} tokens of 1-4 characters)\n")
    print("| wrapper | ns/token | overhead ns/token |")
    print("|---|---:|---:|")
    for name, s in (
        ("bare generator", bare),
        ("label_stream (prefix + suffix)", wrapped),
        ("label_stream + invisible mark", marked),
    ):
        print(f"| {name} | {s / n_tokens * 1e9:,.0f} | {(s - bare) / n_tokens * 1e9:,.0f} |")


def _visible(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if not 0xE0100 <= ord(c) <= 0xE01EF]


def part_survival(n_texts: int, per_text: int) -> None:
    texts = answers(n_texts, 900, 1100, 4)
    rng = random.Random(5)
    print(f"\n### Invisible mark in random excerpts ({n_texts} answers × {per_text} excerpts)\n")
    print("| excerpt (visible chars) | Chinese: decoded | English: decoded | false decodes |")
    print("|---:|---:|---:|---:|")
    for size in (100, 150, 200):
        ok = {"zh": [0, 0], "en": [0, 0]}
        false = 0
        for i, t in enumerate(texts):
            lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in t[:20]) else "en"
            p = Payload.for_label(PRODUCER, f"s{i}")
            m = mark_text(t, p)
            vis = _visible(m)
            for _ in range(per_text):
                k = rng.randrange(0, len(vis) - size)
                ev = read_mark(m[vis[k] : vis[k + size - 1] + 1])
                ok[lang][0] += ev.payload == p
                ok[lang][1] += 1
                false += read_mark(t[k : k + size]).found
        cells = [f"{a / b:.1%} ({a}/{b})" for a, b in (ok["zh"], ok["en"])]
        print(f"| {size} | {cells[0]} | {cells[1]} | {false} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--answers", type=int, default=10_000)
    ap.add_argument("--tokens", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=200)
    ap.add_argument("--excerpts", type=int, default=20)
    args = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, medians of {args.rounds} rounds")
    part_tagging(args.answers, args.rounds)
    part_stream(args.tokens, args.rounds)
    part_survival(args.texts, args.excerpts)


if __name__ == "__main__":
    main()
