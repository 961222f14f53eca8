"""``anet-tui serve``: a teacher runs a class over SSH with one command, no root, no accounts.

An asyncssh server (the ``serve`` extra) that accepts public keys only (``--keys DIR`` of
``NAME.pub``; the SSH user name must be the key's name), runs each session's own ``anet-tui`` on
a fresh pseudo-terminal in ``…/serve/students/NAME/`` under resource limits and, where the kernel
offers it, Landlock; refuses everything else (passwords, forwarding, SFTP, other commands) and
logs what it refused. Nothing a student process sends is ever unpickled or run by the server.
"""
