"""A GGUF model loaded through llama.cpp's C API (``llama_cpp``'s low-level bindings): its weights, its
vocabulary (text to tokens and back) and its chat prompt format.

The weights are loaded once per file and shared by every context made on them (``llama_batch.BatchEngine``
makes one per set of slots). Chat prompts are formatted by llama-cpp-python's own formatters
(``llama_chat_format``): the model's Jinja template when it ships one (or the named format llama-cpp-python
recognises in it), else the ``llama-2`` format that ``Llama.create_chat_completion`` falls back to.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mendoza.errors import ConfigError

__all__ = ["ChatPrompt", "LlamaModel", "forget_models", "import_llama_cpp", "load_model", "quiet_loading"]


def import_llama_cpp() -> Any:
    """The ``llama_cpp`` module, or a one-line ``ConfigError`` saying how to install it."""
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError("the local provider needs llama-cpp-python: pip install 'mendoza[local]'") from None
    _silence_llama_logs(llama_cpp)
    return llama_cpp


_quiet_callback: Any = None
_loading = threading.local()


def _silence_llama_logs(llama_cpp: Any) -> None:
    """Keep llama.cpp's own log lines off the terminal but its errors outside loading: llama-cpp-python passes
    through "continued" lines whatever the verbosity, which litters a run's output, and loading a model or
    making a context logs notes at the error level (Gemma's sliding-window cache, a token's type, the
    context's rounding) that say nothing wrong."""
    global _quiet_callback
    if _quiet_callback is not None:
        return

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def quiet(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if level == 3 and not getattr(_loading, "active", False) and b"full-size SWA cache" not in text:
            sys.stderr.write(text.decode("utf-8", "replace"))  # GGML_LOG_LEVEL_ERROR

    _quiet_callback = quiet
    llama_cpp.llama_log_set(quiet, ctypes.c_void_p(0))


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """No llama.cpp log lines on this thread meanwhile (a failure to load is reported by its result)."""
    _loading.active = True
    try:
        yield
    finally:
        _loading.active = False


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    """A conversation formatted for a chat model: the prompt text, whether a BOS token still goes in front
    (the template did not write one), the format's own stop strings, and whether the format was guessed
    (the model ships no template)."""

    text: str
    add_bos: bool
    stop: tuple[str, ...]
    guessed: bool


class LlamaModel:
    """The weights and vocabulary of one GGUF file (see the module). Not thread-safe: call it from the
    llama thread, as the engine does."""

    def __init__(self, path: Path) -> None:
        llama_cpp = import_llama_cpp()
        self.llama_cpp = llama_cpp
        self.path = path
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        with quiet_loading():
            model = llama_cpp.llama_model_load_from_file(str(path).encode("utf-8"), params)
        if not model:
            raise ConfigError(f"cannot load model '{path}': llama.cpp could not read it as a GGUF model")
        self.model = model
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self.n_vocab: int = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_ctx_train: int = llama_cpp.llama_model_n_ctx_train(model)
        self.n_swa: int = llama_cpp.llama_model_n_swa(model)
        self.bos: int = llama_cpp.llama_vocab_bos(self.vocab)
        self.eos: int = llama_cpp.llama_vocab_eos(self.vocab)
        self.add_bos: bool = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab)) and self.bos != -1
        template = llama_cpp.llama_model_chat_template(model, None)
        self.chat_template: str | None = template.decode("utf-8") if template else None
        self._piece = ctypes.create_string_buffer(256)

    # text <-> tokens ---------------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        """The tokens of ``text`` (special tokens parsed, as ``Llama.create_completion`` does), with the
        model's BOS token in front when ``add_bos`` and the model uses one."""
        data = text.encode("utf-8")
        capacity = len(data) + 8
        tokens = (self.llama_cpp.llama_token * capacity)()
        count = self.llama_cpp.llama_tokenize(self.vocab, data, len(data), tokens, capacity, False, True)
        if count < 0:  # the buffer was too small: -count is the size it needs
            capacity = -count
            tokens = (self.llama_cpp.llama_token * capacity)()
            count = self.llama_cpp.llama_tokenize(self.vocab, data, len(data), tokens, capacity, False, True)
        body = list(tokens[:count])
        return ([self.bos] if add_bos and self.add_bos else []) + body

    def piece(self, token: int) -> bytes:
        """The bytes of one generated token (special tokens render as nothing, as in a completion's text)."""
        size = self.llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        if size < 0:
            self._piece = ctypes.create_string_buffer(-size)
            size = self.llama_cpp.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        return self._piece.raw[:size]

    def is_end(self, token: int) -> bool:
        """Whether ``token`` ends generation (end of sequence, end of turn)."""
        return bool(self.llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def token_text(self, token: int) -> str:
        """A special token's own text (``<bos>``), for chat templates that write it."""
        if token == -1:
            return ""
        return bytes(self.llama_cpp.llama_vocab_get_text(self.vocab, token)).decode("utf-8", "replace")

    # chat ----------------------------------------------------------------------------------------------

    def chat_prompt(self, messages: Sequence[dict[str, Any]]) -> ChatPrompt:
        """``messages`` formatted the way ``Llama.create_chat_completion`` formats them for this model."""
        from llama_cpp import llama_chat_format

        formatter: Any
        if self.chat_template is not None:
            named = llama_chat_format.guess_chat_format_from_gguf_metadata(
                {"tokenizer.chat_template": self.chat_template}
            )
            if named in _NAMED_FORMATTERS:
                formatter = getattr(llama_chat_format, _NAMED_FORMATTERS[named])
            else:
                formatter = llama_chat_format.Jinja2ChatFormatter(
                    template=self.chat_template,
                    eos_token=self.token_text(self.eos),
                    bos_token=self.token_text(self.bos),
                    stop_token_ids=[self.eos],
                )
        else:
            formatter = llama_chat_format.format_llama2
        result = formatter(messages=list(messages))
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return ChatPrompt(result.prompt, not result.added_special, tuple(stop), self.chat_template is None)

    def close(self) -> None:
        """Free the weights (every context made on them must be freed first)."""
        if self.model is not None:
            self.llama_cpp.llama_model_free(self.model)
            self.model = None


#: The formats llama-cpp-python recognises by a model's template (``guess_chat_format_from_gguf_metadata``)
#: and formats with its own functions rather than the template.
_NAMED_FORMATTERS = {
    "chatml": "format_chatml",
    "mistral-instruct": "format_mistral_instruct",
    "llama-3": "format_llama3",
}

_models: dict[str, LlamaModel] = {}
_models_lock = threading.Lock()


def load_model(path: Path) -> LlamaModel:
    """The model of a GGUF file, loaded on first use and then shared."""
    key = str(path.resolve())
    with _models_lock:
        if key not in _models:
            _models[key] = LlamaModel(path)
        return _models[key]


def forget_models() -> None:
    """Free every loaded model (their contexts must be freed first)."""
    with _models_lock:
        for model in _models.values():
            model.close()
        _models.clear()
