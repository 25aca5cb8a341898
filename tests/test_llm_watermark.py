"""Generation-time text watermark (KGW green list): numpy hook, transformers processor, detector.

The transformers parts use a tiny randomly initialised GPT-2 built here (nothing downloaded) and
token ids directly (a word-per-id tokenizer for ``detect_text``). A random tiny model has
high-entropy next-token distributions, which makes the watermark easier to carry than in a real
LLM's text; benchmarks/text_kgw.py measures lower-entropy settings too.
"""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest

from aigc_tag.llm import GreenListHook, detect_text, detect_tokens, green_mask, watermark_logits
from aigc_tag.llm.kgw import binomial_tail, green_flags, normal_tail
from aigc_tag.watermark.keys import WatermarkKey

VOCAB = 1000
PUBLIC = WatermarkKey.public()
PRIVATE = WatermarkKey.private("test provider secret", name="provider")

try:
    import torch
    import transformers  # noqa: F401

    HAVE_LLM = True
except ImportError:  # pragma: no cover - CI installs the extra
    HAVE_LLM = False

needs_llm = pytest.mark.skipif(
    not HAVE_LLM, reason="torch/transformers not installed (pip install 'aigc-tag[llm]')"
)


# --------------------------------------------------------------------------- numpy core


def _numpy_generate(key, n: int, seed: int, *, top_k: int = 50, wm: bool = True) -> np.ndarray:
    """A stand-in LM with random logits, sampled top-k through the numpy hook."""
    rng = np.random.default_rng(seed)
    hook = GreenListHook(key)
    ids = [int(rng.integers(VOCAB))]
    for _ in range(n):
        logits = rng.normal(0.0, 2.0, VOCAB).astype(np.float32)
        if wm:
            logits = hook(logits, ids)
        keep = np.argpartition(logits, -top_k)[-top_k:]
        p = np.exp(logits[keep] - logits[keep].max())
        ids.append(int(rng.choice(keep, p=p / p.sum())))
    return np.array(ids[1:])


def test_green_lists_deterministic_and_sized():
    a = green_mask([1, 2, 3], 5000, PUBLIC)
    assert np.array_equal(a, green_mask(np.array([9, 3]), 5000, WatermarkKey.public()))
    assert abs(a.mean() - 0.25) < 0.03
    # greenness of a token does not depend on the vocabulary size (padded LM heads)
    assert np.array_equal(green_mask([3], 6000, PUBLIC)[0, :5000], a[0])
    # a pinned value: the green list must never silently change between versions/platforms
    assert np.flatnonzero(green_mask([42], 64, PUBLIC)[0]).tolist() == PINNED_GREEN_42
    # public and private green lists are independent: overlap ~ gamma^2
    both = green_mask(np.arange(64)[:, None], 5000, PUBLIC) & green_mask(
        np.arange(64)[:, None], 5000, PRIVATE
    )
    assert abs(both.mean() - 0.25**2) < 0.005
    wider = green_mask([7, 3], 5000, PUBLIC, context_width=2)
    assert not np.array_equal(wider, a) and abs(wider.mean() - 0.25) < 0.03


PINNED_GREEN_42 = [6, 8, 11, 12, 13, 21, 25, 27, 33, 36, 37, 47, 48, 50, 59, 62]


def test_hook_shapes_and_inf():
    logits = np.zeros((2, VOCAB), np.float32)
    logits[:, :10] = -np.inf
    out = watermark_logits(logits, [[5, 6], [7]], PUBLIC, delta=2.0)
    assert out.shape == logits.shape and out.dtype == np.float32
    assert np.isneginf(out[:, :10]).all()
    mask = green_mask([[5, 6], [7]], VOCAB, PUBLIC)
    assert np.array_equal(out[:, 10:] == 2.0, mask[:, 10:])
    one = watermark_logits(np.zeros(VOCAB), [6], PUBLIC)
    assert one.dtype == np.float64 and np.array_equal(one, np.where(mask[0], 2.0, 0.0))
    assert np.array_equal(watermark_logits(np.ones(VOCAB), [], PUBLIC), np.ones(VOCAB))


@pytest.mark.parametrize("width", [1, 2, 3])
def test_numpy_sampler_roundtrip(width):
    rng = np.random.default_rng(width)
    hook = GreenListHook(PRIVATE, context_width=width)
    ids = [1, 2, 3]
    for _ in range(200):
        logits = hook(rng.normal(0.0, 2.0, VOCAB).astype(np.float32), ids)
        ids.append(int(np.argmax(logits + rng.gumbel(size=VOCAB))))
    d = hook.detect(ids[3:], context_ids=ids[:3])
    assert d.detected and d.z_score >= 4 and d.num_scored > 150
    assert not detect_tokens(ids[3:], PUBLIC, context_width=width).detected


