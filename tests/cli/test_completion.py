"""Shell completion (Typer's): the installed command completes its own subcommands."""

from __future__ import annotations

from tests.cli.helpers import cli, cli_env


def test_bash_completion_completes_subcommands() -> None:
    env = cli_env(_FAULTLINE_COMPLETE="complete_bash", COMP_WORDS="faultline va", COMP_CWORD="1")
    result = cli(env=env)
    assert result.returncode == 0
    assert result.stdout.split() == ["validate"]


def test_show_completion_prints_a_bash_script() -> None:
    result = cli("--show-completion", "bash")
    assert result.returncode == 0
    assert "_faultline_completion()" in result.stdout
