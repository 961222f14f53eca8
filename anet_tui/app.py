"""The anet-tui Textual app: a thin view over the shell, the ``%`` commands and anet.debug."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.driver import Driver
from textual.events import Resize
from textual.filter import LineFilter
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static

from anet.debug.records import Graph, NodeRecord
from anet.debug.session import BackwardSession
from anet_tui.ascii import AsciiFilter
from anet_tui.commands import CommandResult, Commands
from anet_tui.driver import crash_of
from anet_tui.editor import EditorUnavailable, run_in_terminal
from anet_tui.history import HistoryFile
from anet_tui.messages import Echo, Finished, Outcome, Output
from anet_tui.shell import RunResult, Shell
from anet_tui.text import ascii_only, internal_error
from anet_tui.widgets.detail_pane import DetailPane
from anet_tui.widgets.flow_view import FlowView
from anet_tui.widgets.graph_tree import GraphTree
from anet_tui.widgets.help_screen import HelpScreen
from anet_tui.widgets.key_footer import KeyFooter
from anet_tui.widgets.lesson_pane import LessonPane
from anet_tui.widgets.repl_input import ReplInput
from anet_tui.widgets.status_line import StatusLine
from anet_tui.widgets.transcript import Transcript

MIN_WIDTH, MIN_HEIGHT = 50, 15  # below this: one sentence instead of panes
NARROW = 80  # below this width, graph and detail share one place
SHORT = 22  # below this height, a smaller REPL pane
MAX_RESULT_LINES = 200  # of one command's result, in the transcript (20,000 flags: one each)

# What an unavailable key waits for (the help screen says it).
NEEDS = {
    "next_cell": "needs a lesson: %lesson N",
    "break_selected": "needs a node selected in the graph",
    "check_selected": "needs a node selected in the graph",
    "next_flag": "needs a flag",
    "previous_flag": "needs a flag",
}

# The session's own keys: ``session('step')`` runs ``%step``.
SESSION_COMMANDS = ("step", "continue", "finish", "restart")

LESSON_COMMANDS = ("lesson", "next", "prev", "goto")  # they bring the lesson pane back
LESSON_KINDS = ("narration", "code")  # lines of a lesson's next step (the lesson pane's)


class AnetApp(App[int]):
    """Status line, graph tree | node detail, REPL, footer."""

    CSS_PATH = "app.tcss"
    TITLE = "anet-tui"

    # The state the views show; each watcher redraws what depends on it.
    busy: var[bool] = var(False, init=False)  # an entry is running
    shown: var[Graph | None] = var(None, init=False)  # what the tree shows
    graph_name: var[str | None] = var(None, init=False)  # and what the user calls it ("loss")
    walk: var[tuple[Any, ...] | None] = var(None, init=False)  # the walk state the cursor follows
    # What the keys need: check_action reads these; a change redraws the footer.
    has_session: var[bool] = var(False, init=False, bindings=True)
    has_flags: var[bool] = var(False, init=False, bindings=True)
    has_lesson: var[bool] = var(False, init=False, bindings=True)
    node_selected: var[bool] = var(False, init=False, bindings=True)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f10",
            "session('step')",
            "step",
            id="step",
            priority=True,
            tooltip="run one node's backward",
        ),
        Binding(
            "f5",
            "session('continue')",
            "continue",
            id="continue",
            priority=True,
            tooltip="run to the next breakpoint, flag or the end",
        ),
        Binding(
            "f6",
            "session('finish')",
            "finish",
            id="finish",
            priority=True,
            tooltip="run to the end, ignoring breakpoints",
        ),
        Binding(
            "f7",
            "session('restart')",
            "restart",
            id="restart",
            priority=True,
            show=False,
            tooltip="undo the session's grads, back to step 0",
        ),
        Binding(
            "b",
            "break_selected",
            "break",
            id="break",
            tooltip="breakpoint on (or off) the selected node's op",
        ),
        Binding(
            "g",
            "check_selected",
            "check",
            id="check",
            tooltip="numerical check of the selected node's backward",
        ),
        Binding(
            "right_square_bracket",
            "next_flag",
            "next flag",
            id="next_flag",
            tooltip="select the next flagged node",
        ),
        Binding(
            "left_square_bracket",
            "previous_flag",
            "previous flag",
            id="previous_flag",
            show=False,
            tooltip="select the previous flagged node",
        ),
        Binding(
            "f9",
            "next_cell",
            "next cell",
            id="next_cell",
            priority=True,
            tooltip="run the lesson's next cell",
        ),
        Binding(
            "f8",
            "flow",
            "flow",
            id="flow",
            priority=True,
            show=False,
            tooltip="the grads' flow chart in the graph's place (again, or Esc: the tree)",
        ),
        Binding("s,n", "session('step')", "step (pdb)", id="pdb_step", show=False),
        Binding("c", "session('continue')", "continue (pdb)", id="pdb_continue", show=False),
        Binding("f2", "focus_pane('graph')", "graph pane", id="focus_graph", show=False),
        Binding("f3", "focus_pane('detail')", "detail pane", id="focus_detail", show=False),
        Binding("f4", "focus_pane('input')", "REPL input", id="focus_repl", show=False),
        Binding("escape", "focus_pane('graph')", "leave the input", id="leave_input", show=False),
        Binding(
            "ctrl+c",
            "interrupt",
            "stop",
            id="interrupt",
            priority=True,
            tooltip="interrupt running code; else clear the input",
        ),
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True),
        Binding("f1", "help", "help", id="help", tooltip="this list of keys and commands"),
    ]

    def __init__(
        self,
        script: str | None = None,
        demo: str | None = None,
        lesson: str | None = None,
        *,
        script_args: Sequence[str] = (),
        shell: Shell | None = None,
        history: HistoryFile | None = None,
    ) -> None:
        super().__init__()
        self.shell = Shell() if shell is None else shell
        self.commands = Commands(self.shell)
        self.commands.run_editor = self._run_editor  # %edit: the terminal handed over
        self.history = HistoryFile(warn=self._history_warning) if history is None else history
        self.script, self.demo, self.lesson = script, demo, lesson
        self.script_args = list(script_args)  # the SCRIPT's sys.argv[1:]
        self.ascii = ascii_only(sys.__stdout__)  # TERM=linux, a locale not UTF-8: anet_tui.ascii
        self._ascii_filter = AsciiFilter()
        self._show_detail = False  # narrow terminals: detail in the graph's place
        self._lesson_hidden = False  # graph and detail chosen over the lesson (show_lesson)
        self._focus: int | None = None  # the node the latest command is about

    # ---- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: messages from the worker may arrive while the app closes, when a
        # query would find nothing.
        self.status_line = StatusLine(id="status")
        self.graph_view = GraphTree(id="graph")
        self.graph_view.border_title = "graph"
        self.flow_view = FlowView(id="flow")
        self.flow_view.border_title = "grad flow per node"
        self.detail = DetailPane(id="detail")
        self.detail.border_title = "detail"
        self.lesson_pane = LessonPane(id="lesson")
        self.transcript = Transcript(id="transcript")
        self.prompt = Static(">>>", id="prompt")
        self.repl_input = ReplInput(self.history.entries, self.complete, id="input")
        self.too_small = Static(id="too-small")
        yield self.status_line
        with Vertical(id="main"):
            with Horizontal(id="top"):
                yield self.graph_view
                yield self.flow_view
                yield self.detail
                yield self.lesson_pane
            with Vertical(id="repl") as repl:
                repl.border_title = "repl"
                yield self.transcript
                with Horizontal(id="prompt-row"):
                    yield self.prompt
                    yield self.repl_input
        yield self.too_small
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.repl_input.focus()
        self.transcript.note(
            "anet-tui · Python with anet, np, Tensor, Function, register ready · "
            "%help for commands · F1 keys · Ctrl+Q quits"
        )
        if self.history.warning:
            self.transcript.note(f"anet-tui: {self.history.warning}", "yellow")
        self.graph_view.show_graph(None)
        self.show_model()
        self.update_status()
        if self.demo is not None or self.script is not None or self.lesson is not None:
            self._begin()
            self.start_up(self.script, self.demo, self.lesson)

    def on_resize(self, event: Resize) -> None:
        self.apply_size(event.size.width, event.size.height)

    def apply_size(self, width: int, height: int) -> None:
        """Pick the layout for the terminal size (classes on the screen, read by app.tcss)."""
        screen = self.screen
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        screen.set_class(too_small, "-too-small")
        screen.set_class(width < NARROW, "-narrow")
        screen.set_class(height < SHORT, "-short")
        screen.set_class(self._show_detail, "-show-detail")
        screen.set_class(self.ascii, "-ascii")
        if too_small:
            self.too_small.update(
                f"The terminal is too small for anet-tui: it needs at least "
                f"{MIN_WIDTH}×{MIN_HEIGHT} and this one is {width}×{height}. "
                "Make the window bigger (or run anet-tui --plain)."
            )
        self.update_status()

    # ---- running input ---------------------------------------------------------------------------
    def on_repl_input_submitted(self, event: ReplInput.Submitted) -> None:
        source = event.source
        if not source.strip():
            return
        if self.busy:
            self.repl_input.load_text(source)  # never lose what was typed
            self.notify("Still running: Ctrl+C stops it.", severity="warning")
            return
        self.history.append(source)
        self.transcript.echo(source)
        self._begin()
        self.execute(source)

    def on_text_area_changed(self, event: ReplInput.Changed) -> None:
        """``>>>`` beside the first input line, ``...`` beside the others."""
        lines = event.text_area.document.line_count
        self.prompt.update("\n".join([">>>"] + ["..."] * (lines - 1)))

    def complete(self, before: str) -> tuple[str, list[str]]:
        """Tab: ``%`` command names at the start of a line, else names and attributes."""
        if before.lstrip().startswith("%") and " " not in before.strip():
            word = before.strip()
            return word, self.commands.complete(word)
        return self.shell.complete(before)

    def on_repl_input_completions(self, event: ReplInput.Completions) -> None:
        shown = event.candidates[:60]
        more = f"  … {len(event.candidates) - 60} more" if len(event.candidates) > 60 else ""
        self.transcript.note("  ".join(shown) + more)

    def run_command(self, command: str, key: str) -> None:
        """A key's action: the same ``%`` command as typed, echoed so the transcript says it."""
        if self.busy:
            self.notify("Still running: Ctrl+C stops it.", severity="warning")
            return
        self.transcript.echo(command, key)
        self._begin()
        self.execute(command)

    def _begin(self) -> None:
        self.busy = True

    @work(thread=True, exclusive=True, group="run")
    def execute(self, source: str) -> None:
        """Run one entry off the UI thread (entries a lesson's ``%next`` hands back too); what
        it prints, each outcome and the end come back as messages."""
        entry = [source]

        def echo(text: str) -> None:
            entry[0] = text
            self.post_message(Echo(text))

        def show(outcome: RunResult | CommandResult) -> None:
            self.post_message(Outcome(entry[0], outcome))

        try:
            self.commands.submit(source, on_output=self._post_output, echo=echo, show=show)
        except Exception as e:  # the command layer failed: say so, keep the app alive
            show(RunResult("error", error=internal_error(f"{source:.40}", e) + "\n"))
        self.post_message(Finished())

    @work(thread=True, exclusive=True, group="run")
    def start_up(self, script: str | None, demo: str | None, lesson: str | None) -> None:
        """Run the script, demo or lesson named on the command line into the namespace. A
        script that raises or exits non-zero is reported in the transcript; the app stays."""
        try:
            outcomes = self.commands.startup(
                script=script,
                demo=demo,
                lesson=lesson,
                on_output=self._post_output,
                script_args=self.script_args,
            )
        except Exception as e:
            outcomes = [RunResult("error", error=internal_error("start-up", e) + "\n")]
        for outcome in outcomes:
            self.post_message(Outcome("", outcome))
        self.post_message(Finished())

    def _post_output(self, text: str) -> None:
        self.post_message(Output(text))

    def on_output(self, message: Output) -> None:
        self.transcript.output(message.text)

    def on_echo(self, message: Echo) -> None:
        self.transcript.echo(message.source)

    def on_outcome(self, message: Outcome) -> None:
        """Show one outcome: a command's lines, or Python's value and error."""
        outcome = message.outcome
        transcript = self.transcript
        transcript.flush()
        if isinstance(outcome, CommandResult):
            lines = outcome.lines
            step = any(line.kind in LESSON_KINDS for line in lines)  # the lesson's next step
            if step:
                self.lesson_ran()
                if self.show_lesson():  # the lesson pane shows it: not the transcript
                    lines = [line for line in lines if line.kind not in LESSON_KINDS]
            start = transcript.end
            for line in lines[:MAX_RESULT_LINES]:
                self.show_line(line.text, line.kind)
            if len(lines) > MAX_RESULT_LINES:
                left = len(lines) - MAX_RESULT_LINES
                self.show_line(f"… {left:,} more lines not shown (%flags lists flags)", "info")
            if step:  # its narration is read from the start
                transcript.keep_in_view(start)
            node = outcome.node
            if node is not None and (outcome.name in ("show", "check") or node.flags):
                self._focus = node.id
            if outcome.name in LESSON_COMMANDS:
                self._lesson_hidden = False  # a lesson command: the lesson comes back
            elif outcome.changed and not transcript.capturing:
                self._lesson_hidden = True  # a walk typed by hand: its graph stays in view
            if outcome.name == "flow":  # the chart in the graph's place too (F8)
                self.call_after_refresh(self.action_flow, True)
            if outcome.after:  # %next: what its cell prints goes to the lesson pane too
                transcript.capture()
        elif isinstance(outcome, RunResult):
            if outcome.value is not None:
                transcript.value(outcome.value)
            if outcome.error:
                transcript.error(outcome.error)
            if outcome.status == "exit":
                code = outcome.exit_code or 0
                self.exit(code, return_code=code)

    def on_finished(self, message: Finished) -> None:
        """The entry and everything it ran are done: redraw the model."""
        self.busy = False
        self.transcript.flush()
        self.lesson_ran()
        self.detail.forget()
        self.show_model()

    def show_line(self, text: str, kind: str) -> None:
        styles = {"error": "red", "flag": "bold red", "info": "dim", "json": "dim", "value": "bold"}
        style = styles.get(kind, "")
        self.transcript.note(text, style)

    def on_repl_input_page_transcript(self, event: ReplInput.PageTranscript) -> None:
        """PageUp / PageDown in the input: the transcript scrolls, the input keeps focus."""
        if event.direction < 0:
            self.transcript.scroll_page_up()
        else:
            self.transcript.scroll_page_down()

    # ---- the lesson ------------------------------------------------------------------------------
    def lesson_ran(self) -> None:
        """A lesson cell has run (%next): what it printed goes to the lesson pane."""
        lines = self.transcript.captured()
        lesson = self.commands.lesson
        if lines is not None and lesson is not None:
            self.lesson_pane.ran(lesson.ran, lines)

    def show_lesson(self) -> bool:
        """Show the lesson pane in the graph's place while a lesson is open and no walk is going
        on (none is open, or it has finished without a flag: flags keep their graph in view),
        unless graph and detail were chosen (F3, or a walk typed by hand) since the last lesson
        command. Returns whether it shows."""
        lesson, session = self.commands.lesson, self.session
        walking = session is not None and not (session.done and not session.flags)
        shown = lesson is not None and not self._lesson_hidden and not walking
        self.lesson_pane.screen.set_class(shown, "-lesson")  # (the main screen, under F1's)
        if lesson is not None and shown:
            self.lesson_pane.show(lesson, self.key_for("next_cell"))
            if self.focused in (self.graph_view, self.detail):
                self.lesson_pane.focus()
        elif self.focused is self.lesson_pane:
            self.graph_view.focus()
        return shown

    # ---- drawing the model ---------------------------------------------------------------------
    @property
    def session(self) -> BackwardSession | None:
        return self.commands.session

    def graph(self) -> tuple[Graph | None, str | None]:
        """What the tree shows, and its name: the session, else the graph of the latest plain
        ``backward()`` or of the latest tensor a Python entry evaluated to."""
        return self.commands.graph, self.commands.graph_name

    def show_model(self) -> None:
        """Point the views at the model as it is now (the watchers below redraw what changed);
        put the tree's cursor on the node the latest command is about, if any."""
        graph, self.graph_name = self.graph()
        if graph is self.shown:
            self.graph_view.refresh_rows()
        self.shown = graph
        session = self.session
        if session is not None and graph is session:
            self.walk = (id(session), session.position, len(session.flags), session.started)
        focus, self._focus = self._focus, None
        if focus is not None:
            self.graph_view.reveal(focus)
        self.show_detail(self.graph_view.selected_id)
        if self.screen.has_class("-flow"):
            self.flow_view.show(self.shown, self.graph_name)
        self.sync_keys()
        self.show_lesson()
        self.update_status()

    def watch_busy(self) -> None:
        self.update_status()

    def watch_graph_name(self) -> None:
        self.update_status()

    def watch_shown(self, graph: Graph | None) -> None:
        """A new graph: a new tree; the cursor follows its walk afresh."""
        self.walk = None
        self.graph_view.show_graph(graph)
        self.update_status()

    def watch_walk(self, state: tuple[Any, ...] | None) -> None:
        """The walk moved: the cursor follows it, unless a command named a node to show."""
        session = self.session
        if state is not None and session is not None and self._focus is None:
            target = session.current or session.last
            if target is not None:
                self.graph_view.reveal(target.id)
        self.update_status()

    def show_detail(self, ident: int | None) -> None:
        self.detail.show(self.shown, ident)

    def on_graph_tree_shown(self, message: GraphTree.Shown) -> None:
        self.show_detail(message.id)
        self.sync_keys()  # b and g work on nodes, not on leaves

    def update_status(self) -> None:
        graph = self.shown
        status = self.status_line
        lesson = self.commands.lesson
        where = None
        if lesson is not None:
            k, n = lesson.steps
            where = f"{lesson.label} · step {k}/{n}"
        if graph is None or self.lesson_pane.screen.has_class("-lesson"):
            status.show(None, None, 0, self.busy, where)
            return
        root = f"#{graph.root.id} {graph.root.op}"
        if self.graph_name and self.graph_name != f"#{graph.root.id}":
            root = f"{self.graph_name} = {root}"
        session = self.session if graph is self.session else None
        status.show(
            root,
            session.position if session is not None else None,
            len(session.flags) if session is not None else 0,
            self.busy,
            where,
        )

    # ---- keys ------------------------------------------------------------------------------------
    def sync_keys(self) -> None:
        """Set what the keys need from the model (the footer redraws when one changes)."""
        session = self.session
        self.has_session = session is not None
        self.has_flags = session is not None and bool(session.flags)
        self.has_lesson = self.commands.lesson is not None
        self.node_selected = self._selected_node() is not None

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters (NO_COLOR's among them), and in ASCII, Textual's own glyphs too."""
        filters = super().get_line_filters()
        return [*filters, self._ascii_filter] if self.ascii else filters

    def get_key_display(self, binding: Binding) -> str:
        """``F10`` rather than ``f10``: as keyboards print it."""
        display = super().get_key_display(binding)
        return display.upper() if display[:1] == "f" and display[1:].isdigit() else display

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform; on Linux and macOS, :class:`AppDriver` (bad
        input bytes become ``�``; ``os._exit`` in user code restores the terminal first)."""
        driver = super().get_driver_class()
        if sys.platform != "win32":
            from textual.drivers.linux_driver import LinuxDriver

            from anet_tui.driver import AppDriver

            if driver is LinuxDriver:  # not one chosen with TEXTUAL_DRIVER
                return AppDriver
        return driver

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that do nothing now, so the footer shows only what works."""
        if action == "session":
            return self.has_session and all(p in SESSION_COMMANDS for p in parameters)
        if action in ("break_selected", "check_selected"):
            return self.has_session and self.node_selected
        if action == "next_cell":
            return self.has_lesson
        if action in ("next_flag", "previous_flag"):
            return self.has_flags
        return True

    def _selected_node(self) -> NodeRecord | None:
        graph, ident = self.shown, self.graph_view.selected_id
        if graph is None or ident is None or ident not in graph:
            return None
        rec = graph.node(ident)
        return rec if isinstance(rec, NodeRecord) else None

    def key_for(self, action: str) -> str:
        """How the key bound to ``action`` is shown now (after any remapping); its own key
        while it is off (F9 before the lesson has opened)."""
        for key, active in self.screen.active_bindings.items():
            if active.node is self and active.binding.action == action:
                return self.get_key_display(active.binding.with_key(key))
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action == action:
                return self.get_key_display(binding.with_key(binding.key.split(",")[0]))
        return action

    def action_session(self, command: str) -> None:
        """F10, F5, F6, F7 (and pdb's s, n, c): the session's ``%step``, ``%continue``, …"""
        self.run_command(f"%{command}", self.key_for(f"session('{command}')"))

    def action_next_cell(self) -> None:
        self.run_command("%next", self.key_for("next_cell"))

    def action_break_selected(self) -> None:
        rec = self._selected_node()
        if rec is None:
            return
        session = self.session
        on = session is not None and any(
            b.kind == "op" and b.value == rec.op for b in session.list_breaks()
        )
        command = f"%break clear {rec.op}" if on else f"%break {rec.op}"
        self.run_command(command, self.key_for("break_selected"))

    def action_check_selected(self) -> None:
        rec = self._selected_node()
        if rec is not None:
            self.run_command(f"%check #{rec.id}", self.key_for("check_selected"))

    def action_next_flag(self) -> None:
        self._jump_flag(+1)

    def action_previous_flag(self) -> None:
        self._jump_flag(-1)

    def _jump_flag(self, direction: int) -> None:
        """Move the tree's cursor to the next (or previous) flagged node, in walk order."""
        session = self.session
        if session is None or not session.flags:
            return
        flagged = list(dict.fromkeys(f.node for f in session.flags))
        selected = self.graph_view.selected_id
        if selected in flagged:
            i = (flagged.index(selected) + direction) % len(flagged)
        else:
            i = 0 if direction > 0 else len(flagged) - 1
        self.graph_view.reveal(flagged[i])
        self.graph_view.focus()

    def action_focus_pane(self, pane: str) -> None:
        """F2 (and Esc): the graph pane, or the lesson in its place; F3: the detail pane (and
        the graph, over a lesson); F4: the input."""
        self._show_detail = pane == "detail"
        self.apply_size(self.size.width, self.size.height)
        target = {"graph": self.graph_view, "detail": self.detail, "input": self.repl_input}[pane]
        if pane != "input":
            self._lesson_hidden = pane == "detail"
            if self.show_lesson():
                target = self.lesson_pane
            self.update_status()
        target.focus()

    def action_flow(self, on: bool | None = None) -> None:
        """F8 (and ``%flow``): the flow chart in the graph pane's place; again: the tree."""
        on = not self.screen.has_class("-flow") if on is None else on
        self.screen.set_class(on, "-flow")
        if on:
            self._lesson_hidden = True
            self.show_lesson()
            self.flow_view.show(self.shown, self.graph_name)
            self.flow_view.rows.focus()
        else:
            self.graph_view.focus()

    def on_flow_view_picked(self, message: FlowView.Picked) -> None:
        """A bar moved to: its node selected in the tree (the detail follows); Enter: the tree."""
        self.graph_view.reveal(message.id)
        if message.go:
            self.action_flow(False)

    def on_flow_view_leave(self) -> None:
        self.action_flow(False)

    def action_interrupt(self) -> None:
        """Ctrl+C: stop running code (KeyboardInterrupt in it, namespace kept); with nothing
        running, drop the input being typed, as every REPL does."""
        if self.busy:
            if self.shell.interrupt():
                self.transcript.note("Ctrl+C: interrupting…", "yellow")
        elif self.repl_input.text:
            self.repl_input.load_text("")
        else:
            self.notify("Nothing is running. Ctrl+Q quits.")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help(), self.commands.help_table()))

    def key_help(self) -> list[tuple[str, str, str]]:
        """(where, key, what) for the help screen: the app's keys as they are bound now (a
        remapped key shows its new key), then the input's and the graph's own keys."""
        live: dict[str, list[str]] = {}
        for key, active in self.screen.active_bindings.items():
            if active.node is self:
                live.setdefault(active.binding.id or "", []).append(
                    self.get_key_display(active.binding.with_key(key))
                )
        rows: list[tuple[str, str, str]] = []
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            keys = live.get(binding.id or "") or [
                self.get_key_display(binding.with_key(k)) for k in binding.key.split(",")
            ]
            note = ""
            if len(binding.key.split(",")[0]) == 1:
                note = "  (outside the input)"
            if self.check_action(binding.action.split("(")[0], ()) is False:
                note += f"  ({NEEDS.get(binding.action, 'needs a session: %debug EXPR')})"
            what = binding.tooltip or binding.description
            rows.append(("everywhere", "/".join(keys), what + note))
        for key, (_, description) in ReplInput.KEYS.items():
            rows.append(("in the REPL input", key, description))
        for key, description in GraphTree.KEYS.items():
            rows.append(("in the graph", key, description))
        for key, description in LessonPane.KEYS.items():
            rows.append(("in the lesson", key, description))
        rows.append(("in the lesson", "F3", "graph and detail instead, until F2 or the next F9"))
        return rows

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The Ctrl+P palette's commands: Textual's (Keys, Quit, Theme, …), then one per app key
        that works now, by what it does (step, continue, finish, …); Textual's own provider lists
        them and finds them by fuzzy search of the title."""
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id in ("pdb_step", "pdb_continue", "leave_input", "quit"):
                continue
            action = binding.action
            name = action.split("(")[0]
            if self.check_action(name, ()) is False:
                continue
            key = self.get_key_display(binding)
            what = binding.tooltip or binding.description
            title = binding.description.capitalize()
            yield SystemCommand(title, f"{what} · key {key}", partial(self.run_action, action))

    def _run_editor(self, argv: Sequence[str]) -> int:
        """%edit's editor, called from the worker: it runs with the app suspended (the terminal
        as it was before the app started), on the UI thread; its exit status."""
        return self.call_from_thread(self._edit_suspended, argv)

    def _edit_suspended(self, argv: Sequence[str]) -> int:
        try:
            with self.suspend():
                return run_in_terminal(argv)
        except SuspendNotSupported:  # a headless or web driver
            raise EditorUnavailable(
                "this terminal cannot be handed to an editor (the app cannot suspend here); "
                "edit the file elsewhere and %run it"
            ) from None

    def _history_warning(self, message: str) -> None:
        # Before mount there is no transcript yet: on_mount shows ``history.warning``.
        transcript = getattr(self, "transcript", None)
        if transcript is not None and transcript.is_mounted:
            transcript.note(f"anet-tui: {message}", "yellow")


class MainScreen(Screen[None]):
    """The app's screen; its live bindings list the app's own keys in the order of
    ``AnetApp.BINDINGS`` (so the footer reads like the ux sketch), then the focused pane's."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings = super().active_bindings
        order: dict[str, int] = {}
        for i, binding in enumerate(AnetApp.BINDINGS):
            assert isinstance(binding, Binding)
            for key in binding.key.split(","):
                order.setdefault(key, i)
        app = self.app

        def rank(item: tuple[str, ActiveBinding]) -> tuple[int, int]:
            key, active = item
            return (0, order.get(key, len(order))) if active.node is app else (1, 0)

        return dict(sorted(bindings.items(), key=rank))


def run(
    script: str | None = None,
    demo: str | None = None,
    lesson: str | None = None,
    script_args: Sequence[str] = (),
) -> int:
    """Start the app (``anet-tui [--demo NAME] [--lesson N] [SCRIPT.py [ARGS…]]``); returns the
    exit code."""
    app = AnetApp(script=script, demo=demo, lesson=lesson, script_args=script_args)
    app.run()
    # Textual has restored the terminal and printed the traceback of a crash; raising it again
    # lets the caller (anet_tui.cli) write it to a file and say where.
    crash = crash_of(app)
    if crash is not None:
        raise crash
    return app.return_code or 0


__all__ = ["AnetApp", "run"]