def test_detection_evidence_and_options():
    ids = _numpy_generate(PUBLIC, 200, seed=3)
    d = detect_tokens(ids, PUBLIC, vocab_size=VOCAB)
    assert d.detected and d.status == "detected" and d.p_value < 3.2e-5
    assert d.p_value == d.p_binomial
    n = detect_tokens(ids, p_method="normal")
    assert n.p_value == pytest.approx(normal_tail(d.z_score)) and n.z_score == d.z_score
    from scipy.stats import binom

    assert d.p_binomial == pytest.approx(binom.sf(d.green_count - 1, d.num_scored, 0.25))
    assert binomial_tail(18, 36, 0.25) == pytest.approx(binom.sf(17, 36, 0.25), rel=1e-9)
    ev = json.loads(json.dumps(d.to_json()))
    assert ev["num_scored"] == d.num_scored and ev["green_count"] == d.green_count
    assert ev["key"] == "public" and ev["gamma"] == 0.25 and ev["ignore_repeated_ngrams"]
    assert d.num_scored == len(np.unique(np.stack([ids[:-1], ids[1:]]), axis=1).T)
    short = detect_tokens(_numpy_generate(PUBLIC, 30, seed=4, wm=False))
    assert not short.detected and short.status == "inconclusive" and not short.conclusive
    with pytest.raises(ValueError):
        detect_tokens(ids, vocab_size=10)
    with pytest.raises(ValueError):
        GreenListHook(gamma=1.5)


def test_detect_text_with_any_tokenizer():
    ids = _numpy_generate(PRIVATE, 120, seed=5)
    text = " ".join(f"w{i}" for i in ids)

    def words(s: str) -> list[int]:
        return [int(w[1:]) for w in s.split()]

    class HFLike:
        def encode(self, s, add_special_tokens=True):
            return ([0] if add_special_tokens else []) + words(s)

    for tok in (words, HFLike()):
        d = detect_text(text, tok, PRIVATE)
        assert d.detected and d.z_score == detect_tokens(ids, PRIVATE).z_score
    assert not detect_text(text, words, PUBLIC).detected


