"""Generation-time statistical text watermark (KGW family, "green list"), framework-free numpy core.

How it works (Kirchenbauer et al. 2023, "A Watermark for Large Language Models"; repeated-n-gram
handling and the exact binomial test as in Kirchenbauer et al. 2023b "On the Reliability of
Watermarks for Large Language Models" and Fernandez et al. 2023 "Three Bricks"):

* **Green lists.** At each generation step the previous ``context_width`` token ids (``h``,
  default 1: "left hash") and the key select a pseudo-random *green* part of the vocabulary,
  a fraction ``gamma`` (default 0.25) of it. The sampler hook adds ``delta`` (default 2.0) to the
  green logits, so whatever sampler follows (greedy, top-k, top-p, temperature) picks green tokens
  more often than chance.
* **Seeding, deterministic everywhere.** No Python ``hash()``, no torch RNG. Two 64-bit words
  come from ``key.seed("text-kgw-v1")`` (SHA-256 of the 32-byte key secret). The context hash
  chains a 64-bit integer mixer (the SplitMix64 finaliser) over the ``h`` context ids; token
  ``t`` is green after context ``c`` iff ``mix(c XOR mix(k1 + t * golden)) < floor(gamma * 2^64)``.
  Everything is unsigned 64-bit integer arithmetic vectorised in numpy, so the green lists are
  bit for bit the same on every platform, device and numpy/torch version.
* **Per-token decision, not a permutation.** Each (context, token) pair is green independently
  with probability ``gamma``. So a green list holds *about* ``gamma * V`` tokens (binomial),
  greenness does not depend on the vocabulary size (a model whose logits are padded beyond the
  tokenizer's vocabulary marks the same tokens), and under the null hypothesis (text written
  without the key) distinct (context, token) pairs are independent Bernoulli(gamma) draws: the
  binomial test on unique pairs is exact, not an approximation.
* **Detection** (:func:`detect_tokens`) needs only the token ids, the key and the scheme
  parameters (``gamma``, ``context_width``) - no model. Each token with ``h`` predecessors is
  scored; by default every distinct (context, token) n-gram is scored **once**
  (``ignore_repeated_ngrams=True``): repeated n-grams are not independent draws, and counting
  them lets repetitive text (a token repeated, a copied paragraph) reach any z-score.
  ``z = (G - gamma T) / sqrt(T gamma (1 - gamma))`` over ``T`` scored n-grams of which ``G`` are
  green. ``detected`` needs ``z >= z_threshold`` (default 4, one-sided normal tail 3.2e-5) *and*
  an exact binomial p-value at most that tail, which keeps short texts (where the normal
  approximation is optimistic) honest.

Limits: the detector must tokenize the text exactly as the generator did (same tokenizer, no
added special tokens, prompt stripped); low-entropy text (code, lists, facts) carries little
signal; paraphrasing, translation or heavy editing removes it; KGW green lists can be estimated
from many marked samples (spoofing/scrubbing), so this is evidence, not a cryptographic proof.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from aigc_tag.watermark.keys import WatermarkKey

SCHEME = "aigc-tag-kgw-v1"
DEFAULT_GAMMA = 0.25
DEFAULT_DELTA = 2.0
DEFAULT_CONTEXT_WIDTH = 1
DEFAULT_Z_THRESHOLD = 4.0
#: Below this many scored n-grams a negative result says little: "not detected" is reported as
#: inconclusive (``conclusive=False``). A positive result is valid at any length.
MIN_CONCLUSIVE_TOKENS = 50

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_CHUNK = 1 << 16  # vocabulary entries hashed per numpy pass

KeyLike = WatermarkKey | str | bytes | None
PMethod = Literal["normal", "binomial"]


def as_key(key: KeyLike) -> WatermarkKey:
    """``None``: the public key; ``str``/``bytes``: a private secret (``--watermark-key-file``)."""
    if key is None:
        return WatermarkKey.public()
    if isinstance(key, WatermarkKey):
        return key
    return WatermarkKey.private(key)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrap-around multiplication is intended).

    Works in place on ``x`` (callers pass a fresh temporary) to keep memory traffic low.
    """
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


