"""Continuous batching for llama.cpp: many generations decoded together in one context, each in a slot of
its own (a llama.cpp sequence), on the one llama thread.

Requests from the event loop enter a queue; a free slot takes the next one at once. Every step builds one
batch: the next token of each sequence that is generating, then prompt tokens of the sequences still
reading theirs (prefill shares the batch with decoding), up to ``n_batch`` tokens; one ``llama_decode``;
then each sequence that got logits samples its next token with its own sampler chain (its seed,
temperature, top-k... and repetition penalties) and ends on its own: an end-of-generation token, one of its
stop strings, or ``max_tokens``. An ended or cancelled sequence frees its slot for the next request; an
error in one (a prompt longer than its context) fails that request only.

The context has ``slots * n_ctx`` cells and one KV stream per slot (``kv_unified`` off), so each slot has
the ``n_ctx`` a request may fill, whatever the others do. A slot keeps the tokens of its last generation. A
new request goes to the free slot whose cache shares the longest prefix with its prompt and reads only the
rest; where another slot (busy or not) holds a longer one, the free slot gets a copy of that slot's cache
(llama.cpp copies a whole stream, a memory copy far cheaper than reading a few-shot preamble again), and a
request whose prefix another slot is still reading waits a step for it. A sliding-window cache that has
dropped cells the rest of the prompt would attend to is not cut: the prompt is read again whole.

Repeats of one prompt (the same tokens: a case's repeats, which the run sends together) share more: a request
whose whole prompt another slot is still reading takes a free slot and follows that one. Once the leader has
read the prompt, each follower gets a copy of its cache and samples its first token, with its own sampler and
seed, from the leader's last logits: the prompt is read, and its last logits computed, once for all of them.
A leader that ends before (cancelled, failed) hands its followers what it read; the first reads the rest and
the others follow it.

The engine runs one decode step per task on the executor it is given (``providers.local`` gives every
engine the same single thread: llama.cpp's OpenMP threads belong to the thread that calls it), so engines
of different models or settings take turns step by step. Its thread count follows the machine
(``cpu_threads``) unless the caller fixes it.

Reproducibility: the tokens of a sequence depend on its seed and on the batches it was decoded in (llama.cpp's
kernels differ with the number of tokens in a batch, and a reused prefix was computed in another batch).
One slot decodes like ``Llama.create_completion`` (the same sampler chain, the same tokens for a seed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from mendoza.errors import ProviderError
from mendoza.providers.cpu_threads import CpuWatch, available_cpus, choose_threads
from mendoza.providers.llama_model import LlamaModel, quiet_loading
from mendoza.providers.llama_sampling import Sampling, sampler_chain

__all__ = ["BatchEngine", "Completion", "Generation", "Sampling"]

#: The most tokens one decode step takes (decoding sequences first, then prompt tokens).
N_BATCH = 512
#: The fewest prompt tokens worth copying another slot's cache for (the copy costs about as much as reading
#: a dozen tokens).
_MIN_COPY = 32
#: How often (seconds) the engine looks again at how busy the machine is.
_THREAD_CHECK_INTERVAL = 2.0


@dataclass(frozen=True, slots=True)
class Generation:
    """One request: the prompt's tokens, when to stop, how to sample."""

    tokens: tuple[int, ...]
    max_tokens: int | None = 16
    stop: tuple[str, ...] = ()
    sampling: Sampling = field(default_factory=Sampling)


@dataclass(frozen=True, slots=True)
class Completion:
    """What a generation produced: its text (up to a stop string), the tokens read and generated, and why
    it ended (``stop``: an end token or a stop string; ``length``: ``max_tokens`` or the context's end)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class _Job:
    """A request on its way: where its answer goes, and whether its caller gave up on it."""

    __slots__ = ("cancelled", "future", "generation", "loop")

    def __init__(self, generation: Generation, future: asyncio.Future[Completion], loop: asyncio.AbstractEventLoop):
        self.generation = generation
        self.future = future
        self.loop = loop
        self.cancelled = False

    def settle(self, result: Completion | BaseException) -> None:
        """Hand the answer (or the error) to the caller's event loop."""

        def deliver() -> None:
            if self.future.done():
                return
            if isinstance(result, BaseException):
                self.future.set_exception(result)
            else:
                self.future.set_result(result)

        # A closed loop (RuntimeError): nobody waits for this answer any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(deliver)


