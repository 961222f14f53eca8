"""Names vulture reads as unused although something calls them: `vulture` (config in
pyproject.toml, [tool.vulture]) scans anet, anet_tui and this file; tests/test_vulture.py runs it.

Textual's ``on_*``/``action_*``/``watch_*`` handlers are ignored by pattern in pyproject.toml.
Add a name here only when a framework, protocol or user program calls it by name; code that
nothing calls is removed instead. Never imported or run.
"""

# ruff: noqa: B018, F821

# ---- Textual: class attributes and methods it looks up by name -------------------------------
_.CSS_PATH
_.CSS  # inline stylesheet (anet_tui/serve/dashboard.py)
_.TITLE
_.get_system_commands  # the command palette's commands (SystemCommandsProvider)
_.compose
_.get_default_screen
_.check_action  # whether a key works now (asked before a binding runs, and by the footer)
_.border_title
_.border_subtitle
_._on_key  # Widget key hook (ReplInput)
_.run_input_thread  # LinuxDriver's input loop (AppDriver)
_.ICON_NODE  # Tree class attributes
_.ICON_NODE_EXPANDED
_.LINES  # Tree's guide characters (GraphTree sets ASCII ones)
_.background  # LineFilter.apply(segments, background): AsciiFilter's signature
_.show_root  # Tree reactives
_.guide_depth
_.auto_expand
_.no_wrap  # rich.text.Text attribute the TextArea renders

# ---- prompt_toolkit: Completer, History and callback signatures ------------------------------
_.get_completions
_.complete_event
_.load_history_strings
_.store_string
_.line_number  # prompt_continuation(width, line_number, wrap_count)
_.wrap_count
_._enter  # @kb.add key bindings: registered by the decorator
_._indent
_._dedent
_._force_newline

# ---- Python: the file protocol of the worker's sys.stdout/stderr/stdin, reprlib.Repr ----------
_.errors
_.closed
_.writelines
_.readable
_.writable
_.readline
_.readlines
_.maxdict
_.maxlist
_.maxtuple
_.maxother
_.maxstring

# ---- anet's public API: called by user programs (PyTorch's names), not by anet itself --------
_.BatchNorm2D
_.Linear
_.num_batches_tracked
_.cross_entropy
_.mse_loss
_.SGD
_.Adam
_.RMSprop
_.zero_grad
_.randn
_.detach
_.needs_input_grad  # Context: for a user's Function.backward
_.conv2d  # Tensor methods (and operators) set in anet/ops.py
_.view
_.flatten
_.permute
_.__neg__

# ---- read by the tests: state a front-end keeps for them to look at --------------------------
_.running  # Shell: tests wait for code to start running
_.prompt_session  # PlainRepl: tests check its lexer

# ---- asyncssh: SSHServer and SSHServerSession callbacks (anet_tui/serve/server.py) -----------
_.begin_auth
_.public_key_auth_supported
_.password_auth_supported
_.kbdint_auth_supported
_.host_based_auth_supported
_.validate_public_key
_.validate_password
_.auth_completed
_.session_requested
_.connection_requested
_.server_requested
_.unix_connection_requested
_.unix_server_requested
_.pty_requested
_.shell_requested
_.exec_requested
_.subsystem_requested
_.session_started
_.terminal_size_changed
_.pause_writing
_.resume_writing
_.eof_received
_.connection_made
_.connection_lost
_.data_received

# ---- Python: the original standard streams, read by Textual and prompt_toolkit ---------------
_.__stdin__  # set anew in a forked session (anet_tui/serve/zygote.py)
_.__stdout__

# ---- Textual and logging hooks that their frameworks call, and attributes they read ------------
_.bindings_changed  # Footer's signal handler, overridden by KeyFooter (one rebuild for many)
_._bindings_ready  # Footer's reactive, set as Footer.bindings_changed does
_.cursor_blink  # TextArea's reactive: served sessions keep the cursor steady (serve/student.py)
_._open  # logging.FileHandler's opener: the serve log file is created 0600 (serve/command.py)
_.refresh_styles  # ScreenResume's flag, read by Screen's own handler (MainScreen's first resume)
