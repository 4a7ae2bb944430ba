"""Tiny, deterministic test models built in code and saved like real ones (config, weights, tokenizer.json).

Both are "lexicon" models: hand-set weights make the prediction a function of which vocabulary pieces occur, so tests
know the right answer. The vocabulary holds every character of common European scripts (as word-initial and as
continuation pieces) plus the lexicon words, so any such text tokenizes without [UNK].

- NER: the label of each token is the lexicon label of its piece (context-free), "O" for everything else.
- NLI: any entailment-lexicon piece in the pair makes "entailment" likely, any contradiction piece "contradiction";
  with neither, "neutral" (or "not_entailment") wins.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    PreTrainedTokenizerFast,
    XLMRobertaConfig,
    XLMRobertaForTokenClassification,
)

NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
# Keys are vocabulary pieces: a word-initial piece, or "##piece" for a piece continuing a word.
NER_LEXICON = {
    "Mario": "B-PER",
    "Rossi": "I-PER",
    "Putin": "B-PER",
    "Roma": "B-LOC",
    "Zürich": "B-LOC",
    "Москва": "B-LOC",
    "ONU": "B-ORG",
    "Gian": "B-PER",
    "##franco": "O",  # "Gianfranco": the continuation disagrees, the word still follows its first piece
}
NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}
NLI_LEXICON = {"yes": "entailment", "sì": "entailment", "no": "contradiction", "falso": "contradiction"}

_CHARS = (
    "".join(chr(c) for block in [(0x21, 0x7F), (0xA1, 0x180), (0x391, 0x3CA), (0x400, 0x460)] for c in range(*block))
    + "’‘“”–—€"
)
_HIDDEN = 32


def make_tiny_ner(
    directory: Path,
    labels: tuple[str, ...] = NER_LABELS,
    lexicon: Mapping[str, str] = NER_LEXICON,
    max_position: int = 64,
    kind: Literal["bert", "xlmr"] = "bert",
) -> Path:
    """A token-classification model whose label for each piece is `lexicon[piece]` (else "O").

    kind "bert": WordPiece tokenizer (punctuation split off) + BertForTokenClassification.
    kind "xlmr": sentencepiece-style Unigram tokenizer (NFKC, "▁" word marks, offsets that include the space before a
    word) + XLMRobertaForTokenClassification (positions offset by the padding index).
    """
    label_index = {name: i for i, name in enumerate(labels)}
    tokenizer = _tokenizer(lexicon, kind, max_position)
    config_args = {
        "vocab_size": tokenizer.vocab_size,
        "hidden_size": _HIDDEN,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "intermediate_size": _HIDDEN,
        "id2label": dict(enumerate(labels)),
        "label2id": label_index,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if kind == "bert":
        model = BertForTokenClassification(BertConfig(max_position_embeddings=max_position, **config_args))
    else:
        config = XLMRobertaConfig(max_position_embeddings=max_position + 2, **config_args)  # pad_token_id 1 + 1
        model = XLMRobertaForTokenClassification(config)
    _zero(model)
    embedding = model.base_model.embeddings.word_embeddings.weight
    for token_id in range(tokenizer.vocab_size):
        embedding[token_id] = _signal(label_index["O"])
    for piece, label in lexicon.items():
        embedding[tokenizer.convert_tokens_to_ids(_piece(piece, kind))] = _signal(label_index[label])
    model.classifier.weight[:, : len(labels)] = torch.eye(len(labels))
    return _save(model, tokenizer, directory)


def make_tiny_nli(
    directory: Path,
    id2label: Mapping[int, str] = NLI_LABELS,
    lexicon: Mapping[str, str] = NLI_LEXICON,
    max_position: int = 64,
) -> Path:
    """A BERT sequence-pair classifier following the lexicon rule above, whatever the order of `id2label`."""
    tokenizer = _tokenizer(lexicon, "bert", max_position)
    config = _bert_config(
        tokenizer, max_position, id2label=dict(id2label), label2id={name: i for i, name in id2label.items()}
    )
    model = BertForSequenceClassification(config)
    _zero(model)
    signal_dim = {"entailment": 0, "contradiction": 2}
    embedding = model.bert.embeddings.word_embeddings.weight
    for token_id in range(tokenizer.vocab_size):
        embedding[token_id] = _signal(3)  # filler: zero on the signal dimensions after LayerNorm
    for piece, label in lexicon.items():
        embedding[tokenizer.convert_tokens_to_ids(_piece(piece, "bert"))] = _signal(signal_dim[label])
    # Zero queries and keys attend uniformly, so [CLS] sees the mean of all tokens; the pooler saturates it.
    layer = model.bert.encoder.layer[0]
    layer.attention.self.value.weight[:] = torch.eye(_HIDDEN)
    layer.attention.output.dense.weight[:] = torch.eye(_HIDDEN)
    model.bert.pooler.dense.weight[:] = 100 * torch.eye(_HIDDEN)
    for index, name in id2label.items():
        if name in signal_dim:
            model.classifier.weight[index, signal_dim[name]] = 4.0
        else:
            model.classifier.bias[index] = 2.0
    return _save(model, tokenizer, directory)


def _signal(dim: int) -> torch.Tensor:
    """+1 at `dim` and -1 at the last dimension: zero-mean, so LayerNorm keeps it a clean spike (of height 4)."""
    vector = torch.zeros(_HIDDEN)
    vector[dim], vector[-1] = 1.0, -1.0
    return vector


@torch.no_grad()
def _zero(model: torch.nn.Module) -> None:
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(False)
        parameter.fill_(1.0 if "LayerNorm.weight" in name else 0.0)


def _piece(key: str, kind: str) -> str:
    if kind == "bert":
        return key
    return key[2:] if key.startswith("##") else "▁" + key


def _tokenizer(lexicon: Mapping[str, str], kind: str, max_position: int) -> PreTrainedTokenizerFast:
    words = [_piece(key, kind) for key in lexicon]
    if kind == "bert":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        pieces = specials + list(_CHARS) + ["##" + c for c in _CHARS] + words
        vocab = {p: i for i, p in enumerate(dict.fromkeys(pieces))}
        backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=1000))
        backend.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
        )
        backend.decoder = decoders.WordPiece()
        names = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
        names["mask_token"] = "[MASK]"
    else:
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        pieces = ["▁"] + ["▁" + c for c in _CHARS] + list(_CHARS)
        scored = [(p, 0.0) for p in specials] + [(p, -10.0) for p in pieces] + [(w, -1.0) for w in words]
        backend = Tokenizer(models.Unigram(list(dict(scored).items()), unk_id=3, byte_fallback=False))
        backend.normalizer = normalizers.NFKC()
        backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        backend.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
        )
        backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        names = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        names |= {"cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=max_position, **names)


def _save(model: torch.nn.Module, tokenizer: PreTrainedTokenizerFast, directory: Path) -> Path:
    directory = Path(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def make_tiny_encoder(directory: Path, max_position: int = 64) -> Path:
    """A bare BERT encoder (no head) with seeded random weights: a sentence-embedding model's shape."""
    tokenizer = _tokenizer({}, "bert", max_position)
    torch.manual_seed(0)
    model = BertModel(_bert_config(tokenizer, max_position, architectures=["BertModel"]))
    return _save(model, tokenizer, directory)


def _bert_config(tokenizer: PreTrainedTokenizerFast, max_position: int, **extra) -> BertConfig:
    return BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=_HIDDEN,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=_HIDDEN,
        max_position_embeddings=max_position,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )
