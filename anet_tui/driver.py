"""The full-screen app's terminal driver: Textual's LinuxDriver, made safe against two things a
debugger meets and Textual 8.2.8 does not survive; and :func:`crash_of`, what ended an app.

1. Input that is not UTF-8 (a Latin-1 terminal over ssh, a binary paste). Textual's input thread
   decodes strictly: one ``\\xff`` raises UnicodeDecodeError there and the app quits, status 0
   (textual#6456, open for 8.2.8). :meth:`AppDriver.run_input_thread` is Textual 8.2.8's, with
   ``errors="replace"``: a bad byte becomes ``�`` (U+FFFD), as in the plain REPL, and a character
   split across two reads still decodes whole (the decoder is incremental). This is the one
   module that uses Textual's private ``_xterm_parser`` and ``_loop``; drop the override when
   Textual decodes with ``errors="replace"`` itself.

2. ``os._exit()`` in user code. It ends the process at once, past every ``finally`` and
   ``atexit``, leaving the terminal raw, on the alternate screen, reporting the mouse, cursor
   hidden. While the app is in application mode, ``os._exit`` is replaced process-wide (user
   code imports ``os`` itself) by :func:`exit_restoring_terminal`, which restores the terminal
   first, then calls the real one with the same status.

This is the one module that touches Textual's private names (``_xterm_parser``, ``_loop``,
``App._exception``): a Textual upgrade that moves them breaks here, and tests/tui/test_driver.py
says so.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import sys
import threading
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING, Any

from textual._loop import loop_last  # Textual 8.2.8 private: see point 1 above
from textual._xterm_parser import XTermParser  # idem

if sys.platform == "win32":  # Textual's own driver there: this module gives crash_of only
    from textual.driver import Driver as LinuxDriver
else:
    from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App

# What Textual's stop_application_mode writes, and the modes it turns on anywhere: the Kitty
# keyboard protocol popped (before leaving the alternate screen), the alternate screen left,
# cursor shown, focus, paste, mouse (every mode Textual may enable) and in-band resize reports
# off, line wrap on.
RESTORE = (
    "\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?2004l"
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2048l\x1b[?7h"
)
DRAIN_SECONDS = 1.0  # how long os._exit waits for frames already queued to reach the terminal

_real_exit = os._exit
_active: AppDriver | None = None  # the driver in application mode, while os._exit is guarded
_owner_pid = 0  # the process that guarded it (a forked child must not touch the terminal)


def exit_restoring_terminal(status: int) -> None:
    """``os._exit`` while the app runs: put the terminal back as it was, then exit."""
    driver = _active
    if driver is not None and os.getpid() == _owner_pid:
        with contextlib.suppress(Exception):  # exiting anyway: the status matters more
            driver.restore_terminal()
    _real_exit(status)


class AppDriver(LinuxDriver):
    """LinuxDriver decoding input with ``errors="replace"``, and guarding ``os._exit``."""

    def start_application_mode(self) -> None:
        global _active, _owner_pid
        super().start_application_mode()
        _active, _owner_pid = self, os.getpid()
        os._exit = exit_restoring_terminal

    def stop_application_mode(self) -> None:
        global _active
        if _active is self:
            _active = None
            if os._exit is exit_restoring_terminal:
                os._exit = _real_exit
        super().stop_application_mode()

    def restore_terminal(self) -> None:
        """Leave application mode at once, from any thread: the frames already queued are
        written (for at most ``DRAIN_SECONDS``), then the escape sequences that undo every mode
        the app set, then the terminal's saved attributes."""
        drain = threading.Thread(target=self.close, daemon=True)  # stops the writer thread
        drain.start()
        drain.join(DRAIN_SECONDS)
        out = sys.__stderr__
        if out is not None:
            os.write(out.fileno(), RESTORE.encode())
        if self.attrs_before is not None:
            import termios  # POSIX only, as this driver

            termios.tcsetattr(self.fileno, termios.TCSANOW, self.attrs_before)

    def run_input_thread(self) -> None:
        """Textual 8.2.8's input loop, decoding with ``errors="replace"`` (textual#6456)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")(errors="replace").decode

        def process(events: list[tuple[Any, int]], final: bool = False) -> None:
            for last, (_key, mask) in loop_last(events):
                if mask & selectors.EVENT_READ:
                    text = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not text:
                        break  # stdin is a pipe that ended
                    for event in feed(text):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            with contextlib.suppress(Exception):  # Textual ignores EOFError/ParseError here
                for _ in feed(""):
                    pass


def crash_of(app: App[Any]) -> BaseException | None:
    """The exception that ended ``app`` (None if it ended otherwise). Textual prints its
    traceback and restores the terminal, but ``run()`` only sets ``return_code`` to 1: the
    exception itself is ``App._exception`` (private in Textual 8.2.8, which has no public name
    for it; ``run_test`` re-raises this same attribute)."""
    return app._exception


__all__ = ["AppDriver", "crash_of", "exit_restoring_terminal"]
