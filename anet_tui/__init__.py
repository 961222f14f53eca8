"""anet-tui: step through anet's backward() one node at a time, in a terminal."""