def _null_corpus(rng: np.random.Generator) -> list[np.ndarray]:
    """430 token sequences not marked with the public key, most of them highly repetitive."""
    out: list[np.ndarray] = []
    for t in rng.choice(VOCAB, 60, replace=False):  # the same token repeated
        out.append(np.full(int(rng.integers(50, 400)), t))
    for period in range(2, 62):  # short cycles
        out.append(np.tile(rng.integers(0, VOCAB, period), 400 // period + 1)[:400])
    for _ in range(80):  # a paragraph copy-pasted
        para = rng.integers(0, VOCAB, int(rng.integers(20, 60)))
        out.append(np.tile(para, int(rng.integers(3, 9))))
    for _ in range(60):  # a few words shuffled around (templated text)
        words = rng.integers(0, VOCAB, 6)
        out.append(rng.choice(words, 300))
    for _ in range(120):  # independent random tokens
        out.append(rng.integers(0, VOCAB, int(rng.integers(50, 400))))
    for seed in range(50):  # marked, but with another key
        out.append(_numpy_generate(PRIVATE, 200, seed=100 + seed))
    return out


def _constant_green_token(key: WatermarkKey) -> int:
    """A token t whose pair (t, t) is green: repeating it is all-green without the n-gram rule."""
    return next(t for t in range(VOCAB) if green_mask([t], VOCAB, key)[0, t])


def test_repeated_ngram_rule_is_what_saves_repetitive_text():
    t = _constant_green_token(PUBLIC)
    rep = np.full(300, t)
    naive = detect_tokens(rep, PUBLIC, ignore_repeated_ngrams=False)
    assert naive.z_score > 10 and naive.detected  # the false positive the rule prevents
    fixed = detect_tokens(rep, PUBLIC)
    assert fixed.num_scored == 1 and not fixed.detected and fixed.p_value > 1e-3
    assert fixed.status == "inconclusive"
    # a copy-pasted watermark-free paragraph: counting each copy multiplies z by sqrt(copies)
    para = _numpy_generate(PUBLIC, 60, seed=8, wm=False)
    flags = green_flags(para, PUBLIC)
    copies = np.tile(para, 8)
    z1 = detect_tokens(para, PUBLIC).z_score
    assert detect_tokens(copies, PUBLIC).z_score == pytest.approx(z1, abs=0.35)
    if flags.mean() > 0.25:
        assert detect_tokens(copies, PUBLIC, ignore_repeated_ngrams=False).z_score > 2 * z1


# --------------------------------------------------------------------------- transformers

PROMPT = 4
NEW = 200


@pytest.fixture(scope="module")
def tiny_lm():
    """A 2-layer GPT-2 with random weights: a ~1 MB model built in a fraction of a second."""
    if not HAVE_LLM:
        pytest.skip("torch/transformers not installed (pip install 'aigc-tag[llm]')")
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=256, n_layer=2, n_head=2, n_embd=64)
    yield GPT2LMHeadModel(cfg).eval()
    torch.set_num_threads(threads)


def _generate(model, prompts, *, seed: int, processors=(), **kw):
    from transformers import LogitsProcessorList

    torch.manual_seed(seed)
    kw.setdefault("do_sample", True)
    with torch.no_grad():
        out = model.generate(
            prompts,
            attention_mask=kw.pop("attention_mask", torch.ones_like(prompts)),
            max_new_tokens=NEW,
            min_new_tokens=NEW,
            logits_processor=LogitsProcessorList(list(processors)),
            pad_token_id=0,
            **kw,
        )
    return out[:, prompts.shape[1] :].numpy()


def _prompts(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, VOCAB, (n, PROMPT), generator=g)


@needs_llm
def test_numpy_hook_equals_hf_processor_bit_for_bit():
    from aigc_tag.llm.hf import AigcWatermarkLogitsProcessor

    rng = np.random.default_rng(0)
    for key, width in ((PUBLIC, 1), (PRIVATE, 1), (PRIVATE, 3)):
        ids = rng.integers(0, VOCAB, (5, 7))
        logits = rng.normal(0, 3, (5, VOCAB)).astype(np.float32)
        logits[:, rng.integers(0, VOCAB, 50)] = -np.inf  # as after top-k
        proc = AigcWatermarkLogitsProcessor(key, context_width=width, delta=1.7)
        got = proc(torch.from_numpy(ids), torch.from_numpy(logits.copy())).numpy()
        want = watermark_logits(logits, ids, key, context_width=width, delta=1.7)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        hook = GreenListHook(key, delta=1.7, context_width=width)
        assert np.array_equal(hook(logits, ids), want)


@needs_llm
def test_hf_generation_detected_at_200_tokens(tiny_lm):
    from aigc_tag.llm.hf import AigcWatermarkLogitsProcessor

    proc = AigcWatermarkLogitsProcessor(PRIVATE)
    texts = []
    for seed, kw in ((0, {"top_k": 0}), (1, {"top_k": 50}), (2, {"top_p": 0.9, "top_k": 0})):
        texts += list(_generate(tiny_lm, _prompts(3, seed), seed=seed, processors=[proc], **kw))
    for ids in texts:
        d = proc.detect(ids, vocab_size=VOCAB)
        assert d.z_score >= 4 and d.detected and d.p_value <= 3.2e-5, d.to_json()
        assert not detect_tokens(ids, PUBLIC).detected  # public vs private key independence
        assert detect_tokens(ids, WatermarkKey.private("another secret")).p_value > 1e-3


def _word_tokenizer():
    """A Hugging Face fast tokenizer built in memory: one word ``w<id>`` per token id."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {f"w{i}": i for i in range(VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="w0")


@needs_llm
def test_hf_generate_decode_detect_text(tiny_lm):
    from aigc_tag.llm.hf import AigcWatermarkLogitsProcessor

    tok = _word_tokenizer()
    proc = AigcWatermarkLogitsProcessor(PRIVATE)
    ids = _generate(tiny_lm, _prompts(2, 21), seed=21, processors=[proc], top_k=0)
    for text in tok.batch_decode(ids):
        d = detect_text(text, tok, PRIVATE)
        assert d.detected and d.num_tokens == NEW
        assert not detect_text(text, tok).detected  # the public key finds nothing


@needs_llm
def test_hf_batch_with_left_padding(tiny_lm):
    from aigc_tag.llm.hf import AigcWatermarkLogitsProcessor

    proc = AigcWatermarkLogitsProcessor(PUBLIC)
    prompts = _prompts(4, 7)
    mask = torch.ones_like(prompts)
    prompts[:2, :2], mask[:2, :2] = 0, 0  # two shorter prompts, left-padded
    out = _generate(tiny_lm, prompts, seed=7, processors=[proc], attention_mask=mask)
    assert out.shape == (4, NEW)
    for row, prompt in zip(out, prompts.numpy(), strict=True):
        assert detect_tokens(row, PUBLIC, context_ids=prompt[-1:]).detected


@needs_llm
def test_no_false_positive_on_500_unwatermarked_texts(tiny_lm):
    texts: list[np.ndarray] = []
    texts += list(_generate(tiny_lm, _prompts(40, 10), seed=10, top_k=0))  # plain sampling
    texts += list(_generate(tiny_lm, _prompts(20, 11), seed=11, top_k=0, temperature=0.05))
    texts += list(_generate(tiny_lm, _prompts(10, 12), seed=12, do_sample=False))  # greedy loops
    texts += _null_corpus(np.random.default_rng(14))
    assert len(texts) == 500
    worst = min(texts, key=lambda ids: detect_tokens(ids, PUBLIC).p_value)
    d = detect_tokens(worst, PUBLIC)
    assert d.p_value > 1e-3 and not d.detected, d.to_json()
    # the low-temperature and greedy texts are repetitive: the rule scores far fewer n-grams
    assert np.median([detect_tokens(t, PUBLIC).num_scored for t in texts[40:70]]) < NEW / 2


def test_missing_extra_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.delitem(sys.modules, "aigc_tag.llm.hf", raising=False)
    with pytest.raises(ImportError, match=r"aigc-tag\[llm\]"):
        importlib.import_module("aigc_tag.llm.hf")
    monkeypatch.delitem(sys.modules, "aigc_tag.llm.hf", raising=False)
