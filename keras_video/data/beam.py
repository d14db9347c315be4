"""Data-set jobs on Apache Beam: `keras-video prepare | flow | features --runner`.

`run_each` runs a job's per-video function (the one its single-machine job
calls) once per task on a Beam runner and hands the results back to the
driver, which writes the job's report; `keras_video.flow.extract_dataset_flow`
and `keras_video.detection.extract_dataset_features` use it with `runner=`.
This part imports no TensorFlow.

`prepare_with_beam` writes the same sharded TFRecords as
`keras_video.data.tfrecords.prepare`, with a Beam pipeline (it imports
TensorFlow when called):

```
driver:   list the videos ─ plan the shards (tfrecords.plan_tfrecords)
Beam:     unfinished shards ─ Reshuffle ─ write one shard each (tfrecords.write_shard)
driver:   dataset_info.json with every shard's skipped files (tfrecords.write_info)
```

A shard is one unit of work: a worker writes its videos in order to
`<shard>.tmp` with the records of `tfrecords.encode_video`, writes the files
it skipped to `<shard>.skipped.json`, then renames the shard. So the shards
hold the same bytes as the single-machine `prepare` writes, and a run that
stops (or fails on a bad file with `on_error="raise"`) resumes: finished
shards are left as they are. Bad files (`on_error="skip"`) are counted (Beam
counters `keras_video/videos_written` and `videos_skipped`) and named in
`dataset_info.json` and in the log.

The output folder and the videos must be reachable from every worker under
the same names: a shared file system, or for the output a TensorFlow file
system URL (`tf.io.gfile`). Workers need `keras-video[beam]` installed.
"""

import json
import logging
import os
import shlex
import shutil

from keras_video.files import write_atomic

logger = logging.getLogger("keras_video.data")

RUNNERS = ("DirectRunner", "FlinkRunner", "SparkRunner", "DataflowRunner")
SKIPPED_SUFFIX = ".skipped.json"
# The folder under a job's output where workers leave their results.
RESULTS_DIR = ".keras_video_beam"


def check_runner(runner):
    """Checks `runner` (one of `RUNNERS`) and returns Apache Beam.

    Raises:
        ValueError: an unknown runner.
        ImportError: Apache Beam is not installed.
    """
    if runner not in RUNNERS:
        raise ValueError(
            f"`runner` must be one of {RUNNERS}. Received: runner={runner!r}"
        )
    try:
        import apache_beam
    except ImportError as error:
        raise ImportError(
            "Apache Beam is not installed: pip install 'keras-video[beam]'"
        ) from error
    return apache_beam


def _options(runner, pipeline_args):
    from apache_beam.options.pipeline_options import PipelineOptions

    if isinstance(pipeline_args, str):
        pipeline_args = shlex.split(pipeline_args)
    return PipelineOptions([*pipeline_args], runner=runner)


class _Task:
    """The Beam step of `run_each`: `function(task)`, its result to a file."""

    def __init__(self, function, results_dir):
        self.function = function
        self.results_dir = results_dir

    def __call__(self, indexed):
        from apache_beam.metrics import Metrics

        index, task = indexed
        result = self.function(task)
        path = os.path.join(self.results_dir, f"{index:09d}.json")
        write_atomic(path, json.dumps(result).encode("utf-8"))
        Metrics.counter("keras_video", "tasks_done").inc()
        return index


def run_each(tasks, function, output_dir, runner="DirectRunner", pipeline_args=()):
    """`[function(task) for task in tasks]`, each call a unit of a Beam pipeline.

    The per-video step of a data-set job on a cluster: the tasks are spread
    over the workers (`Reshuffle`); each worker writes its call's result (a
    JSON value) to `output_dir/.keras_video_beam/<index>.json`, and this
    driver reads them back, in the order of `tasks`, and removes the folder.
    `function` and the tasks are pickled to the workers: `function` is a
    module-level function or an instance of a module-level class, and it
    reports a failed video in its result instead of raising (an exception
    fails the pipeline).

    Args:
        tasks: a list of JSON-able tasks (e.g. `(path, relative path)`).
        function: `fn(task) -> JSON-able result`.
        output_dir: the job's output folder, on a file system every worker
            and this driver see under the same name.
        runner: one of `RUNNERS`.
        pipeline_args: more Beam pipeline options, a list of flags or one
            string (see `prepare_with_beam`).

    Returns:
        the list of results, in the order of `tasks` (JSON values: tuples
        come back as lists).

    Raises:
        ValueError: an unknown runner.
        ImportError: Apache Beam is not installed.
        RuntimeError: a task left no result.
    """
    beam = check_runner(runner)
    tasks = list(tasks)
    if not tasks:
        return []
    results_dir = os.path.join(os.fspath(output_dir), RESULTS_DIR)
    shutil.rmtree(results_dir, ignore_errors=True)  # a killed run's results
    os.makedirs(results_dir)
    with beam.Pipeline(options=_options(runner, pipeline_args)) as pipeline:
        _ = (
            pipeline
            | "Tasks" >> beam.Create(list(enumerate(tasks)))
            | "Spread" >> beam.Reshuffle()
            | "Run" >> beam.Map(_Task(function, results_dir))
        )
    results = []
    for index in range(len(tasks)):
        path = os.path.join(results_dir, f"{index:09d}.json")
        if not os.path.isfile(path):
            raise RuntimeError(f"Beam task {index} ({tasks[index]!r}) left no result")
        with open(path, encoding="utf-8") as f:
            results.append(json.load(f))
    shutil.rmtree(results_dir)
    return results


