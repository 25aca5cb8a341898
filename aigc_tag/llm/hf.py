"""The watermark as a Hugging Face ``transformers`` LogitsProcessor (extra ``aigc-tag[llm]``).

>>> from transformers import LogitsProcessorList
>>> from aigc_tag.llm.hf import AigcWatermarkLogitsProcessor
>>> proc = AigcWatermarkLogitsProcessor(key)           # doctest: +SKIP
>>> out = model.generate(**inputs, do_sample=True,
...                      logits_processor=LogitsProcessorList([proc]))  # doctest: +SKIP
>>> detect_tokens(out[0, inputs["input_ids"].shape[1]:], key)  # doctest: +SKIP

The green lists come from the numpy core (:func:`aigc_tag.llm.kgw.green_mask`), so they agree bit
for bit with :class:`~aigc_tag.llm.kgw.GreenListHook` on any device; only the ``delta`` addition
runs in torch, on the scores' device and dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aigc_tag.errors import MissingLLMExtra

from .kgw import (
    DEFAULT_CONTEXT_WIDTH,
    DEFAULT_DELTA,
    DEFAULT_GAMMA,
    KeyLike,
    TextWatermarkDetection,
    _check_width,
    _threshold,
    as_key,
    detect_tokens,
    green_mask,
)

try:
    import torch
    from transformers import LogitsProcessor
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingLLMExtra(
        "the transformers LogitsProcessor needs torch and transformers: "
        "pip install 'aigc-tag[llm]' (the numpy hook aigc_tag.llm.GreenListHook and the "
        f"detector need neither) [{exc}]"
    ) from exc


class AigcWatermarkLogitsProcessor(LogitsProcessor):
    """KGW green-list watermark for ``model.generate(logits_processor=LogitsProcessorList([...]))``.

    Adds ``delta`` to the green logits of every row; the green list of a row is seeded by its
    last ``context_width`` ids (prompt included, so the first generated token is marked too).
    Put it before sampling warpers (transformers applies ``logits_processor`` entries after its
    own processors and before temperature/top-k/top-p when ``do_sample=True``). Works for
    batches, greedy and beam search; every row costs one vectorised hash over the vocabulary.
    """

    def __init__(
        self,
        key: KeyLike = None,
        *,
        gamma: float = DEFAULT_GAMMA,
        delta: float = DEFAULT_DELTA,
        context_width: int = DEFAULT_CONTEXT_WIDTH,
    ) -> None:
        self.key = as_key(key)
        _threshold(gamma)
        self.gamma = float(gamma)
        self.delta = float(delta)
        self.context_width = _check_width(context_width)

    def green_mask(self, input_ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
        """Bool (batch x vocab_size) green lists for the next token, on the CPU."""
        ids = input_ids.detach().to("cpu").numpy().astype(np.int64, copy=False)
        mask = green_mask(
            ids, vocab_size, self.key, gamma=self.gamma, context_width=self.context_width
        )
        return torch.from_numpy(mask)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        mask = self.green_mask(input_ids, scores.shape[-1]).to(scores.device)
        return torch.where(mask, scores + self.delta, scores)

    def detect(self, token_ids: Any, **kwargs: Any) -> TextWatermarkDetection:
        """:func:`~aigc_tag.llm.kgw.detect_tokens` with this processor's key and parameters
        (``token_ids``: the generated ids only, a tensor or a sequence)."""
        if isinstance(token_ids, torch.Tensor):
            token_ids = token_ids.detach().to("cpu").numpy()
        return detect_tokens(
            token_ids, self.key, gamma=self.gamma, context_width=self.context_width, **kwargs
        )