class _Slot:
    """One llama.cpp sequence: the job it serves, its sampler chain, and the tokens in its cache."""

    def __init__(self, seq_id: int) -> None:
        self.seq_id = seq_id
        self.job: _Job | None = None
        self.sampler: Any = None
        #: Tokens whose keys and values are in this sequence's cache, in position order.
        self.cached: list[int] = []
        #: Prompt tokens still to read (the prompt less the reused prefix).
        self.pending: list[int] = []
        self.prompt_tokens = 0
        self.max_tokens = 0
        self.generated: list[int] = []
        self.text = b""
        #: Where this slot's logits are in the batch being decoded (-1: none).
        self.batch_index = -1
        #: The slot reading this slot's prompt for it (the same tokens: another repeat of a sample), whose
        #: cache this one copies and whose last logits it samples its first token from.
        self.leader: _Slot | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None


def _common_prefix(a: list[int], b: tuple[int, ...]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class BatchEngine:
    """Continuous batching on one llama.cpp context (see the module). ``generate`` is called from an event
    loop; everything that touches llama.cpp runs on ``executor``."""

    def __init__(
        self,
        model: LlamaModel,
        executor: Executor,
        *,
        slots: int,
        n_ctx: int,
        n_threads: int | None = None,
        flash_attn: bool = False,
    ) -> None:
        self.model = model
        self.slots_count = slots
        self._executor = executor
        self._fixed_threads = n_threads
        self._flash_attn = flash_attn
        self._lock = threading.Lock()
        self._queue: deque[_Job] = deque()
        self._scheduled = False
        self._closed = False
        self._ctx: Any = None
        self._memory: Any = None
        self._batch: Any = None
        self._slots = [_Slot(i) for i in range(slots)]
        self._requested_ctx = n_ctx
        self.n_ctx = n_ctx
        self.n_batch = N_BATCH
        self.threads = 0
        self._watch: CpuWatch | None = None
        self._next_thread_check = 0.0
        #: Decode steps, the tokens they read and the prefixes copied between slots, for benchmarks and tests.
        self.steps = 0
        self.tokens_decoded = 0
        self.prefix_copies = 0
        #: Requests that took a prompt another slot read for them (the same tokens), and its last logits.
        self.shared_prompts = 0
        #: Seconds spent in ``llama_decode`` and in sampling (and ending sequences) after it.
        self.decode_seconds = 0.0
        #: CPU seconds of the llama thread in ``llama_decode`` (all of the decode's work with one thread).
        self.decode_cpu_seconds = 0.0
        self.sample_seconds = 0.0

    # the caller's side (event loop) -------------------------------------------------------------------

    async def generate(self, generation: Generation) -> Completion:
        """Decode ``generation`` among the others in flight. Cancelling the caller frees its slot."""
        loop = asyncio.get_running_loop()
        job = _Job(generation, loop.create_future(), loop)
        with self._lock:
            if self._closed:
                raise ProviderError("llama.cpp: the model has been closed")
            self._queue.append(job)
        self._kick()
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True
            self._kick()
            raise

    def _kick(self) -> None:
        """Make sure a step is scheduled on the llama thread."""
        with self._lock:
            if self._scheduled or self._closed:
                return
            self._scheduled = True
        self._executor.submit(self._run_step)

    # the llama thread ----------------------------------------------------------------------------------

    def _run_step(self) -> None:
        try:
            more = self._step()
        except Exception as exc:  # never leave a caller waiting on a step that died
            error = exc if isinstance(exc, ProviderError) else ProviderError(f"llama.cpp: {type(exc).__name__}: {exc}")
            self._fail_everything(error)
            more = False
        with self._lock:
            again = (more or bool(self._queue)) and not self._closed
            self._scheduled = again
        if again:
            self._executor.submit(self._run_step)

    def _open(self) -> None:
        """Create the context and the batch on first use."""
        llama_cpp = self.model.llama_cpp
        self._watch = CpuWatch()
        if self._fixed_threads:
            self.threads = self._fixed_threads
        else:
            self.threads = choose_threads(available_cpus(), self._watch.settle())
            self._next_thread_check = time.monotonic() + _THREAD_CHECK_INTERVAL
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = self._requested_ctx * self.slots_count
        params.n_batch = N_BATCH
        params.n_ubatch = N_BATCH
        params.n_seq_max = self.slots_count
        # One stream per slot: a sequence attends to its own cells only (with one shared stream, every token
        # attends over every slot's cells, masked: measured 20% more CPU on the example suite).
        params.kv_unified = False
        # A sliding-window layer keeps its window (plus a batch) per slot, not the whole context: with Gemma 3's
        # five of six layers sliding, the cache is about half the size.
        params.swa_full = False
        params.n_threads = self.threads
        params.n_threads_batch = self.threads  # llama.cpp's default is every core, busy or not
        params.flash_attn_type = (
            llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if self._flash_attn else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        params.no_perf = True
        with quiet_loading():
            ctx = llama_cpp.llama_init_from_model(self.model.model, params)
        if not ctx:
            raise ProviderError(
                f"llama.cpp could not create a context of {self.slots_count} slots x {self._requested_ctx} tokens"
            )
        self._ctx = ctx
        self.n_ctx = int(llama_cpp.llama_n_ctx_seq(ctx))  # llama.cpp rounds it up (256 at least)
        self.n_batch = int(llama_cpp.llama_n_batch(ctx))  # and caps the batch at one sequence's context
        self._memory = llama_cpp.llama_get_memory(ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)

    def _adapt_threads(self) -> None:
        if self._fixed_threads or self._watch is None or time.monotonic() < self._next_thread_check:
            return
        self._next_thread_check = time.monotonic() + _THREAD_CHECK_INTERVAL
        threads = choose_threads(available_cpus(), self._watch.busy_elsewhere())
        if threads != self.threads:
            self.threads = threads
            self.model.llama_cpp.llama_set_n_threads(self._ctx, threads, threads)

    def _step(self) -> bool:
        """One decode step; returns whether work remains."""
        if self._ctx is None:
            self._open()
        self._adapt_threads()
        self._drop_cancelled()
        self._admit()
        active = [slot for slot in self._slots if slot.busy]
        if not active:
            return False
        decoded = self._fill_batch(active)
        if not decoded:
            return bool(self._queue)
        started, cpu_started = time.perf_counter(), time.thread_time()
        status = self.model.llama_cpp.llama_decode(self._ctx, self._batch)
        decoded_at = time.perf_counter()
        self.decode_seconds += decoded_at - started
        self.decode_cpu_seconds += time.thread_time() - cpu_started
        self.steps += 1
        self.tokens_decoded += self._batch.n_tokens
        if status != 0:
            # Not one sequence's fault that can be told apart: fail those of this batch, keep the rest.
            error = ProviderError(f"llama.cpp: decoding failed (llama_decode returned {status})", retryable=True)
            for slot in decoded:
                self._finish(slot, error, forget=True)
            return True
        for slot in decoded:
            if slot.batch_index >= 0 and slot.busy:
                if not slot.generated:  # it has read its prompt: so have its followers
                    self._serve_followers(slot)
                try:
                    self._advance(slot)
                except Exception as exc:  # this sequence's trouble only
                    self._finish(slot, ProviderError(f"llama.cpp: {exc}"), forget=True)
        self.sample_seconds += time.perf_counter() - decoded_at
        return True

    def _serve_followers(self, leader: _Slot) -> None:
        """Give each follower the leader's cache (a copy of its stream, made by llama.cpp at the next decode)
        and its first token, sampled with the follower's own sampler from the logits the leader just got."""
        for follower in self._followers(leader):
            follower.leader = None
            self.model.llama_cpp.llama_memory_seq_cp(self._memory, leader.seq_id, follower.seq_id, -1, -1)
            follower.cached = list(leader.cached)
            follower.batch_index = leader.batch_index
            self.shared_prompts += 1
            try:
                self._advance(follower)
            except Exception as exc:  # this sequence's trouble only
                self._finish(follower, ProviderError(f"llama.cpp: {exc}"), forget=True)

    def _followers(self, leader: _Slot) -> list[_Slot]:
        """The slots waiting for ``leader`` to read their prompt."""
        return [slot for slot in self._slots if slot.leader is leader]

    def _fill_batch(self, active: list[_Slot]) -> list[_Slot]:
        """Put each generating sequence's last token, then prompt tokens, into the batch."""
        batch = self._batch
        n = 0
        decoded: list[_Slot] = []
        for slot in active:
            slot.batch_index = -1
            if slot.leader is not None:  # its prompt is being read by another slot
                continue
            if not slot.pending:  # generating: feed back the token it sampled last
                self._put(n, slot.generated[-1], len(slot.cached), slot.seq_id, True)
                slot.cached.append(slot.generated[-1])
                slot.batch_index = n
                n += 1
                decoded.append(slot)
        for slot in active:
            if not slot.pending or n >= self.n_batch or slot.leader is not None:
                continue
            take = min(len(slot.pending), self.n_batch - n)
            chunk, slot.pending = slot.pending[:take], slot.pending[take:]
            for j, token in enumerate(chunk):
                last = not slot.pending and j == take - 1
                self._put(n, token, len(slot.cached), slot.seq_id, last)
                slot.cached.append(token)
                if last:
                    slot.batch_index = n
                n += 1
            decoded.append(slot)
        batch.n_tokens = n
        return decoded

    def _put(self, i: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
        batch = self._batch
        batch.token[i] = token
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq_id
        batch.logits[i] = logits

    def _advance(self, slot: _Slot) -> None:
        """Sample the slot's next token and see whether its sequence has ended."""
        assert slot.job is not None
        model = self.model
        token = int(model.llama_cpp.llama_sampler_sample(slot.sampler, self._ctx, slot.batch_index))
        if model.is_end(token):
            self._complete(slot, "stop")
            return
        slot.generated.append(token)
        slot.text += model.piece(token)
        stops = [slot.text.find(stop.encode("utf-8")) for stop in slot.job.generation.stop if stop]
        found = [index for index in stops if index >= 0]
        if found:
            slot.text = slot.text[: min(found)]
            self._complete(slot, "stop")
        elif len(slot.generated) >= slot.max_tokens:
            self._complete(slot, "length")

    def _complete(self, slot: _Slot, reason: str) -> None:
        completion = Completion(
            slot.text.decode("utf-8", "ignore"), slot.prompt_tokens, len(slot.generated), reason
        )
        self._finish(slot, completion, forget=False)

    def _finish(self, slot: _Slot, result: Completion | BaseException, *, forget: bool) -> None:
        """End the slot's job with ``result`` and free the slot (``forget``: drop its cache as well)."""
        job = slot.job
        slot.job = None
        orphans = self._followers(slot)
        slot.leader = None
        if slot.sampler is not None:
            self.model.llama_cpp.llama_sampler_free(slot.sampler)
            slot.sampler = None
        slot.pending = []
        if forget:
            if self._memory is not None:
                self.model.llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, -1, -1)
            slot.cached = []
        self._adopt(orphans)
        if job is not None and not job.cancelled:
            job.settle(result)

    def _adopt(self, orphans: list[_Slot]) -> None:
        """Followers whose leader ended before it had read their prompt (cancelled, failed): the first reads
        it, taking what any slot's cache holds of it (what the leader read, unless it failed), and the others
        follow that one."""
        if not orphans:
            return
        first, *rest = orphans
        first.leader = None
        assert first.job is not None
        prompt = first.job.generation.tokens
        _, shared = self._place(prompt, [first])
        keep = self._cut(first, min(shared, len(prompt) - 1))
        first.cached = list(prompt[:keep])
        first.pending = list(prompt[keep:])
        for slot in rest:
            slot.leader = first

    def _drop_cancelled(self) -> None:
        for slot in self._slots:
            if slot.job is not None and slot.job.cancelled:
                # What it read of its prompt stays reusable; a half-read prompt is cut back to what was read.
                self._finish(slot, asyncio.CancelledError(), forget=False)
        with self._lock:
            if any(job.cancelled for job in self._queue):
                self._queue = deque(job for job in self._queue if not job.cancelled)

    def _admit(self) -> None:
        """Give queued requests free slots, in order. A request whose prompt starts like one that another
        slot is still reading waits for that slot to have read it (a step or two), then copies it instead of
        reading the same tokens again (the first wave of a run: every repeat of a few-shot prompt at once)."""
        with self._lock:
            waiting = list(self._queue)
        held: list[_Job] = []
        taken: set[int] = set()
        for job in waiting:
            free = [slot for slot in self._slots if not slot.busy]
            if not free:
                break
            taken.add(id(job))
            if job.cancelled:
                continue
            leader = self._reading(job.generation.tokens)
            if leader is not None:
                try:
                    self._follow(job, leader, free)
                except Exception as exc:  # this request's trouble only
                    job.settle(ProviderError(f"llama.cpp: {exc}"))
                continue
            if self._worth_waiting(job.generation.tokens):
                held.append(job)
                continue
            try:
                self._start(job, free)
            except ProviderError as exc:
                job.settle(exc)
            except Exception as exc:  # this request's trouble only
                job.settle(ProviderError(f"llama.cpp: {exc}"))
        with self._lock:
            rest = [job for job in self._queue if id(job) not in taken]
            self._queue = deque([*held, *rest])

    def _reading(self, prompt: tuple[int, ...]) -> _Slot | None:
        """A slot still reading exactly ``prompt`` (another repeat of the same request), if any."""
        for slot in self._slots:
            if slot.pending and slot.leader is None and slot.job is not None and slot.job.generation.tokens == prompt:
                return slot
        return None

    def _follow(self, job: _Job, leader: _Slot, free: list[_Slot]) -> None:
        """Start ``job`` in a free slot that waits for ``leader`` to read their common prompt (see
        ``_serve_followers``): the prompt is read once, and its last logits computed once, for all repeats."""
        # The free slot whose cache is worth least to others (the copy overwrites it).
        slot = min(free, key=lambda candidate: len(candidate.cached))
        self._prepare(slot, job)
        self._cut(slot, 0)
        slot.cached, slot.pending = [], []
        slot.leader = leader

    def _worth_waiting(self, prompt: tuple[int, ...]) -> bool:
        """Whether a slot still reading its prompt will soon hold at least ``_MIN_COPY`` more of ``prompt``'s
        first tokens than any slot holds now."""
        ready = max(_common_prefix(slot.cached, prompt) for slot in self._slots)
        reading = [slot for slot in self._slots if slot.busy and slot.pending]
        soon = max((_common_prefix([*slot.cached, *slot.pending], prompt) for slot in reading), default=0)
        return soon >= ready + _MIN_COPY

    def _start(self, job: _Job, free: list[_Slot]) -> None:
        generation = job.generation
        prompt = generation.tokens
        if not prompt:
            raise ProviderError("llama.cpp: the prompt has no tokens")
        if len(prompt) >= self.n_ctx:
            raise ProviderError(
                f"llama.cpp: Requested tokens ({len(prompt)}) exceed context window of {self.n_ctx}"
            )
        bad = [token for token in prompt if not 0 <= token < self.model.n_vocab]
        if bad:
            raise ProviderError(f"llama.cpp: token {bad[0]} is not in the model's vocabulary")
        slot, shared = self._place(prompt, free)
        keep = self._cut(slot, min(shared, len(prompt) - 1))
        self._prepare(slot, job)
        slot.cached = list(prompt[:keep])
        slot.pending = list(prompt[keep:])

    def _prepare(self, slot: _Slot, job: _Job) -> None:
        """Give ``slot`` the job, its sampler and its limits (its cache is the caller's to set)."""
        generation = job.generation
        max_tokens = generation.max_tokens
        room = self.n_ctx - len(generation.tokens)
        slot.max_tokens = room if max_tokens is None or max_tokens <= 0 else min(max_tokens, room)
        slot.sampler = sampler_chain(self.model, generation.sampling)
        slot.job = job
        slot.prompt_tokens = len(generation.tokens)
        slot.generated = []
        slot.text = b""

    def _place(self, prompt: tuple[int, ...], free: list[_Slot]) -> tuple[_Slot, int]:
        """The free slot for ``prompt`` and how many of its first tokens that slot's cache holds: the free
        slot whose cache shares the longest prefix with it, or, when another slot (busy or not) shares at
        least ``_MIN_COPY`` tokens more, a free slot given a copy of that slot's cache (a memory copy of one
        stream, far cheaper than reading the prefix again)."""
        shared = {slot.seq_id: _common_prefix(slot.cached, prompt) for slot in self._slots}
        own = max(free, key=lambda slot: shared[slot.seq_id])
        donor = max(self._slots, key=lambda slot: shared[slot.seq_id])
        if shared[donor.seq_id] < shared[own.seq_id] + _MIN_COPY:
            return own, shared[own.seq_id]
        # The free slot whose cache is worth least to the prompt (and shortest: least to lose for others).
        target = min(free, key=lambda slot: (shared[slot.seq_id], len(slot.cached)))
        # Whole sequences only: llama.cpp copies a stream's buffers at the next decode.
        self.model.llama_cpp.llama_memory_seq_cp(self._memory, donor.seq_id, target.seq_id, -1, -1)
        target.cached = list(donor.cached)
        self.prefix_copies += 1
        return target, shared[donor.seq_id]

    def _cut(self, slot: _Slot, keep: int) -> int:
        """Drop the slot's cache from position ``keep`` on; returns how much of it is kept (0 where llama.cpp
        cannot cut it there: a sliding-window cache that has already dropped cells the rest would need)."""
        llama_cpp = self.model.llama_cpp
        if keep > 0:
            # llama.cpp's server asks the same: has the sliding window dropped cells the new tokens would see?
            lowest = llama_cpp.llama_memory_seq_pos_min(self._memory, slot.seq_id)
            window = self.model.n_swa
            usable = lowest != -1 and (window <= 0 or lowest <= max(0, keep - window))
            if usable and llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, keep, -1):
                return keep
        llama_cpp.llama_memory_seq_rm(self._memory, slot.seq_id, -1, -1)
        return 0


    def _fail_everything(self, error: ProviderError) -> None:
        for slot in self._slots:
            if slot.busy:
                self._finish(slot, error, forget=True)
        with self._lock:
            jobs, self._queue = list(self._queue), deque()
        for job in jobs:
            job.settle(error)

    # closing ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Fail what is in flight and free the context (on the llama thread, after any step under way)."""
        with self._lock:
            self._closed = True
        try:
            self._executor.submit(self._free).result()
        except RuntimeError:  # the executor has shut down (the interpreter is exiting): its thread is idle
            self._free()

    def _free(self) -> None:
        self._fail_everything(ProviderError("llama.cpp: the model has been closed"))
        llama_cpp = self.model.llama_cpp
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx is not None:
            llama_cpp.llama_free(self._ctx)
            self._ctx = None

