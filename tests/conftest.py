"""Fixtures shared by the test files."""

import pytest

from sim import cli


@pytest.fixture
def sim(capsys):
    """Call ``sim`` in this process: ``sim(*args) -> (exit code, stdout, stderr)``."""

    def call(*args):
        with pytest.raises(SystemExit) as exit_:
            cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return exit_.value.code, out, err

    return call
