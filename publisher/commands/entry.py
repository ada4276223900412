"""The ``publisher`` command's entry point: ``publisher --help`` answers from
the help text kept beside this module, without importing click (which costs
more than Python's own start-up); everything else goes to :mod:`.cli`.

``help.txt`` is click's own output for ``publisher --help`` at the usual
width; the tests check that it still is (``make help-text`` writes it again).
"""

from __future__ import annotations

import os
import sys

from .terminal import help_width

HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")


def _program() -> str | None:
    """The name click shows in its usage line, when it is one of the two usual."""
    name = os.path.basename(sys.argv[0])
    if name == "publisher":
        return name
    if name == "__main__.py" and os.path.dirname(os.path.abspath(sys.argv[0])) == \
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))):
        return "python -m publisher"
    return None


def main():
    program = _program()
    if sys.argv[1:] in (["--help"], ["-h"]) and help_width() == 78 and program:
        try:
            with open(HELP_FILE, encoding="utf-8") as kept:
                text = kept.read()
        except OSError:
            text = ""
        if text.startswith("Usage: publisher "):
            sys.stdout.write(text.replace("publisher", program, 1))
            sys.stdout.flush()
            return 0
    from .cli import main as command_line

    return command_line()


def write_help() -> None:
    """Write ``help.txt`` from click's output for ``publisher --help``."""
    os.environ["COLUMNS"] = "80"  # read when .cli is imported: the width main() answers at
    from click.testing import CliRunner

    from .cli import main as command_line

    result = CliRunner().invoke(command_line, ["--help"], prog_name="publisher")
    with open(HELP_FILE, "w", encoding="utf-8") as out:
        out.write(result.output)


if __name__ == "__main__":
    write_help()
