"""All components registered by the plugins, by name, each with the plugin that gave it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, Protocol, TypeVar

from .components import ExecutorSpec, ReaderSpec, RulesSpec, SinkSpec, ValidatorSpec
from .errors import UsageError
from .plugin_manager import LoadFailure, get_plugin_manager, load_failures

T = TypeVar("T")


class Choosable(Protocol):
    """A kind of component of which a run may name none: one of them declares itself the ``default``."""

    name: str
    default: bool


C = TypeVar("C", bound=Choosable)


@dataclass
class Components(Generic[T]):
    """Components of one kind (readers, sinks...) with the plugin that registered each."""

    kind: str
    specs: dict[str, T] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    def add(self, spec: Any, plugin: str) -> None:
        name = spec.name
        if name in self.specs:
            self.conflicts.append(
                f"{self.kind} {name!r} is registered by both plugin {self.owners[name]!r} and plugin {plugin!r}"
            )
            return
        self.specs[name] = spec
        self.owners[name] = plugin

    def get(self, name: str, failures: list[LoadFailure]) -> T:
        """The component named."""
        if name not in self.specs:
            known = ", ".join(sorted(self.specs)) or "none"
            hint = "".join(f"; {failure}" for failure in failures)
            raise UsageError(f"unknown {self.kind} {name!r} (available: {known}){hint}")
        return self.specs[name]

    def default(self: Components[C], failures: list[LoadFailure]) -> C:
        """The one component declared ``default`` (the only one installed needs not declare it)."""
        declared = [spec for spec in self.specs.values() if spec.default]
        if len(declared) > 1:
            names = " and ".join(repr(spec.name) for spec in declared)
            raise UsageError(f"{names} both declare themselves the default {self.kind}: name one")
        if not declared and len(self.specs) == 1:
            declared = list(self.specs.values())
        if not declared:
            known = ", ".join(sorted(self.specs)) or "none"
            hint = "".join(f"; {failure}" for failure in failures)
            raise UsageError(f"no {self.kind} is the default: name one (available: {known}){hint}")
        return declared[0]


@dataclass
class Registry:
    """What the installed plugins provide."""

    readers: Components[ReaderSpec]
    sinks: Components[SinkSpec]
    rules: Components[RulesSpec]
    validators: Components[ValidatorSpec]
    executors: Components[ExecutorSpec]
    failures: list[LoadFailure]

    def conflicts(self) -> list[str]:
        groups = (self.readers, self.sinks, self.rules, self.validators, self.executors)
        return [c for group in groups for c in group.conflicts]

    def check(self) -> None:
        """Refuse to run with two components under one name."""
        conflicts = self.conflicts()
        if conflicts:
            raise UsageError(conflicts[0])

    def reader(self, name: str) -> ReaderSpec:
        return self.readers.get(name, self.failures)

    def reader_for(self, extension: str) -> ReaderSpec | None:
        for spec in self.readers.specs.values():
            if extension.lower() in spec.extensions:
                return spec
        return None

    def writer_for(self, extension: str) -> ReaderSpec | None:
        """The format that writes files with this extension."""
        for spec in self.readers.specs.values():
            if spec.writes(extension):
                return spec
        return None

    def sink(self, name: str | None) -> SinkSpec:
        """The sink named, or with None the default one."""
        return self.sinks.default(self.failures) if name is None else self.sinks.get(name, self.failures)

    def rule_set(self, name: str | None) -> RulesSpec:
        """The rules named, or with None the default ones."""
        return self.rules.default(self.failures) if name is None else self.rules.get(name, self.failures)

    def executor(self, name: str) -> ExecutorSpec:
        return self.executors.get(name, self.failures)


def _collect(hook: Callable, kind: str, failures: list[LoadFailure]) -> Components:
    components: Components = Components(kind)
    for impl in hook.get_hookimpls():
        try:
            specs = list(impl.function() or ())
        except Exception as exc:  # a broken plugin is reported by name, not raised
            failures.append(LoadFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}"))
            continue
        for spec in specs:
            components.add(spec, impl.plugin_name)
    return components


@lru_cache(maxsize=None)
def get_registry() -> Registry:
    pm = get_plugin_manager()
    failures = load_failures()
    return Registry(
        readers=_collect(pm.hook.register_readers, "reader", failures),
        sinks=_collect(pm.hook.register_sinks, "sink", failures),
        rules=_collect(pm.hook.register_rules, "rules", failures),
        validators=_collect(pm.hook.register_validators, "validator", failures),
        executors=_collect(pm.hook.register_executors, "executor", failures),
        failures=failures,
    )