class _WriteShard:
    """The Beam step: writes one shard (a dict of `plan_tfrecords`)."""

    def __init__(self, output_dir, settings, on_error, backend):
        self.output_dir = output_dir
        self.settings = settings
        self.on_error = on_error
        self.backend = backend

    def __call__(self, shard):
        import tensorflow as tf
        from apache_beam.metrics import Metrics

        from keras_video.data import tfrecords

        tmp, skipped = tfrecords.write_shard(
            self.output_dir, shard, self.settings, self.on_error, self.backend
        )
        final = os.path.join(self.output_dir, shard["file"])
        with tf.io.gfile.GFile(final + SKIPPED_SUFFIX, "w") as f:
            json.dump(skipped, f)
        tf.io.gfile.rename(tmp, final, overwrite=True)
        Metrics.counter("keras_video", "videos_written").inc(
            len(shard["videos"]) - len(skipped)
        )
        Metrics.counter("keras_video", "videos_skipped").inc(len(skipped))
        return shard["file"]


def prepare_with_beam(
    source,
    output_dir,
    runner="DirectRunner",
    pipeline_args=(),
    num_shards=None,
    short_side=128,
    jpeg_quality=90,
    class_names=None,
    on_error="raise",
    backend="auto",
    verbose=True,
):
    """`keras-video prepare --runner RUNNER`: TFRecords written by a Beam pipeline.

    Args:
        source: a folder of class folders or a CSV list (as `prepare`).
        output_dir: the TFRecords folder (reachable from every worker).
        runner: `"DirectRunner"`, `"FlinkRunner"`, `"SparkRunner"` or
            `"DataflowRunner"`.
        pipeline_args: more Beam pipeline options, a list of flags or one
            string (e.g. `"--direct_num_workers=2
            --direct_running_mode=multi_processing"`, or Dataflow's
            `--project`, `--region`, `--temp_location`).
        num_shards, short_side, jpeg_quality, class_names, on_error, backend:
            as in `keras_video.data.tfrecords.prepare`.
        verbose: print what is found and what was written.

    Returns:
        the list of shard paths.

    Raises:
        ValueError: a bad argument, or `output_dir` holds other TFRecords.
        ImportError: Apache Beam is not installed.
    """
    beam = check_runner(runner)
    import tensorflow as tf

    from keras_video.data import tfrecords

    videos = tfrecords.list_source(source, class_names)
    settings, shards = tfrecords.plan_tfrecords(
        output_dir, videos.paths, videos.labels, videos.class_names, num_shards,
        short_side, jpeg_quality, on_error,
    )  # fmt: skip
    if not tf.io.gfile.exists(os.path.join(output_dir, tfrecords.INFO_FILE)):
        tfrecords.write_info(output_dir, settings, shards)  # a resume checks it
    todo = [s for s in shards if not tfrecords.shard_done(output_dir, s)]
    if verbose:
        print(
            f"Found {len(videos)} files belonging to {len(videos.class_names)} "
            f"classes; {len(todo)} of {len(shards)} shards to write to "
            f"{output_dir} on {runner}"
        )
    if todo:
        with beam.Pipeline(options=_options(runner, pipeline_args)) as pipeline:
            _ = (
                pipeline
                | "Shards" >> beam.Create(todo)
                | "Spread" >> beam.Reshuffle()
                | "Write"
                >> beam.Map(_WriteShard(output_dir, settings, on_error, backend))
            )
    _gather_skipped(output_dir, settings, shards, verbose)
    return [os.path.join(output_dir, s["file"]) for s in shards]


def _gather_skipped(output_dir, settings, shards, verbose):
    """Puts the workers' skipped files into `dataset_info.json`, then names them."""
    import tensorflow as tf

    from keras_video.data import tfrecords

    sidecars = []
    for shard in shards:
        path = os.path.join(output_dir, shard["file"]) + SKIPPED_SUFFIX
        if tf.io.gfile.exists(path):
            with tf.io.gfile.GFile(path) as f:
                shard["skipped"] = json.load(f)
            sidecars.append(path)
    tfrecords.write_info(output_dir, settings, shards)
    for path in sidecars:
        tf.io.gfile.remove(path)
    skipped = {p: e for s in shards for p, e in s.get("skipped", {}).items()}
    for path, error in sorted(skipped.items()):
        logger.warning("keras_video: skipped %s (%s)", path, error)
    if verbose:
        done = sum(tfrecords.shard_done(output_dir, s) for s in shards)
        print(
            f"{done} of {len(shards)} shards in {output_dir}; "
            f"{len(skipped)} bad file(s) skipped"
            + "".join(f"\n  {p}: {e}" for p, e in sorted(skipped.items()))
        )
