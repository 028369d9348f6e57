"""The one facade between the engine and pluggy.

Only this module calls hooks. It loads the built-in plugins by name and
third-party ones from the ``essaim`` entry-point group, runs the
registration hooks, dispatches strategy hooks to the plugin that owns the
chosen strategy, awaits async implementations, and turns a plugin's
exception into a :class:`PluginError` that names the plugin and the hook.

Strategy hooks go through pluggy: for each strategy and hook, a hook
caller built once at load holds the owning plugin's implementation and
every *wrapper* of that hook (``@hookimpl(wrapper=True)``, from any plugin),
so wrappers compose around the strategy, ``tryfirst``/``trylast`` order
them, and pluggy's tracing and call monitoring see every call.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from types import CodeType, TracebackType
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
        self._strategy_calls: dict[tuple[str, str, str], _StrategyCall] = {}

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
        builtins = tuple(builtins)
        disabled = set(disable)
        installed = _entry_points()
        known = {*builtins, *(ep.name for ep in installed)}
        unknown = disabled - known - set(CORE_PLUGINS)
        if unknown:
            raise PluginError(
                f"cannot disable unknown plugin(s) {sorted(unknown)}; the plugins that can be disabled are "
                f"the built-ins {sorted(set(builtins) - ESSENTIAL_PLUGINS)} and the installed "
                f"{sorted(ep.name for ep in installed) or 'none'} (check the spelling)"
            )
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
            for ep in installed:
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
        self._refuse_wrappers_outside_strategies()
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
        """Build, once, the pluggy hook callers of a strategy: its plugin's
        implementation of each hook of the family, with every wrapper of it."""
        plugin = self.pm.get_plugin(plugin_name)
        for hook_name in hookspecs.FAMILY_HOOKS[family]:
            impls = self._hookimpls(hook_name)
            impl = next((i for i in impls if i.plugin is plugin), None)
            if impl is None:
                raise PluginError(
                    f"plugin {plugin_name!r} registers {family} strategy {name!r} but does not implement "
                    f"{hook_name}; a {family} strategy implements {list(hookspecs.FAMILY_HOOKS[family])}"
                )
            if _is_wrapper(impl):
                raise PluginError(
                    f"plugin {plugin_name!r}: its {hook_name} is a wrapper, but it registers {family} strategy "
                    f"{name!r}, whose {hook_name} must return the value itself; drop wrapper=True"
                )
            wrappers = [i for i in impls if _is_wrapper(i)]
            if wrappers and inspect.iscoroutinefunction(impl.function):
                raise PluginError(
                    f"plugin(s) {sorted(w.plugin_name for w in wrappers)} wrap {hook_name}, but plugin "
                    f"{plugin_name!r} implements it for {family} strategy {name!r} with async def: a wrapper "
                    "sees the value the implementation returns, so a wrapped strategy hook must be a plain "
                    "function"
                )
            # pluggy's own order (tryfirst/trylast, then registration), less
            # the other strategies' implementations. Plugins are loaded once,
            # so this list is built once instead of filtered on every call.
            chosen = [i for i in getattr(self.pm.hook, hook_name).get_hookimpls() if i is impl or _is_wrapper(i)]
            blame = {code: i.plugin_name for i in chosen if (code := _code_of(i.function)) is not None}
            self._strategy_calls[(family, name, hook_name)] = _StrategyCall(
                self.pm._hookexec, hook_name, chosen, impl.plugin_name, blame)

    def _refuse_wrappers_outside_strategies(self) -> None:
        """Registration and lifecycle hooks are called plugin by plugin, in
        registration order: a wrapper there would never run, so it is an error."""
        strategy_hooks = {h for hooks in hookspecs.FAMILY_HOOKS.values() for h in hooks}
        for hook_name in dir(self.pm.hook):
            if not hook_name.startswith("essaim_") or hook_name in strategy_hooks:
                continue
            for impl in self._hookimpls(hook_name):
                if _is_wrapper(impl):
                    raise PluginError(
                        f"plugin {impl.plugin_name!r}: {hook_name} is a wrapper, but only strategy hooks "
                        f"({', '.join(sorted(strategy_hooks))}) can be wrapped; drop wrapper=True"
                    )

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
        """Call the hook of the plugin owning ``strategy``, through its
        wrappers; sync implementations only (worker threads call this).

        Use :meth:`acall_strategy` where the implementation may be async.
        """
        call = self._strategy_call(family, strategy, hook_name)
        result = call.run(hook_name, dict(kwargs, strategy=strategy))
        if inspect.isawaitable(result):
            _discard(result)
            raise PluginError(
                f"plugin {call.plugin_name!r}: {hook_name} returned an awaitable where a value is needed "
                "synchronously (worker-thread hooks must be plain functions)"
            )
        return result

    async def acall_strategy(self, family: str, strategy: str, hook_name: str, /, **kwargs: Any) -> Any:
        """Call the hook of the plugin owning ``strategy``, through its
        wrappers, and await the result if the implementation is async."""
        call = self._strategy_call(family, strategy, hook_name)
        result = call.run(hook_name, dict(kwargs, strategy=strategy))
        if inspect.isawaitable(result):
            try:
                result = await result
            except CommandError:
                raise
            except Exception as exc:
                raise PluginError(f"plugin {call.plugin_name!r} raised in {hook_name}: {exc!r}") from exc
        return result

    def _strategy_call(self, family: str, strategy: str, hook_name: str) -> _StrategyCall:
        call = self._strategy_calls.get((family, strategy, hook_name))
        if call is None:
            raise PluginError(f"no plugin provides {family} strategy {strategy!r} (hook {hook_name})")
        return call

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


@dataclass(frozen=True, slots=True)
class _StrategyCall:
    """One strategy's hook, called by pluggy: ``hookexec`` is the plugin
    manager's hook executor (the one pluggy's tracing and call monitoring
    wrap, and every pluggy hook caller uses), ``impls`` the strategy's
    implementation and the hook's wrappers in pluggy's order (a
    ``pm.subset_hook_caller`` would filter every implementation on each
    call, and needs hashable plugins); ``blame`` maps the code of each
    implementation to its plugin, to name the one that raised."""

    hookexec: Any
    hook_name: str
    impls: list[Any]
    plugin_name: str
    blame: dict[CodeType, str]

    def run(self, hook_name: str, kwargs: dict[str, Any]) -> Any:
        try:
            return self.hookexec(self.hook_name, self.impls, kwargs, True)
        except CommandError:
            raise
        except Exception as exc:
            culprit = _innermost(exc.__traceback__, self.blame) or self.plugin_name
            raise PluginError(f"plugin {culprit!r} raised in {hook_name}: {exc!r}") from exc


def _is_wrapper(impl: Any) -> bool:
    return bool(impl.wrapper or impl.hookwrapper)


def _code_of(function: Any) -> CodeType | None:
    return getattr(function, "__code__", None)


def _innermost(tb: TracebackType | None, blame: dict[CodeType, str]) -> str | None:
    """The plugin whose implementation is deepest in the traceback: the one
    that raised (a wrapper that lets an exception through is not blamed)."""
    culprit = None
    while tb is not None:
        culprit = blame.get(tb.tb_frame.f_code, culprit)
        tb = tb.tb_next
    return culprit


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
