def test_help_lists_commands(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "demo" in out


def test_unknown_command_is_usage_error(run_cli):
    code, _, err = run_cli("no-such-command")
    assert code == 2
