"""The `keras-video` command.

Each sub-command is a function `_cmd_<name>(args)` registered in `_parser()`.
"""

import argparse
import sys

from keras_video.version import __version__


def _parser():
    parser = argparse.ArgumentParser(prog="keras-video", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
