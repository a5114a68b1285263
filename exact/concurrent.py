"""Several Exact calls of one step at once: the step waits one round trip instead of one per call.

A call is a *plan*: a generator that announces each HTTP request it is about to make (`Intent`), then, when told to
go on, does its bookkeeping (the error guard, a token refresh) and hands over the request itself (`Request`), and
finally gets the response (or the error the HTTP call raised) to read. All of the bookkeeping runs on the caller's
thread, so whatever it keeps in a database stays on that thread's connection; only the HTTP requests of a round go to
a small pool of threads, at most MAX_PARALLEL at once.

A round goes out at once only if `may_overlap` says so for its intents (within Exact's minutely and daily calls, and
within the errors the guard still allows per endpoint); otherwise the calls go one after another, each answered
before the next is prepared, exactly as they would without this module. Outcomes come back in the callers' order;
once a call has failed, calls after it are not continued (the first failure in the callers' order is what the caller
reports, so later ones can only cost Exact calls), calls before it are.
"""
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Threads per step: Exact's steps make at most 4 independent calls (the settings page's lists) or a few more rights.
MAX_PARALLEL = 4


@dataclass(frozen=True)
class Intent:
    """A request a plan is about to make: which endpoint, in which division (None: no division, e.g. current/Me)."""

    division: int | None
    endpoint: str


@dataclass(frozen=True)
class Request:
    """The HTTP request itself, prepared on the caller's thread (with the token it carries)."""

    url: str
    accept: str | None
    token: Any
    division: int | None
    endpoint: str


Plan = Generator[Intent | Request, Any, Any]


@dataclass
class Outcome:
    """What became of one plan: its value, or the error it raised; `asked` is False for a plan not continued after
    an earlier one failed."""

    value: Any = None
    error: BaseException | None = None
    asked: bool = True


def drive(plan: Plan, send: Callable[[Request], Any], observe: Callable[[Request, Any], None]) -> Any:
    """Run one plan on this thread, request after request: what a call is without concurrency."""
    answer: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = plan.throw(failure) if failure is not None else plan.send(answer)
        except StopIteration as done:
            return done.value
        answer = failure = None
        if isinstance(step, Request):
            answer, failure = _answer(send, step)
            if failure is None:
                observe(step, answer)


def run_together(plans: Sequence[Plan], send: Callable[[Request], Any], observe: Callable[[Request, Any], None],
                 may_overlap: Callable[[list[Intent]], bool], max_parallel: int = MAX_PARALLEL) -> list[Outcome]:
    """Run the plans' requests round by round, each round at once where `may_overlap` allows it.

    `send` makes the HTTP request (in a pool thread); `observe` notes every answer on this thread, in the callers'
    order, before its plan reads it: also the answers of plans no longer continued (Exact counted them all).
    """
    outcomes: list[Outcome | None] = [None] * len(plans)
    intents: dict[int, Intent] = {}
    first_failure = len(plans)

    def step(index: int, answer: Any = None, failure: BaseException | None = None) -> Intent | Request | None:
        """Advance plan `index`; None once it has finished (its outcome noted)."""
        nonlocal first_failure
        try:
            return plans[index].throw(failure) if failure is not None else plans[index].send(answer)
        except StopIteration as done:
            outcomes[index] = Outcome(value=done.value)
        except Exception as error:  # noqa: BLE001 (an Exact error, or a bug: the caller raises it in its turn)
            outcomes[index] = Outcome(error=error)
            first_failure = min(first_failure, index)
        return None

    def finish_alone(index: int, moved: Intent | Request | None) -> None:
        """Take plan `index` to its end on this thread, each request answered before the next is prepared."""
        while moved is not None:
            if isinstance(moved, Intent):
                moved = step(index)
                continue
            answer, failure = _answer(send, moved)
            if failure is None:
                observe(moved, answer)
            moved = step(index, answer, failure)

    for index in range(len(plans)):
        moved = step(index)
        if moved is not None:
            intents[index] = moved  # a plan's first yield is the intent of its first request

    while intents:
        live = sorted(index for index in intents if index < first_failure)
        for index in set(intents) - set(live):
            _drop(plans, outcomes, index)
            del intents[index]
        if not live:
            break
        round_intents = [intents.pop(index) for index in live]
        if len(live) == 1 or not may_overlap(round_intents):
            for index in live:  # one after another, as without this module
                if index > first_failure:
                    _drop(plans, outcomes, index)
                    continue
                finish_alone(index, step(index))
            continue
        prepared: list[tuple[int, Request]] = []
        for index in live:  # the bookkeeping, in the callers' order, on this thread
            if index > first_failure:
                _drop(plans, outcomes, index)
                continue
            moved = step(index)
            if isinstance(moved, Request):
                prepared.append((index, moved))
            elif moved is not None:  # a plan that announced a request must hand it over
                raise RuntimeError("a plan announced a request and did not make it")
        with ThreadPoolExecutor(max_workers=min(max_parallel, len(prepared)) or 1,
                                thread_name_prefix="exact-call") as pool:
            answers = list(pool.map(lambda item: _answer(send, item[1]), prepared))
        for (index, request), (answer, failure) in zip(prepared, answers):
            if failure is None:
                observe(request, answer)
            if index > first_failure:
                _drop(plans, outcomes, index)
                continue
            moved = step(index, answer, failure)
            if moved is not None:
                intents[index] = moved
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            _drop(plans, outcomes, index)
    return outcomes  # type: ignore[return-value]


def first_error_or_values(outcomes: Sequence[Outcome]) -> list:
    """The plans' values in order, or the error of the first (in the callers' order) that failed."""
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [outcome.value for outcome in outcomes]


def _answer(send: Callable[[Request], Any], request: Request) -> tuple[Any, BaseException | None]:
    try:
        return send(request), None
    except Exception as error:  # noqa: BLE001 (handed back to its plan on the caller's thread)
        return None, error


def _drop(plans: Sequence[Plan], outcomes: list, index: int) -> None:
    plans[index].close()
    if outcomes[index] is None:
        outcomes[index] = Outcome(asked=False)