@lru_cache(maxsize=32)
def _key_words(secret: bytes) -> tuple[int, int]:
    seed = WatermarkKey(secret).seed(SCHEME)
    return seed >> 64, seed & 0xFFFFFFFFFFFFFFFF


def _token_words(k1: int, token_ids: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _mix(np.uint64(k1) + token_ids.astype(np.uint64) * _GOLDEN)


@lru_cache(maxsize=8)
def _vocab_words(secret: bytes, vocab_size: int) -> np.ndarray:
    words = _token_words(_key_words(secret)[1], np.arange(vocab_size, dtype=np.uint64))
    words.setflags(write=False)
    return words


def _threshold(gamma: float) -> np.uint64:
    if not 0.0 < gamma < 1.0:
        raise ValueError(f"gamma (green fraction) must be in (0, 1), got {gamma}")
    return np.uint64(min(int(gamma * 2.0**64), 2**64 - 1))


def _context_hash(k0: int, contexts: np.ndarray) -> np.ndarray:
    """One uint64 per row of ``contexts`` (rows x h token ids, oldest first)."""
    contexts = np.asarray(contexts)
    if contexts.size and (contexts.min() < 0):
        raise ValueError("token ids must be non-negative")
    c = np.full(contexts.shape[0], k0, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(contexts.shape[1]):
            c = _mix(c ^ _mix(contexts[:, j].astype(np.uint64) + _GOLDEN))
    return c


def _check_width(context_width: int) -> int:
    if int(context_width) != context_width or context_width < 1:
        raise ValueError(f"context_width must be an integer >= 1, got {context_width}")
    return int(context_width)


def _as_rows(input_ids: Any) -> list[np.ndarray]:
    """Batch rows of token ids: a 1-D sequence is one row; 2-D or a list of sequences is a batch."""
    if isinstance(input_ids, np.ndarray) and input_ids.ndim == 2:
        return list(input_ids)
    if isinstance(input_ids, np.ndarray) and input_ids.ndim == 1:
        return [input_ids]
    seq = list(input_ids)
    if seq and isinstance(seq[0], (Sequence, np.ndarray)) and not isinstance(seq[0], (str, bytes)):
        return [np.asarray(row, dtype=np.int64).reshape(-1) for row in seq]
    return [np.asarray(seq, dtype=np.int64).reshape(-1)]


def green_mask(
    input_ids: Any,
    vocab_size: int,
    key: KeyLike = None,
    *,
    gamma: float = DEFAULT_GAMMA,
    context_width: int = DEFAULT_CONTEXT_WIDTH,
) -> np.ndarray:
    """The green lists for the next token: bool array (batch x vocab_size).

    ``input_ids`` is the sequence so far (1-D) or a batch (2-D array or list of sequences); the
    last ``context_width`` ids of each row seed its green list. A row shorter than that has no
    green list (all False: that step is not watermarked and the detector does not score it).
    """
    k = as_key(key)
    h = _check_width(context_width)
    thr = _threshold(gamma)
    rows = _as_rows(input_ids)
    mask = np.zeros((len(rows), int(vocab_size)), dtype=bool)
    ok = [i for i, r in enumerate(rows) if r.size >= h]
    if not ok:
        return mask
    contexts = np.stack([rows[i][-h:] for i in ok]).astype(np.int64)
    c = _context_hash(_key_words(k.secret)[0], contexts)
    words = _vocab_words(k.secret, int(vocab_size))
    step = max(1, _CHUNK // max(1, int(vocab_size)))  # rows per chunk: stay in cache
    with np.errstate(over="ignore"):
        for i in range(0, len(ok), step):
            rows_i = ok[i : i + step]
            mask[rows_i] = _mix(words[None, :] ^ c[i : i + step, None]) < thr
    return mask


def watermark_logits(
    logits: np.ndarray,
    input_ids: Any,
    key: KeyLike = None,
    *,
    gamma: float = DEFAULT_GAMMA,
    delta: float = DEFAULT_DELTA,
    context_width: int = DEFAULT_CONTEXT_WIDTH,
) -> np.ndarray:
    """Add ``delta`` to the green logits of the next token; a new array, same shape and dtype.

    ``logits``: 1-D (vocab) with ``input_ids`` the 1-D sequence so far, or 2-D (batch x vocab)
    with ``input_ids`` a 2-D array or a list of ``batch`` sequences. Apply it before any sampler
    (greedy, top-k, top-p, temperature): ``-inf`` logits stay ``-inf``.
    """
    arr = np.asarray(logits)
    if arr.ndim not in (1, 2):
        raise ValueError(f"logits must be 1-D (vocab) or 2-D (batch x vocab), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    batch = arr.reshape(1, -1) if arr.ndim == 1 else arr
    mask = green_mask(input_ids, batch.shape[1], key, gamma=gamma, context_width=context_width)
    if mask.shape[0] != batch.shape[0]:
        raise ValueError(f"{mask.shape[0]} id sequences for {batch.shape[0]} rows of logits")
    out = np.where(mask, batch + batch.dtype.type(delta), batch)
    return out.reshape(arr.shape)


@dataclass(frozen=True)
class GreenListHook:
    """A reusable sampler hook: ``hook(logits, input_ids) -> logits`` (:func:`watermark_logits`).

    ``key`` is a :class:`WatermarkKey`, a private secret (``str``/``bytes``) or ``None`` for the
    public key. Keep ``gamma`` and ``context_width`` for detection; ``delta`` trades text quality
    for detection power (2.0 is the paper's working point).
    """

    key: KeyLike = None
    gamma: float = DEFAULT_GAMMA
    delta: float = DEFAULT_DELTA
    context_width: int = DEFAULT_CONTEXT_WIDTH

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", as_key(self.key))
        _threshold(self.gamma)
        _check_width(self.context_width)

    def __call__(self, logits: np.ndarray, input_ids: Any) -> np.ndarray:
        return watermark_logits(
            logits,
            input_ids,
            self.key,
            gamma=self.gamma,
            delta=self.delta,
            context_width=self.context_width,
        )

    def green_mask(self, input_ids: Any, vocab_size: int) -> np.ndarray:
        """The green lists for the next token (batch x vocab_size bools)."""
        return green_mask(
            input_ids, vocab_size, self.key, gamma=self.gamma, context_width=self.context_width
        )

    def detect(self, token_ids: Any, **kwargs: Any) -> TextWatermarkDetection:
        """:func:`detect_tokens` with this hook's key, ``gamma`` and ``context_width``."""
        return detect_tokens(
            token_ids, self.key, gamma=self.gamma, context_width=self.context_width, **kwargs
        )


@dataclass(frozen=True)
class TextWatermarkDetection:
    """Outcome of :func:`detect_tokens`.

    ``detected``: ``z_score >= z_threshold`` and ``p_binomial <= normal tail at z_threshold``.
    ``p_value`` is by ``p_method`` ("binomial", the default: exact binomial tail; "normal":
    one-sided normal tail of ``z_score``). ``num_scored`` counts the (unique, by default) n-grams
    scored out of ``num_tokens`` ids; ``conclusive`` is False when nothing was detected on fewer
    than ``MIN_CONCLUSIVE_TOKENS`` scored n-grams (too short or too repetitive to rule it out).
    """

    detected: bool
    z_score: float
    p_value: float
    p_binomial: float
    p_method: str
    num_tokens: int
    num_scored: int
    green_count: int
    gamma: float
    context_width: int
    z_threshold: float
    ignore_repeated_ngrams: bool
    conclusive: bool
    key_name: str

    @property
    def score(self) -> float:
        """The z-score (the name other detections in aigc-tag use)."""
        return self.z_score

    @property
    def green_fraction(self) -> float:
        return self.green_count / self.num_scored if self.num_scored else float("nan")

    @property
    def status(self) -> str:
        """``detected``, ``not_detected`` or ``inconclusive``."""
        if self.detected:
            return "detected"
        return "not_detected" if self.conclusive else "inconclusive"

    def to_json(self) -> dict:
        """A JSON-serialisable dict (the evidence a verification report carries)."""
        frac = self.green_fraction
        return {
            "scheme": SCHEME,
            "detected": bool(self.detected),
            "status": self.status,
            "z_score": round(float(self.z_score), 4),
            "p_value": float(self.p_value),
            "p_binomial": float(self.p_binomial),
            "p_method": self.p_method,
            "num_tokens": int(self.num_tokens),
            "num_scored": int(self.num_scored),
            "green_count": int(self.green_count),
            "green_fraction": None if math.isnan(frac) else round(frac, 4),
            "gamma": float(self.gamma),
            "context_width": int(self.context_width),
            "z_threshold": float(self.z_threshold),
            "ignore_repeated_ngrams": bool(self.ignore_repeated_ngrams),
            "key": self.key_name,
        }


def normal_tail(z: float) -> float:
    """One-sided upper tail of the standard normal, P(Z >= z)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def binomial_tail(green: int, total: int, gamma: float) -> float:
    """Exact P(Binomial(total, gamma) >= green), summed in log space (no scipy needed)."""
    if green <= 0:
        return 1.0
    if green > total:
        return 0.0
    k = np.arange(green, total + 1, dtype=np.float64)
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    log_pmf = (
        math.lgamma(total + 1.0)
        - lgamma(k + 1.0)
        - lgamma(total - k + 1.0)
        + k * math.log(gamma)
        + (total - k) * math.log1p(-gamma)
    )
    top = float(log_pmf.max())
    return min(1.0, math.exp(top) * float(np.exp(log_pmf - top).sum()))


def green_flags(
    token_ids: Any,
    key: KeyLike = None,
    *,
    gamma: float = DEFAULT_GAMMA,
    context_width: int = DEFAULT_CONTEXT_WIDTH,
    context_ids: Any = None,
) -> np.ndarray:
    """Per scored position of ``token_ids``: is it green? (bool array, one per token that has
    ``context_width`` predecessors, counting ``context_ids`` as unscored predecessors)."""
    k = as_key(key)
    h = _check_width(context_width)
    thr = _threshold(gamma)
    prefix = np.asarray([] if context_ids is None else context_ids, dtype=np.int64).reshape(-1)
    ids = np.asarray(token_ids, dtype=np.int64).reshape(-1)
    full = np.concatenate([prefix[-h:] if prefix.size else prefix, ids])
    start = max(h, full.size - ids.size)
    if full.size <= start:
        return np.zeros(0, dtype=bool)
    if full.min() < 0:
        raise ValueError("token ids must be non-negative")
    grams = np.lib.stride_tricks.sliding_window_view(full, h + 1)[start - h :]
    k0, k1 = _key_words(k.secret)
    c = _context_hash(k0, grams[:, :h])
    with np.errstate(over="ignore"):
        return _mix(_token_words(k1, grams[:, h]) ^ c) < thr


def detect_tokens(
    token_ids: Any,
    key: KeyLike = None,
    vocab_size: int | None = None,
    *,
    gamma: float = DEFAULT_GAMMA,
    context_width: int = DEFAULT_CONTEXT_WIDTH,
    z_threshold: float = DEFAULT_Z_THRESHOLD,
    ignore_repeated_ngrams: bool = True,
    p_method: PMethod = "binomial",
    context_ids: Any = None,
) -> TextWatermarkDetection:
    """Test token ids for the watermark of ``key``; no model needed.

    ``token_ids``: the generated tokens only (strip the prompt; pass it, or its last
    ``context_width`` ids, as ``context_ids`` to also score the first generated tokens).
    ``vocab_size`` is optional and only checks the ids (greenness does not depend on it).
    ``gamma`` and ``context_width`` must be those used at generation. Repeated (context, token)
    n-grams are scored once unless ``ignore_repeated_ngrams=False`` (which makes repetitive text
    produce false positives: do not use it for decisions). ``p_value`` is the exact binomial tail
    by default; ``p_method="normal"`` gives the normal tail of ``z_score`` instead, which is
    optimistic on few scored n-grams (0.00027 against an exact 0.0011 for 18 green of 36).
    """
    if p_method not in ("normal", "binomial"):
        raise ValueError(f"p_method must be 'normal' or 'binomial', got {p_method!r}")
    k = as_key(key)
    h = _check_width(context_width)
    ids = np.asarray(token_ids, dtype=np.int64).reshape(-1)
    if vocab_size is not None and ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"token ids outside the vocabulary [0, {vocab_size})")
    flags = green_flags(ids, k, gamma=gamma, context_width=h, context_ids=context_ids)
    if ignore_repeated_ngrams and flags.size:
        prefix = np.asarray([] if context_ids is None else context_ids, dtype=np.int64)
        full = np.concatenate([prefix.reshape(-1)[-h:] if prefix.size else prefix[:0], ids])
        grams = np.lib.stride_tricks.sliding_window_view(full, h + 1)[-flags.size :]
        _, first = np.unique(grams, axis=0, return_index=True)
        flags = flags[np.sort(first)]
    total, green = int(flags.size), int(flags.sum())
    if total:
        z = (green - gamma * total) / math.sqrt(total * gamma * (1.0 - gamma))
    else:
        z = 0.0
    p_norm = normal_tail(z) if total else 1.0
    p_bin = binomial_tail(green, total, gamma)
    detected = bool(total and z >= z_threshold and p_bin <= normal_tail(z_threshold))
    return TextWatermarkDetection(
        detected=detected,
        z_score=float(z),
        p_value=p_norm if p_method == "normal" else p_bin,
        p_binomial=p_bin,
        p_method=p_method,
        num_tokens=int(ids.size),
        num_scored=total,
        green_count=green,
        gamma=float(gamma),
        context_width=h,
        z_threshold=float(z_threshold),
        ignore_repeated_ngrams=bool(ignore_repeated_ngrams),
        conclusive=detected or total >= MIN_CONCLUSIVE_TOKENS,
        key_name=k.name,
    )


#: A Hugging Face tokenizer (anything with ``encode``) or a callable ``text -> ids``.
Tokenizer = Any


def tokenize(text: str, tokenizer: Tokenizer) -> list[int]:
    """Token ids of ``text`` with a Hugging Face tokenizer (``encode(text,
    add_special_tokens=False)``) or any callable returning ids (or a dict with ``input_ids``)."""
    encode = getattr(tokenizer, "encode", None)
    if encode is not None:
        try:
            ids = encode(text, add_special_tokens=False)
        except TypeError:
            ids = encode(text)
        ids = getattr(ids, "ids", ids)  # a `tokenizers.Encoding`
    elif callable(tokenizer):
        ids = tokenizer(text)
    else:
        raise TypeError("tokenizer must have .encode(text) or be a callable text -> ids")
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    arr = np.asarray(ids, dtype=np.int64)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    return arr.reshape(-1).tolist()


def detect_text(
    text: str,
    tokenizer: Tokenizer,
    key: KeyLike = None,
    **kwargs: Any,
) -> TextWatermarkDetection:
    """:func:`detect_tokens` on ``text`` tokenized by ``tokenizer`` (the generator's tokenizer:
    a different one gives different ids and finds nothing). Keyword arguments as
    :func:`detect_tokens`."""
    return detect_tokens(tokenize(text, tokenizer), key, **kwargs)
