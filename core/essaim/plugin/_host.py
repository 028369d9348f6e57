"""The one facade between the engine and pluggy.

Only this module calls hook implementations. It loads the built-in plugins
by name and third-party ones from the ``essaim`` entry-point group, runs the
registration hooks, dispatches strategy hooks to the plugin that owns the
chosen strategy, awaits async implementations, and turns a plugin's
exception into a :class:`PluginError` that names the plugin and the hook.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from typing import Any

import pluggy

from essaim.errors import CommandError, PluginError
from essaim.plugin import hookspecs
from essaim.plugin.registry import Registry

__all__ = ["PluginHost", "CORE_PLUGINS", "DEFAULT_PLUGINS", "ESSENTIAL_PLUGINS", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "essaim"

#: Parts of the engine written as plugins, registered first, by name, and
#: never disabled: the built-in commands are declared on the same hook a
#: plugin declares its own on (as pytest's core features are plugins).
CORE_PLUGINS: tuple[str, ...] = ("essaim.engine.commands",)

#: Built-in plugins, registered by name in this order. Each is an ordinary
#: plugin on the public hooks.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "essaim_builtins.phases",
    "essaim_builtins.collection",
    "essaim_builtins.structuring",
    "essaim_builtins.moderation",
    "essaim_builtins.evaluation",
    "essaim_builtins.results",
    "essaim_builtins.exports",
)

#: Built-ins that cannot be disabled: without the core phase types no
#: template can run, and without a moderation strategy nothing can be flagged.
ESSENTIAL_PLUGINS: frozenset[str] = frozenset({"essaim_builtins.phases", "essaim_builtins.moderation"})


class PluginHost:
    """Loads plugins and calls their hooks on the engine's behalf."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self._impls: dict[tuple[str, str, str], Any] = {}

    # -- loading -------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        *,
        builtins: Iterable[str] = DEFAULT_PLUGINS,
        disable: Iterable[str] = (),
        extra: Iterable[object] = (),
        entry_points: bool = True,
    ) -> PluginHost:
        """Load plugins and run the registration hooks.

        ``disable`` names built-in modules or entry-point names to skip;
        ``extra`` are plugin objects (modules or instances) to register too,
        as embedding applications and tests do.
        """
        host = cls()
        disabled = set(disable)
        refused = disabled & (ESSENTIAL_PLUGINS | set(CORE_PLUGINS))
        if refused:
            raise PluginError(
                f"cannot disable essential plugin(s) {sorted(refused)}: the engine needs their phase "
                "types and moderation; register a replacement alongside instead"
            )
        for name in (*CORE_PLUGINS, *builtins):
            if name in disabled:
                continue
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise PluginError(f"cannot import built-in plugin {name!r}: {exc}") from exc
            host._add(module, name)
        if entry_points:
            for ep in _entry_points():
                if ep.name in disabled or host.pm.has_plugin(ep.name):
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:
                    raise PluginError(
                        f"cannot load plugin {ep.name!r} from entry point {ep.value!r} "
                        f"(distribution {getattr(ep.dist, 'name', '?')}): {exc}"
                    ) from exc
                host._add(plugin, ep.name)
        for plugin in extra:
            host._add(plugin, _extra_name(host.pm, plugin))
        try:
            host.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {host.pm.get_name(exc.plugin)!r}: {exc}; hook names start with 'essaim_' and must match essaim.plugin.hookspecs exactly"
            ) from exc
        host._register()
        return host

    def _add(self, plugin: object, name: str) -> None:
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {name!r}: {exc}; a hook implementation may take any subset of the spec's arguments, no others "
                "(see essaim.plugin.hookspecs)"
            ) from exc

    def _register(self) -> None:
        for hook_name in ("essaim_register_commands", "essaim_register_phase_types", "essaim_register_strategies"):
            for impl in self._hookimpls(hook_name):
                try:
                    result = impl.function(registry=self.registry.bound_to(impl.plugin_name))
                    if inspect.isawaitable(result):
                        _discard(result)
                        raise PluginError(
                            f"plugin {impl.plugin_name!r}: {hook_name} must be a plain function, not async "
                            "(registration runs once, before any event loop work)"
                        )
                except PluginError:
                    raise
                except Exception as exc:
                    raise PluginError(f"plugin {impl.plugin_name!r} raised in {hook_name}: {exc!r}") from exc
        for (family, name), info in self.registry.strategies.items():
            self._bind(family, name, info.plugin)
        for name, fmt in self.registry.export_formats.items():
            self._bind("export", name, fmt.plugin)
        for ptype in self.registry.phase_types.values():
            if ptype.family and (ptype.family, ptype.default_strategy) not in self.registry.strategies:
                raise PluginError(
                    f"plugin {ptype.plugin!r}: phase type {ptype.name!r} defaults to {ptype.family} "
                    f"strategy {ptype.default_strategy!r}, which no plugin registers; "
                    f"available: {self.registry.available(ptype.family)}"
                )

    def _bind(self, family: str, name: str, plugin_name: str) -> None:
        plugin = self.pm.get_plugin(plugin_name)
        for hook_name in hookspecs.FAMILY_HOOKS[family]:
            impl = next(
                (i for i in self._hookimpls(hook_name) if i.plugin is plugin), None
            )
            if impl is None:
                raise PluginError(
                    f"plugin {plugin_name!r} registers {family} strategy {name!r} but does not implement "
                    f"{hook_name}; a {family} strategy implements {list(hookspecs.FAMILY_HOOKS[family])}"
                )
            self._impls[(family, name, hook_name)] = impl

    def _hookimpls(self, hook_name: str) -> list[Any]:
        # pluggy lists implementations in registration order (it *calls*
        # them last-registered first); keep that order so built-ins run
        # before third parties, and a duplicate blames the later plugin.
        return list(getattr(self.pm.hook, hook_name).get_hookimpls())

    # -- calling -------------------------------------------------------------------

    def plugin_names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

    def implemented_hooks(self, plugin_name: str) -> list[str]:
        plugin = self.pm.get_plugin(plugin_name)
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(c.name for c in callers)

    def call_strategy(self, family: str, strategy: str, hook_name: str, /, **kwargs: Any) -> Any:
        """Call the hook of the plugin owning ``strategy``; sync implementations only.

        Use :meth:`acall_strategy` where the implementation may be async.
        """
        impl = self._impls.get((family, strategy, hook_name))
        if impl is None:
            raise PluginError(f"no plugin provides {family} strategy {strategy!r} (hook {hook_name})")
        result = self._invoke(impl, hook_name, dict(kwargs, strategy=strategy))
        if inspect.isawaitable(result):
            _discard(result)
            raise PluginError(
                f"plugin {impl.plugin_name!r}: {hook_name} returned an awaitable where a value is needed "
                "synchronously (worker-thread hooks must be plain functions)"
            )
        return result

    async def acall_strategy(self, family: str, strategy: str, hook_name: str, /, **kwargs: Any) -> Any:
        impl = self._impls.get((family, strategy, hook_name))
        if impl is None:
            raise PluginError(f"no plugin provides {family} strategy {strategy!r} (hook {hook_name})")
        result = self._invoke(impl, hook_name, dict(kwargs, strategy=strategy))
        if inspect.isawaitable(result):
            try:
                result = await result
            except CommandError:
                raise
            except Exception as exc:
                raise PluginError(f"plugin {impl.plugin_name!r} raised in {hook_name}: {exc!r}") from exc
        return result

    async def broadcast(self, hook_name: str, /, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin, in registration order."""
        for impl in self._hookimpls(hook_name):
            result = self._invoke(impl, hook_name, kwargs)
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception as exc:
                    raise PluginError(f"plugin {impl.plugin_name!r} raised in {hook_name}: {exc!r}") from exc

    def broadcast_sync(self, hook_name: str, /, **kwargs: Any) -> None:
        """Call a hot-path lifecycle hook on every plugin; async ones are refused."""
        for impl in self._hookimpls(hook_name):
            result = self._invoke(impl, hook_name, kwargs)
            if inspect.isawaitable(result):
                _discard(result)
                raise PluginError(f"plugin {impl.plugin_name!r}: {hook_name} is hot path and may not be async")

    @staticmethod
    def _invoke(impl: Any, hook_name: str, kwargs: dict[str, Any]) -> Any:
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            return impl.function(**args)
        except CommandError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r} raised in {hook_name}: {exc!r}") from exc


def _discard(awaitable: object) -> None:
    """Close a refused coroutine so Python does not warn that it was never
    awaited. Any other awaitable (a future, an object with ``__await__``) has
    nothing to close, and must still reach the caller's clear PluginError."""
    if inspect.iscoroutine(awaitable):
        awaitable.close()


def _extra_name(pm: pluggy.PluginManager, plugin: object) -> str:
    """A readable name for a plugin object, so errors say which plugin:
    a module's name, else the object's class, made unique."""
    base = getattr(plugin, "__name__", None) or type(plugin).__qualname__
    name, n = base, 1
    while pm.has_plugin(name):
        n += 1
        name = f"{base}#{n}"
    return name


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))
