"""Data-set preparation on Apache Beam: `keras-video prepare --runner ...`.

The same sharded TFRecords as `keras_video.data.tfrecords.prepare`, written by
a Beam pipeline (DirectRunner, FlinkRunner, SparkRunner, DataflowRunner):

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

import tensorflow as tf

from keras_video.data import tfrecords

logger = logging.getLogger("keras_video.data")

RUNNERS = ("DirectRunner", "FlinkRunner", "SparkRunner", "DataflowRunner")
SKIPPED_SUFFIX = ".skipped.json"


def _import_beam():
    try:
        import apache_beam
    except ImportError as error:
        raise ImportError(
            "Apache Beam is not installed: pip install 'keras-video[beam]'"
        ) from error
    return apache_beam


class _WriteShard:
    """The Beam step: writes one shard (a dict of `plan_tfrecords`)."""

    def __init__(self, output_dir, settings, on_error, backend):
        self.output_dir = output_dir
        self.settings = settings
        self.on_error = on_error
        self.backend = backend

    def __call__(self, shard):
        from apache_beam.metrics import Metrics

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
    if runner not in RUNNERS:
        raise ValueError(
            f"`runner` must be one of {RUNNERS}. Received: runner={runner!r}"
        )
    beam = _import_beam()
    from apache_beam.options.pipeline_options import PipelineOptions

    if isinstance(pipeline_args, str):
        pipeline_args = shlex.split(pipeline_args)
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
        options = PipelineOptions([*pipeline_args], runner=runner)
        with beam.Pipeline(options=options) as pipeline:
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
