"""The anet-tui Textual app: a thin view over the shell, the ``%`` commands and anet.debug."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

from textual import events, work
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.driver import Driver
from textual.events import Resize
from textual.filter import LineFilter
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
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
FLOW_ALONE = 100  # below this width, the flow chart has the top row to itself (F3: the detail)
SHORT = 22  # below this height, a smaller REPL pane
LAYOUT_CLASSES = frozenset(
    ("-too-small", "-narrow", "-flow-alone", "-short", "-show-detail", "-ascii")
)
REDRAW = 0.1  # seconds: while entries wait, the model is redrawn at most this often
MAX_RESULT_LINES = 200  # of one command's result, in the transcript (20,000 flags: one each)

# What an unavailable key waits for (the help screen says it).
NEEDS = {
    "next_cell": "needs a lesson: %lesson N",
    "break_selected": "needs a node selected in the graph",
    "check_selected": "needs a node selected in the graph",
    "next_flag": "needs a flag",
    "previous_flag": "needs a flag",
}
# Actions of the letter keys: they work in the graph and detail panes only.
PANE_ACTIONS = ("pane", "break_selected", "check_selected", "next_flag", "previous_flag")
# Bindings that do one thing, in one row of the help (binding id -> the row's).
TOGETHER = {
    "step_ctrl": "step",
    "continue_ctrl": "continue",
    "finish_ctrl": "finish",
    "restart_ctrl": "restart",
    "next_cell_ctrl": "next_cell",
    "flow_ctrl": "flow",
    "pane_help": "help",
    "focus_graph": "leave_input",
    "previous_flag": "next_flag",
}
# Keys that are not the app's bindings but do the same (Textual's Tab moves the focus on).
EXTRA_KEYS = {"focus_detail": ["Tab"], "focus_repl": ["Tab"]}
# The app's keys the Ctrl+P palette offers, by what they do (the others do the same thing).
PALETTE = {
    "step": "Step",
    "continue": "Continue",
    "finish": "Finish",
    "restart": "Restart",
    "next_cell": "Next cell",
    "break": "Break",
    "check": "Check",
    "next_flag": "Next flag",
    "previous_flag": "Previous flag",
    "focus_graph": "Graph pane",
    "focus_detail": "Detail pane",
    "focus_repl": "REPL input",
    "flow": "Flow",
    "interrupt": "Stop",
    "help": "Help",
}

# The session's own keys: ``session('step')`` runs ``%step``.
SESSION_COMMANDS = ("step", "continue", "finish", "restart")

LESSON_COMMANDS = ("lesson", "next", "prev", "goto")  # they bring the lesson pane back
LESSON_KINDS = ("narration", "code")  # lines of a lesson's next step (the lesson pane's)

# What waits in the run queue: the entry (or, for a key whose command depends on the model, a
# function giving it when its turn comes; None: nothing to run) and the key that asked for it.
Entry = tuple[str | Callable[[], str | None], str | None]


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
    # Esc just left the input: the next key typed in the graph goes back to it, letters too.
    typing_after_esc: var[bool] = var(False, init=False, bindings=True)
    # Keys that run commands queue behind what is running, in the order pressed; Ctrl+C alone
    # jumps the queue. The F-keys and their Ctrl twins are priority bindings (the input's
    # TextArea has its own F6 and F7), so the app sees them before the keys typed ahead of them
    # reach the input: their commands wait for those (``in_order``). Every F-key has a Ctrl key
    # or a letter (GNOME Terminal takes F1 and F10; macOS needs Fn) and each command key its %
    # command. The letters act in the graph and detail panes only (``pane_keys``).
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
            "n,s",
            "pane('step')",
            "step",
            id="pane_step",
            key_display="n s",
            tooltip="run one node's backward (pdb's n and s)",
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
            "c",
            "pane('continue')",
            "continue",
            id="pane_continue",
            tooltip="run to the next breakpoint, flag or the end (pdb's c)",
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
            show=False,
            priority=True,
            tooltip="undo the session's grads, back to step 0",
        ),
        Binding(
            "f9",
            "next_cell",
            "next cell",
            id="next_cell",
            priority=True,
            tooltip="run the lesson's next cell",
        ),
        Binding("ctrl+n", "session('step')", "step", id="step_ctrl", show=False, priority=True),
        Binding(
            "ctrl+g",
            "session('continue')",
            "continue",
            id="continue_ctrl",
            show=False,
            priority=True,
        ),
        Binding(
            "ctrl+f", "session('finish')", "finish", id="finish_ctrl", show=False, priority=True
        ),
        Binding(
            "ctrl+t",
            "session('restart')",
            "restart",
            id="restart_ctrl",
            show=False,
            priority=True,
        ),
        Binding("ctrl+o", "next_cell", "next cell", id="next_cell_ctrl", show=False, priority=True),
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
            "flags",
            id="next_flag",
            key_display="] [",
            tooltip="select the next flagged node ([ the previous)",
        ),
        Binding(
            "left_square_bracket",
            "previous_flag",
            "flags",
            id="previous_flag",
            show=False,
            tooltip="select the previous flagged node",
        ),
        Binding(
            "f2",
            "focus_pane('graph')",
            "graph pane",
            id="focus_graph",
            show=False,
            tooltip="to the graph pane, or the flow chart or lesson in its place (Esc from the"
            " input)",
        ),
        Binding(
            "f3",
            "focus_pane('detail')",
            "detail pane",
            id="focus_detail",
            show=False,
            tooltip="to the detail pane (Tab from the graph; over a lesson, graph and detail)",
        ),
        Binding(
            "f4",
            "focus_pane('input')",
            "REPL input",
            id="focus_repl",
            show=False,
            tooltip="to the REPL input (Tab from the detail pane; or just type)",
        ),
        Binding(
            "f8",
            "flow",
            "flow",
            id="flow",
            priority=True,
            show=False,
            tooltip="the grads' flow chart in the graph's place, below 100 columns the detail's"
            " too (F3: the detail; again, or Esc: the tree)",
        ),
        Binding("ctrl+l", "flow", "flow", id="flow_ctrl", show=False, priority=True),
        Binding("escape", "leave_input", "leave the input", id="leave_input", show=False),
        Binding(
            "ctrl+c",
            "interrupt",
            "stop",
            id="interrupt",
            priority=True,
            tooltip="interrupt running code and drop what is queued; else clear the input",
        ),
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True),
        Binding(
            "f1",
            "help",
            "help",
            id="help",
            tooltip="this list of keys and commands (? in the graph)",
        ),
        # In the graph the footer shows ? help in F1's place (the footer always has a help key).
        Binding("question_mark", "pane('help')", "help", id="pane_help"),
    ]
    # The % command each key runs (F1 help lists it beside the key).
    COMMAND_OF: ClassVar[dict[str, str]] = {
        "step": "%step",
        "continue": "%continue",
        "finish": "%finish",
        "restart": "%restart",
        "next_cell": "%next",
        "flow": "%flow",
        "help": "%help",
        "pane_step": "%step",
        "pane_continue": "%continue",
        "break": "%break OP",
        "check": "%check #ID",
    }

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
        self._queue: deque[Entry] = deque()  # entries waiting for the one running
        self._pressed: str | None = None  # the key being handled (an action's echo names it)
        self._pane = "input"  # the pane the user works in: focus returns there after a resize
        self._drawn = 0.0  # when the model was last redrawn (time.monotonic)

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
        layout = self.layout_classes(width, height)
        if layout != screen.classes & LAYOUT_CLASSES:
            # One restyle of the whole screen for all the classes (one per class changed).
            screen.remove_class(*LAYOUT_CLASSES, update=False)
            screen.add_class(*layout, update=False)
            screen.update_node_styles()
        too_small = "-too-small" in layout
        # %flow's chart drawn to fit the transcript: the terminal less its border and scrollbar.
        self.commands.width = max(40, width - 3)
        if too_small:
            self.too_small.update(
                f"The terminal is too small for anet-tui: it needs at least "
                f"{MIN_WIDTH}×{MIN_HEIGHT} and this one is {width}×{height}. "
                "Make the window bigger (or run anet-tui --plain)."
            )
        else:
            self.call_after_refresh(self.restore_focus)
        self.update_status()

    # ---- running input ---------------------------------------------------------------------------
    def on_repl_input_submitted(self, event: ReplInput.Submitted) -> None:
        source = event.source
        if not source.strip():
            return
        self.history.append(source)
        self.enqueue(source)

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

    # ---- the run queue: one entry runs at a time, the others wait in order ----------------------
    def enqueue(self, entry: str | Callable[[], str | None], key: str | None = None) -> None:
        """Run ``entry`` (typed Python or a ``%`` line; a key's command) after what is running
        and queued; ``key`` names the key that asked for it in the transcript's echo."""
        self._queue.append((entry, key))
        if self.busy:
            self.update_status()
        else:
            self.run_next()

    def run_next(self) -> None:
        """Start the next queued entry, if any (echoed as it starts, so its output follows it)."""
        while self._queue:
            entry, key = self._queue.popleft()
            source = entry() if callable(entry) else entry
            if source is None:  # a key that only moved the cursor, or found nothing to do
                continue
            self.transcript.echo(source, key)
            self._begin()
            self.execute(source)
            return
        self.update_status()

    def _begin(self) -> None:
        self.busy = True

    # One worker at a time, by the queue: not ``exclusive`` (it would cancel the one running,
    # whose thread goes on, instead of waiting for it).
    @work(thread=True, group="run")
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

    @work(thread=True, group="run")
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
            after_cell = transcript.capturing  # (a %next's lines shown once its cell has run)
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
            if outcome.name in LESSON_COMMANDS and not after_cell:
                self._lesson_hidden = False  # a lesson command: the lesson comes back (unless
                # what its cell ran put something else in view: %flow, %show)
            elif outcome.changed and not transcript.capturing:
                self._lesson_hidden = True  # a walk typed by hand: its graph stays in view
            if outcome.name == "show" and node is not None:
                # The node's detail in view, its pictures with it: over the lesson (F2: the
                # lesson again), and over the flow chart where the two share the top row.
                self._lesson_hidden = self._show_detail = True
                self.apply_size(self.size.width, self.size.height)
            if outcome.flow is not None and self.commands.graph is not None:
                # The chart in the graph's place too (F8), per node or per parameter as asked.
                self.flow_view.ask(self.commands.graph, outcome.flow)
                self.call_after_refresh(self.action_flow, True)
            if outcome.after:  # %next: what its cell prints goes to the lesson pane too
                transcript.capture()
        elif isinstance(outcome, RunResult):
            if outcome.value is not None:
                transcript.value(outcome.value)
            if outcome.error:
                transcript.error(outcome.error)
            if outcome.status == "exit":
                self._queue.clear()
                code = outcome.exit_code or 0
                self.exit(code, return_code=code)

    def on_finished(self, message: Finished) -> None:
        """The entry and everything it ran are done: redraw the model and run the next. While
        entries wait (F10 held down), the model is redrawn at most every ``REDRAW`` seconds:
        the next step starts at once, and stepping keeps up with the key."""
        self.busy = False
        self.transcript.flush()
        self.lesson_ran()  # before the next entry's echo: a lesson cell's output ends here
        now = time.monotonic()
        if self._queue and isinstance(self._queue[0][0], str) and now - self._drawn < REDRAW:
            self.run_next()
            if self.busy:
                return
        self._drawn = now
        self.detail.forget()
        self.show_model()
        self.run_next()

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
        queued = len(self._queue)
        lesson = self.commands.lesson
        where = None
        if lesson is not None:
            k, n = lesson.steps
            where = f"{lesson.label} · step {k}/{n}"
        if graph is None or self.lesson_pane.screen.has_class("-lesson"):
            status.show(None, None, 0, self.busy, lesson=where, queued=queued)
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
            lesson=where,
            queued=queued,
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
        if display == "esc":
            return "Esc"
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

    def layout_classes(self, width: int, height: int) -> frozenset[str]:
        """The screen's classes for a terminal of this size (app.tcss reads them)."""
        wanted = {
            "-too-small": width < MIN_WIDTH or height < MIN_HEIGHT,
            "-narrow": width < NARROW,
            "-flow-alone": width < FLOW_ALONE,
            "-short": height < SHORT,
            "-show-detail": self._show_detail,
            "-ascii": self.ascii,
        }
        return frozenset(name for name, on in wanted.items() if on)

    def get_default_screen(self) -> Screen:
        # Laid out for the terminal from the start: classes changed later restyle every widget.
        size = self.size
        return MainScreen(id="_default", classes=" ".join(self.layout_classes(*size)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys work now (the footer shows those). While something runs, a command key
        works whatever the model: it waits its turn (``%debug loss⏎`` then F10 steps)."""
        if action in ("session", "pane"):
            if not all(p in (*SESSION_COMMANDS, "help") for p in parameters):
                return False
            if action == "session":
                return True  # checked when its turn comes (``in_order``)
            if not self.pane_keys():
                return False
            return parameters == ("help",) or self.has_session or self.busy
        if action in ("break_selected", "check_selected"):
            return self.pane_keys() and self.has_session and self.node_selected
        if action in ("next_flag", "previous_flag"):
            return self.pane_keys() and (self.has_flags or self.busy)
        return True

    def pane_keys(self) -> bool:
        """The letters (n s c b g ] [ ?) are keys: the graph or the detail pane has focus, and
        not just by Esc (right after Esc, typing goes back to the input)."""
        graph = getattr(self, "graph_view", None)
        if graph is None or not graph.is_attached or self.screen is not graph.screen:
            return False
        return self.focused in (graph, self.detail) and not self.typing_after_esc

    def footer_shows(self, binding: Binding) -> bool:
        """Whether the footer lists ``binding`` now: the model's keys once there is a model
        (not during every run), the letters instead of the F-keys they stand for (? help in
        F1's place)."""
        action = binding.action
        if action == "pane('help')":
            return binding.show
        if action.startswith(("session(", "pane(")) and not self.has_session:
            return False
        if action == "next_cell" and not self.has_lesson:
            return False
        if action in ("next_flag", "previous_flag") and not self.has_flags:
            return False
        if binding.id in ("step", "continue", "finish", "help") and self.pane_keys():
            # n s step, c continue; F6 and F1 make room for the letters (F1 is on the top line)
            return False
        return binding.show

    def _selected_node(self) -> NodeRecord | None:
        graph, ident = self.shown, self.graph_view.selected_id
        if graph is None or ident is None or ident not in graph:
            return None
        rec = graph.node(ident)
        return rec if isinstance(rec, NodeRecord) else None

    def key_name(self, binding_id: str) -> str:
        """The key that ran an action, as the keyboard prints it: the key being pressed, else
        (the palette ran it) the key bound to ``binding_id``."""
        if self._pressed is not None:
            return self.get_key_display(Binding(self._pressed, ""))
        return self.bound_key(binding_id)

    def bound_key(self, binding_id: str) -> str:
        """The (first) key bound to ``binding_id`` now, after any remapping."""
        main = self.graph_view.screen
        for key, active in main.active_bindings.items():
            if active.binding.id == binding_id:
                return self.get_key_display(active.binding.with_key(key))
        binding = next(b for b in self.BINDINGS if isinstance(b, Binding) and b.id == binding_id)
        return self.get_key_display(binding.with_key(binding.key.split(",")[0]))

    async def on_event(self, event: events.Event) -> None:
        """Every key and paste arrives here first, in the order typed: typing in the graph or
        the detail pane moves to the input before the key is handed on; the key being handled
        is kept for the echo of the command it runs."""
        if isinstance(event, events.MouseDown):
            self.typing_after_esc = False  # a click: working in the pane clicked
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._route(event)
        if not isinstance(event, events.Key):
            await super().on_event(event)
            return
        self._pressed = event.key
        try:
            await super().on_event(event)
        finally:
            self._pressed = None

    def _route(self, event: events.Key | events.Paste) -> None:
        """Typed text never turns into commands by surprise: in the graph or the detail pane (or
        the lesson or the flow chart in their place), a printable key that is not one of the
        pane's keys, any key right after Esc, and a paste go to the input, which takes the focus
        (and the rest of what is typed)."""
        graph = self.graph_view
        panes = (graph, self.detail, self.lesson_pane, self.flow_view.rows)
        if self.screen is not graph.screen or self.focused not in panes:
            return
        if isinstance(event, events.Key):
            if not event.is_printable:
                if event.key != "escape":
                    self.typing_after_esc = False  # working in the pane: its letters are keys
                return
            if not self.typing_after_esc:
                active = self.screen.active_bindings.get(event.key)
                if active is not None and active.enabled:
                    return
        self.typing_after_esc = False
        self._pane = "input"
        self.screen.set_focus(self.repl_input)

    def key_for(self, action: str) -> str:
        """How the key bound to ``action`` is shown now (after any remapping); its own key
        while it is off (F9 before the lesson has opened). The first of the keys that run it:
        F9 for ``next_cell``, not Ctrl+O."""
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action == action:
                return self.bound_key(binding.id or "")
        return action

    def action_session(self, command: str) -> None:
        """F10, F5, F6, F7 (and Ctrl+N, Ctrl+G, Ctrl+F, Ctrl+T): the session's ``%step``,
        ``%continue``, …"""
        self.in_order(f"%{command}", self.key_name(command), "has_session")

    def in_order(self, command: str, key: str, needs: str) -> None:
        """Queue a priority key's ``command`` once the keys typed before it have been handled
        (the input had them, and any entry they ran is queued): through the focused widget's
        messages, then the app's. Then, unless something runs (it may be the ``%debug`` the
        command needs), the model must have what the command ``needs``, or a note says so."""

        def queue() -> None:
            if self.busy or getattr(self, needs):
                self.enqueue(command, key)
            else:
                what = "a session: %debug EXPR" if needs == "has_session" else "a lesson: %lesson N"
                self.notify(f"{key} ({command}) needs {what}", timeout=3)

        widget = self.screen.focused
        if widget is None:
            self.call_later(queue)
        else:
            widget.call_later(self.call_later, queue)

    def action_pane(self, command: str) -> None:
        """The graph's letters: pdb's n and s step, c continues; ? is help."""
        if command == "help":
            self.action_help()
        else:
            self.enqueue(f"%{command}", self.key_name(f"pane_{command}"))

    def action_next_cell(self) -> None:
        self.in_order("%next", self.key_name("next_cell"), "has_lesson")

    def action_break_selected(self) -> None:
        rec = self._selected_node()
        if rec is None:
            return

        def toggle() -> str:  # on or off as the breakpoints are when its turn comes
            session = self.session
            on = session is not None and any(
                b.kind == "op" and b.value == rec.op for b in session.list_breaks()
            )
            return f"%break clear {rec.op}" if on else f"%break {rec.op}"

        self.enqueue(toggle, self.key_name("break"))

    def action_check_selected(self) -> None:
        rec = self._selected_node()
        if rec is not None:
            self.enqueue(f"%check #{rec.id}", self.key_name("check"))

    def action_next_flag(self) -> None:
        self.enqueue(partial(self._jump_flag, +1))

    def action_previous_flag(self) -> None:
        self.enqueue(partial(self._jump_flag, -1))

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
        """F2 (and Esc): the graph pane, or the flow chart or the lesson in its place; F3: the
        detail pane (and the graph, over a lesson); F4: the input."""
        self._show_detail = pane == "detail"
        self.typing_after_esc = False
        self.apply_size(self.size.width, self.size.height)
        target = self._pane_widget(pane)
        if pane == "graph" and self.screen.has_class("-flow"):
            target = self.flow_view.rows  # (F8 or Esc there: the tree)
        if pane != "input":
            self._lesson_hidden = pane == "detail"
            if self.show_lesson():
                target = self.lesson_pane
            self.update_status()
        self.screen.set_focus(target)

    def action_leave_input(self) -> None:
        """Esc: to the graph pane (or the flow chart or lesson in its place); leaving the input,
        what is typed next still goes to it."""
        leaving = self.focused is self.repl_input
        self.action_focus_pane("graph")
        self.typing_after_esc = leaving

    def _pane_widget(self, pane: str) -> Widget:
        return {
            "graph": self.graph_view,
            "detail": self.detail,
            "input": self.repl_input,
            "lesson": self.lesson_pane,
            "flow": self.flow_view.rows,
        }[pane]

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for pane in ("graph", "detail", "input", "lesson", "flow"):
            if event.widget is self._pane_widget(pane):
                self._pane = pane

    def restore_focus(self) -> None:
        """After a resize, focus is where the user was (hiding a pane takes it away): that
        pane, or the one shown in its place, or the input."""
        main = self.graph_view.screen
        focused = main.focused
        if focused is not None and self._drawn_now(focused):
            return
        instead = {
            "graph": ("flow", "lesson", "detail"),
            "detail": ("graph", "flow", "lesson"),
            "lesson": ("graph", "detail"),
            "flow": ("graph", "detail"),
        }
        for pane in (self._pane, *instead.get(self._pane, ()), "input"):
            widget = self._pane_widget(pane)
            if self._drawn_now(widget):
                main.set_focus(widget)
                return

    @staticmethod
    def _drawn_now(widget: Widget) -> bool:
        """Whether ``widget`` is on the screen: neither it nor a container of it is hidden."""
        return all(w.display for w in widget.ancestors_with_self)

    def action_flow(self, on: bool | None = None) -> None:
        """F8 or Ctrl+L (and ``%flow``): the flow chart in the graph pane's place (below
        ``FLOW_ALONE`` columns, in the detail's too: F3 shows the detail, F2 the chart again);
        again: the tree."""
        on = not self.screen.has_class("-flow") if on is None else on
        self.screen.set_class(on, "-flow")
        self._show_detail = False
        self.apply_size(self.size.width, self.size.height)
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
        """Ctrl+C: stop running code (KeyboardInterrupt in it, namespace kept) and drop what is
        queued behind it; with nothing running, drop the input being typed, as every REPL
        does."""
        if self.busy:
            dropped = len(self._queue)
            self._queue.clear()
            said = "Ctrl+C: interrupting…" if self.shell.interrupt() else "Ctrl+C:"
            if dropped:
                said += f" ({dropped} queued entr{'ies' if dropped != 1 else 'y'} dropped)"
            self.transcript.note(said, "yellow")
            self.update_status()
        elif self.repl_input.text:
            self.repl_input.load_text("")
        else:
            self.notify("Nothing is running. Ctrl+Q quits.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help(), self.commands.help_table()))

    def key_help(self) -> list[tuple[str, str, str]]:
        """(where, keys, what) for the help screen, one row per thing a key does: every key that
        does it as bound now (a remapped key shows its new key), and its % command."""
        live: dict[str, list[str]] = {}
        for key, active in self.graph_view.screen.active_bindings.items():
            if active.node is self:
                live.setdefault(active.binding.id or "", []).append(
                    self.get_key_display(active.binding.with_key(key))
                )
        rows: dict[str, list[str]] = {}
        what: dict[str, str] = {}
        where: dict[str, str] = {}
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            ident = binding.id or ""
            keys = live.get(ident) or [
                self.get_key_display(binding.with_key(k)) for k in binding.key.split(",")
            ]
            name = binding.action.split("(")[0]
            row = TOGETHER.get(ident, ident)
            rows.setdefault(row, []).extend(keys + EXTRA_KEYS.get(ident, []))
            if row not in what:
                where[row] = (
                    "in the graph and detail panes" if name in PANE_ACTIONS else "everywhere"
                )
                text = binding.tooltip or binding.description
                command = self.COMMAND_OF.get(row)
                if command is not None:
                    text += f" · {command}"
                needs = self._needs(name)
                if needs is not None:
                    text += f"  ({needs})"
                what[row] = text
        ordered = sorted(rows, key=lambda r: where[r] != "everywhere")
        result = [(where[r], " ".join(rows[r]), what[r]) for r in ordered]
        result.append(
            (
                "in the graph and detail panes",
                "a–z …",
                "any other key typed (or pasted) goes to the REPL input, and you with it; "
                "right after Esc every key does, the letters too: Esc then s = 1 types "
                "s = 1. To use the letters, move in the graph first (↑ ↓) or come by F2",
            )
        )
        for key, (_, description) in ReplInput.KEYS.items():
            result.append(("in the REPL input", key, description))
        for key, description in GraphTree.KEYS.items():
            result.append(("in the graph", key, description))
        for key, description in LessonPane.KEYS.items():
            result.append(("in the lesson", key, description))
        result.append(("in the lesson", "F3", "graph and detail instead, until F2 or the next F9"))
        result.append(
            ("in the lesson", "a–z …", "what is typed (or pasted) goes to the REPL input")
        )
        return result

    def _needs(self, action: str) -> str | None:
        """What the model lacks for ``action`` now (the help says it), or None."""
        if action in ("session", "pane") and not self.has_session:
            return "needs a session: %debug EXPR"
        if action in ("break_selected", "check_selected") and not (
            self.has_session and self.node_selected
        ):
            return NEEDS[action]
        if action in ("next_flag", "previous_flag") and not self.has_flags:
            return NEEDS[action]
        if action == "next_cell" and not self.has_lesson:
            return NEEDS[action]
        return None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The Ctrl+P palette's commands: Textual's (Quit, Theme, …; its Keys panel replaced by
        our F1 help), then one per app key that works now, by what it does (step, continue,
        finish, …); Textual's own provider lists them and finds them by fuzzy search."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand("Keys", "every key and % command (the F1 help)", self.action_help)
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id not in PALETTE:
                continue
            action = binding.action
            if self._needs(action.split("(")[0]) is not None:
                continue
            key = self.bound_key(binding.id or "")
            what = binding.tooltip or binding.description
            yield SystemCommand(
                PALETTE[binding.id or ""], f"{what} · key {key}", partial(self._run_chosen, action)
            )

    def _run_chosen(self, action: str) -> None:
        """A key's action chosen in the palette: it runs from any pane (the letters' check that
        the graph has focus is for keys typed)."""
        _, name, parameters = parse_action(action)
        getattr(self, f"action_{name}")(*parameters)

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
    ``AnetApp.BINDINGS`` (so the footer reads like the ux sketch), then the focused pane's.

    A resize to the size the screen was last laid out at is dropped: Textual hands the screen
    every size the terminal reported, and at start-up on a busy machine (``anet-tui serve``,
    thirty apps starting at once) that was three times the same 80×24, each a full layout.

    Its first ScreenResume (right after its widgets were mounted, each styled as it was) does
    not style every widget again: Textual restyles a screen on each resume, for the changes
    made while another screen was on top, and on the first there were none. That restyle was
    a tenth of the app's start-up."""

    _resumed = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:  # runs before Screen's own handler, which reads the flag
            self._resumed = True
            event.refresh_styles = False

    def on_resize(self, event: Resize) -> None:
        if event.size == self.outer_size:  # what Screen's own ScreenResume handler checks too
            event.prevent_default()  # Screen's own handler: nothing to lay out again

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

        assert isinstance(app, AnetApp)
        shown = {}
        for key, active in sorted(bindings.items(), key=rank):
            binding = active.binding
            if active.node is app and binding.show and not app.footer_shows(binding):
                active = active._replace(binding=replace(binding, show=False))
            shown[key] = active
        return shown


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
