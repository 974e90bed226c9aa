"""RTP/RTCP port pairs handed out round-robin from a configured range (pure bookkeeping)."""

from __future__ import annotations


class PortsExhausted(RuntimeError):
    """Every pair in the range is in use."""


class PortPool:
    """Even RTP ports (RTCP on the odd one above) within [first, last].

    Round-robin rather than lowest-free, so a port just released is not
    reused at once, while late packets of the old call may still arrive.
    """

    def __init__(self, first: int, last: int) -> None:
        self._bases = list(range(first + first % 2, last, 2))
        self._in_use: set[int] = set()
        self._next = 0

    def __len__(self) -> int:
        """How many pairs the range holds."""
        return len(self._bases)

    def acquire(self) -> int:
        """The next free RTP port; its RTCP port is that + 1."""
        for step in range(len(self._bases)):
            index = (self._next + step) % len(self._bases)
            base = self._bases[index]
            if base not in self._in_use:
                self._in_use.add(base)
                self._next = index + 1
                return base
        raise PortsExhausted(f"all {len(self._bases)} RTP port pairs are in use")

    def release(self, base: int) -> None:
        """Give a pair back."""
        self._in_use.discard(base)
