"""The Ctrl+P command palette's provider: Textual's own commands, then the app's actions (the
same as its keys)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits
from textual.system_commands import SystemCommandsProvider


class ActionsProvider(SystemCommandsProvider):
    """Textual's commands (Keys, Quit, Theme, …), then one command per app key binding (step,
    continue, finish, …), found by fuzzy search. One provider, so the list has one order: the
    palette runs its providers side by side and lists what each finds as it comes."""

    def _commands(self) -> list[tuple[str, str, str]]:
        return self.app.palette_commands()  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        async for hit in super().discover():
            yield hit
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        async for hit in super().search(query):
            yield hit
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(f"{title} {help_text}")
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    text=title,
                    help=help_text,
                )
