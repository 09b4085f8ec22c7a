"""Reaching bench_keys.py's scenes by real keys, putting a scene back between runs, and naming
F1's keys the way bench_keys_table.py lists them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from tests.support.key_timing import FrameClock, quiet, time_key

if TYPE_CHECKING:
    from llmbench.tui.app import LLMBenchApp


_OPPOSITES = (
    ("up", "down"),
    ("k", "j"),
    ("left", "right"),
    ("home", "end"),
    ("pageup", "pagedown"),
    ("ctrl+pageup", "ctrl+pagedown"),
    ("ctrl+home", "ctrl+end"),
    ("left_square_bracket", "right_square_bracket"),
    ("less_than_sign", "greater_than_sign"),
)
COUNTER_KEYS: dict[str, str] = {
    **{one: other for one, other in _OPPOSITES},
    **{other: one for one, other in _OPPOSITES},
}
"""Pressed (not timed) before each run of a moving key, so that it has somewhere to move."""


@dataclass(frozen=True)
class Scene:
    """A pane (its F-key) and the keys pressed there, each once the app is quiet, to reach it."""

    pane: str
    steps: tuple[str, ...] = ()


@dataclass
class Measured:
    scene: str
    identity: str
    key: str
    samples: list[float] = field(default_factory=list)
    """Settled: to the last frame before the app is quiet (the whole result)."""
    first: list[float] = field(default_factory=list)
    """To the first frame after the key."""
    opened: bool = False
    note: str = ""


def identity_of(binding_id: str | None, scope: str, description: str) -> str:
    """A key as the table names it: its binding id, else where it is bound and what it does
    (Textual's own widget keys have no id)."""
    return binding_id or f"{scope}:{description}"


def key_identities(app: LLMBenchApp, *, pane_only: bool, only_global: bool = False) -> list[str]:
    """What F1 lists for the current screen (llmbench.tui.commands.keys_of, which F1 shows), as
    identities, in F1's order, once each: the pane's and its widgets' keys, or the global ones."""
    from llmbench.tui.commands import keys_of

    found: list[str] = []
    for item in keys_of(app, app.screen):
        is_global = item.scope == "everywhere"
        if (pane_only and is_global) or (only_global and not is_global):
            continue
        identity = identity_of(item.binding_id, item.scope, item.description)
        if identity not in found:
            found.append(identity)
    return found


def key_for(app: LLMBenchApp, identity: str) -> str | None:
    """The first key that does `identity` on the current screen, as keys_of scopes them."""
    screen = app.screen
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system:
            continue
        if active.node is app:
            scope = "everywhere"
        elif active.node is screen:
            scope = "pane"
        else:
            scope = type(active.node).__name__
        description = binding.description or binding.action.replace("_", " ")
        if identity_of(binding.id, scope, description) == identity:
            return key
    return None


class SceneDriver:
    """Reaches scenes and puts the current one back as it was between runs of a key."""

    def __init__(self, pilot: Pilot[Any], clock: FrameClock) -> None:
        self.pilot = pilot
        self.app: LLMBenchApp = pilot.app  # type: ignore[assignment]
        self.clock = clock
        self._scene: Scene | None = None
        self._screen: Screen[Any] | None = None
        self._mode = ""
        self._focus: Widget | None = None
        self._pane_focus: dict[str, tuple[Screen[Any], Widget | None]] = {}

    async def _press(self, key: str) -> None:
        await self.pilot.press(key)
        await quiet(self.pilot)

    async def reach(self, scene: Scene) -> None:
        app = self.app
        while len(app.screen_stack) > 1:
            app.pop_screen()
        await quiet(self.pilot)
        await self._press(scene.pane)
        while len(app.screen_stack) > 1:  # a pane kept a screen open from an earlier scene
            app.pop_screen()
            await quiet(self.pilot)
        # The pane as first shown: the focus an earlier scene moved (a search box) put back.
        base = self._pane_focus.setdefault(app.current_mode, (app.screen, app.focused))
        if base[0] is app.screen and base[1] is not None and app.focused is not base[1]:
            base[1].focus()
            await quiet(self.pilot)
        for step in scene.steps:
            await self._press(step)
        self._scene, self._screen, self._mode = scene, app.screen, app.current_mode
        self._focus = app.focused

    def forget(self) -> None:
        """The next key reaches its scene afresh (the last one failed midway)."""
        self._scene = None

    async def restore(self, scene: Scene) -> None:
        """Back to the scene as reached: its screen on top, its focus; reached again when the
        key closed it or left its pane."""
        app = self.app
        if scene is not self._scene or self._screen is None:
            await self.reach(scene)
            return
        if app.current_mode != self._mode:  # a pane key left: its pane exists, keep it
            await app.switch_mode(self._mode)
            await quiet(self.pilot)
        if self._screen not in app.screen_stack:
            await self.reach(scene)
            return
        while app.screen is not self._screen:
            app.pop_screen()
            await quiet(self.pilot)
        if self._focus is not None and self._focus.is_attached and app.focused is not self._focus:
            self._focus.focus()
            await quiet(self.pilot)

    async def measure(self, scene: Scene, identity: str, runs: int) -> Measured:
        name = next(key for key, value in _scenes().items() if value is scene)
        measured = Measured(name, identity, "")
        blank = 0
        for _ in range(runs):
            await self.restore(scene)
            key = key_for(self.app, identity)
            if key is None:  # an earlier key changed the screen's state (a view, the focus)
                await self.reach(scene)
                key = key_for(self.app, identity)
            if key is None:
                measured.note = "not active where the scene was reached"
                return measured
            measured.key = key
            if key in COUNTER_KEYS:  # room to move: at an edge the key would change nothing
                await self._press(COUNTER_KEYS[key])
            try:
                elapsed = await time_key(self.pilot, self.clock, key)
            except TimeoutError as error:  # a key that starts long work (a run): not a frame
                measured.note = f"not timed: {error}"
                self.app.workers.cancel_all()
                self._scene = None  # reached afresh for the next key
                return measured
            if self.app.screen is not self._screen or self.app.current_mode != self._mode:
                measured.opened = True
            if elapsed is None:
                blank += 1
            else:
                measured.samples.append(elapsed.settled_ms)
                measured.first.append(elapsed.first_ms)
        if not measured.samples:
            measured.note = f"no frame painted in {blank} runs (nothing on screen changes)"
        return measured


def _scenes() -> dict[str, Scene]:
    from tests.benchmarks.bench_keys_table import SCENES

    return SCENES
