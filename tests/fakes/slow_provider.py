"""Providers for run tests: the builtin composer behind a remote-looking name, with usage."""

from __future__ import annotations

import threading
import time

from signoff.agents.providers.builtin import BuiltinProvider
from signoff.agents.providers.port import DraftFailed, DraftRequest, DraftResult


class RemoteLikeProvider:
    """Drafts like the builtin composer but reports tokens and cost like a model would."""

    name = "fake"

    def __init__(
        self,
        *,
        delay: float = 0.0,
        tokens: int = 100,
        cost: float = 0.01,
        fail_for: tuple[str, ...] = (),
        crash_after: int | None = None,
    ) -> None:
        self.inner = BuiltinProvider()
        self.delay, self.tokens, self.cost = delay, tokens, cost
        self.fail_for = fail_for  # "SKU/channel" cells that never get a valid draft
        self.crash_after = crash_after  # raise (a worker dying) on this many-th call
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def draft(self, request: DraftRequest) -> DraftResult:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            call = self.calls
        try:
            if self.crash_after is not None and call > self.crash_after:
                raise RuntimeError("worker died")
            time.sleep(self.delay)
            cell = f"{request.product.sku}/{request.channel.id}"
            if cell in self.fail_for:
                raise DraftFailed(
                    "title: 212 characters, at most 200 allowed",
                    3,
                    provider=self.name,
                    model="fake-1",
                    input_tokens=self.tokens,
                    output_tokens=0,
                    cost=self.cost,
                )
            result = self.inner.draft(request)
            return DraftResult(
                fields=result.fields,
                provider=self.name,
                model="fake-1",
                prompt=result.prompt,
                input_tokens=self.tokens // 2,
                output_tokens=self.tokens - self.tokens // 2,
                cost=self.cost,
            )
        finally:
            with self._lock:
                self.in_flight -= 1


class SlowProvider(RemoteLikeProvider):
    """For the kill test, configured through SIGNOFF_PROVIDERS in a subprocess."""

    def __init__(self) -> None:
        super().__init__(delay=0.05)
