"""SIGINT and SIGTERM during a command become an exception, so that no partial output is left.

Python turns SIGINT into ``KeyboardInterrupt`` already, but SIGTERM (``kill``, a batch scheduler, a
container stopping) ends the process at once by default: no ``finally`` block and no cleanup of
:func:`cellscape.io.atomic.write_atomic` runs, and a ``.NAME.PID.partial`` file stays behind.
:func:`interrupts_raise` makes both signals raise :class:`Interrupted` (a ``KeyboardInterrupt``) in
the main thread: the atomic writers remove their temporary files, a streamed run keeps its journal
for ``--resume``, and ``cellscape.cli._errors.one_line_errors`` prints one line and exits non-zero.

A second signal while the first one's cleanup runs is ignored (it would otherwise break into that
cleanup); a third one stops the process at once, as a last resort, without cleaning up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
import os
import signal
import threading

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCE_AFTER = 3
"""The signal count at which the process stops at once, without cleaning up."""


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGINT, SIGTERM) raised as an exception in the main thread.

    A ``KeyboardInterrupt``, so that it passes ``except Exception`` blocks and every handler of
    ``KeyboardInterrupt`` (the CLI's one-line errors included) treats it as Ctrl-C.

    >>> Interrupted(signal.SIGTERM).signum == signal.SIGTERM
    True
    >>> str(Interrupted(signal.SIGTERM))
    'interrupted by SIGTERM'
    """

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


@contextmanager
def interrupts_raise(signums: Sequence[int] = HANDLED_SIGNALS) -> Iterator[None]:
    """Within the block, the first of ``signums`` raises :class:`Interrupted`; the handlers before
    are restored after it. A no-op outside the main thread (only it may set signal handlers).

    >>> import os
    >>> before = signal.getsignal(signal.SIGTERM)
    >>> try:
    ...     with interrupts_raise():
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         print("not reached")
    ... except Interrupted as exc:
    ...     print(exc)
    interrupted by SIGTERM
    >>> signal.getsignal(signal.SIGTERM) is before
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handler(signum, frame):
        nonlocal received
        received += 1
        if received == 1:
            raise Interrupted(signum)
        if received >= FORCE_AFTER:
            os.write(2, b"interrupted again: stopping at once, without cleaning up\n")
            os._exit(128 + signum)
        # the second: the first one's cleanup is running; let it finish

    previous = {s: signal.getsignal(s) for s in signums}
    for s in signums:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
