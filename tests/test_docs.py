"""docs/hooks.md, generated from the contract, documents every hook with
its exact signature, every argument, every return value and every field of
the values hooks see; it is never stale.

Each hook has a heading ``#### <hook name>`` followed by a ```python block
holding ``def <hook>(<signature>) -> <return>: ...``, the signature as
``inspect.signature`` gives it (annotation strings unquoted). Line breaks
and a trailing comma in long signatures do not matter.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from essaim.plugin import hookspecs, reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
HOOKS = sorted(name for name, value in vars(hookspecs).items() if name.startswith("essaim_") and callable(value))

_SECTION = re.compile(r"^#### (essaim_\w+)\s*\n+```python\n(.*?)```", re.MULTILINE | re.DOTALL)


def expected_signature(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {name}({params}) -> {sig.return_annotation}: ..."


def normalise(code: str) -> str:
    code = re.sub(r"\s+", " ", code.strip())
    code = re.sub(r"\(\s+", "(", code)
    return re.sub(r",?\s*\)", ")", code)


def documented() -> dict[str, str]:
    return {name: normalise(block) for name, block in _SECTION.findall(DOC.read_text(encoding="utf-8"))}


def test_there_are_hooks_to_document() -> None:
    assert "essaim_register_strategies" in HOOKS and len(HOOKS) >= 19


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    docs = documented()
    assert hook in docs, f"docs/hooks.md has no '#### {hook}' section with a ```python block"
    assert docs[hook] == normalise(expected_signature(hook)), (
        f"the signature of {hook} in docs/hooks.md differs from essaim.plugin.hookspecs; expected:\n"
        f"{expected_signature(hook)}"
    )


def test_no_documented_hook_is_stale() -> None:
    stale = set(documented()) - set(HOOKS)
    assert not stale, f"docs/hooks.md documents hooks that no longer exist: {sorted(stale)}"


def test_every_section_says_when_who_and_how() -> None:
    text = DOC.read_text(encoding="utf-8")
    for hook in HOOKS:
        section = text.split(f"#### {hook}\n", 1)[1].split("\n#", 1)[0]
        for label in ("**When:**", "**Who implements:**", "**Blocking / thread:**"):
            assert label in section, f"{hook}: missing {label}"


def test_the_normalisation_still_tells_signatures_apart() -> None:
    assert normalise("def f(\n    a: int,\n) -> None: ...") == normalise("def f(a: int) -> None: ...")
    assert normalise("def f(a: int) -> None: ...") != normalise("def f(a: str) -> None: ...")


def test_the_generated_reference_is_not_stale() -> None:
    assert DOC.read_text(encoding="utf-8") == reference.render(), (
        "docs/hooks.md is stale; regenerate it: python -m essaim.plugin.reference > docs/hooks.md"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_every_argument_and_return_value_is_described(hook: str) -> None:
    [doc] = [d for d in reference.hook_docs() if d.name == hook]
    missing = [arg for arg, described in doc.described.items() if not described]
    assert not missing, f"{hook}: describe {missing} in its Args: section (or in hookspecs.ARGUMENTS)"
    stray = set(doc.args) - set(doc.described)
    assert not stray, f"{hook}: its docstring describes arguments it does not have: {sorted(stray)}"
    if inspect.signature(getattr(hookspecs, hook)).return_annotation != "None":
        assert doc.returns, f"{hook}: say what it returns in a Returns: section"
    assert set(doc.labels) == {"When", "Who implements", "Blocking / thread"}, f"{hook}: {sorted(doc.labels)}"
    assert doc.version, f"{hook}: add .. versionadded::"


@pytest.mark.parametrize(("module", "cls"), reference.DOCUMENTED_TYPES, ids=[c for _, c in reference.DOCUMENTED_TYPES])
def test_every_field_of_the_values_hooks_see_is_described(module: str, cls: str) -> None:
    fields = reference.field_docs(module, cls)
    assert fields, f"{cls}: no fields found"
    missing = [name for name, _, doc in fields if not doc]
    assert not missing, f"{module}.{cls}: add a '#:' comment above {missing}"
