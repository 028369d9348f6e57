"""Templates the CLI accepts: a TOML file, or the name of a built-in one."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from essaim.cli.failure import EXIT_USAGE, CLIError
from essaim.model.template import CampaignTemplate

__all__ = ["builtin_templates", "resolve_template"]


def builtin_templates() -> dict[str, str]:
    """Built-in template names and their TOML text (``demo``...)."""
    folder = files("essaim").joinpath("templates")
    return {
        entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def resolve_template(ref: str) -> tuple[CampaignTemplate, str]:
    """The template a path or built-in name stands for, and its source label."""
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise CLIError(
                f"no template file {ref!r}",
                hint=f"give a path to a .toml file or a built-in name: {', '.join(sorted(builtin_templates()))}",
                exit_code=EXIT_USAGE,
            )
        return CampaignTemplate.load(path), str(path)
    builtins = builtin_templates()
    if ref not in builtins:
        raise CLIError(
            f"{ref!r} is neither a template file nor a built-in template",
            hint=f"give a path to a .toml file or one of: {', '.join(sorted(builtins))}",
            exit_code=EXIT_USAGE,
        )
    source = f"built-in template {ref!r}"
    return CampaignTemplate.parse(builtins[ref], source=source), source
