"""Scripted trouble for the emulator: error codes, HTTP 500s, latency, stalls after the effect.

`POST /_sandbox/faults` replaces the settings (`FaultPlan`, every field optional). They apply
to every API call whose path matches `only_paths` (alias `endpoints`; all `/cgi-bin/` calls when
absent). For each matching call, in this order:

- `latency_ms`: wait this long first;
- `timeout_after_effect_rate`: perform the call, then hold the reply back until the client
  hangs up (or `stall_ms` passes), so the client times out although the effect happened;
- `http_500_rate`: answer HTTP 500 without doing anything;
- `error_rate`: answer HTTP 200 with the next errcode from `codes` (taken in turn), nothing done.

Rolls use `random.Random(seed)`, so a seeded plan repeats exactly; a rate of 1 always fires.
`next_n` limits the plan to the next N matching calls, after which it clears itself:
`{"error_rate": 1, "codes": [-1], "next_n": 2}` fails the next two calls and no more.

Platform settings ride along: `expire_tokens: true` expires every token issued so far (the next
call with one gets 42001), `publish_delay_ms` and `publish_outcome` (0, 2, 3 or 4) set how new
publish jobs run and end (absent: the emulator's configured defaults).
"""

import random
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1)
    codes: list[int] = Field(default_factory=lambda: [-1], min_length=1)
    http_500_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: int = Field(0, ge=0)
    timeout_after_effect_rate: float = Field(0.0, ge=0, le=1)
    stall_ms: int | None = Field(None, ge=0)  # None: the emulator's configured stall
    only_paths: list[str] | None = Field(None, validation_alias=AliasChoices("only_paths", "endpoints"))
    next_n: int | None = Field(None, ge=1)
    seed: int | None = None
    expire_tokens: bool = False
    publish_delay_ms: int | None = Field(None, ge=0)
    publish_outcome: Literal[0, 2, 3, 4] | None = None

    def matches(self, path: str) -> bool:
        if not self.only_paths:
            return True
        return any(path == p or path.endswith("/" + p.strip("/")) for p in self.only_paths)


@dataclass(frozen=True)
class Decision:
    """What to do to one call: `action` is None, "timeout_after_effect", "http_500" or "errcode"."""

    latency_s: float = 0.0
    action: str | None = None
    code: int | None = None
    stall_ms: int | None = None


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.install(FaultPlan())

    def install(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)
            self._next_code = 0
            self._remaining = plan.next_n

    def snapshot(self) -> dict:
        with self._lock:
            return {**self._plan.model_dump(), "remaining": self._remaining}

    def decide(self, path: str) -> Decision:
        with self._lock:
            plan = self._plan
            if not plan.matches(path):
                return Decision()
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining == 0:  # the last call of the plan; later calls run clean
                    spent = {"error_rate": 0.0, "http_500_rate": 0.0, "timeout_after_effect_rate": 0.0, "latency_ms": 0}
                    self._plan = plan.model_copy(update=spent)
                    self._remaining = None
            latency = plan.latency_ms / 1000
            if self._rng.random() < plan.timeout_after_effect_rate:
                return Decision(latency, "timeout_after_effect", stall_ms=plan.stall_ms)
            if self._rng.random() < plan.http_500_rate:
                return Decision(latency, "http_500")
            if self._rng.random() < plan.error_rate:
                code = plan.codes[self._next_code % len(plan.codes)]
                self._next_code += 1
                return Decision(latency, "errcode", code)
            return Decision(latency)
