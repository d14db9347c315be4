"""Decoding on a CPU fleet with the tf.data service.

The tf.data service (`tf.data.experimental.service`, part of TensorFlow) runs
a dataset's stages on worker processes, anywhere on the network, and streams
the elements to the trainer. Here the workers decode the videos and apply the
augmentation; the trainer only batches:

```
trainer:  file list ─ shuffle(seed) ─ zip(element seeds) ─> epoch table
                                                               │ registered with
dispatcher (keras-video data-service dispatcher)  <────────────┘ the dispatcher
workers (keras-video data-service worker):  table rows ─ decode ─ crop/flip ─┐
trainer:                                        batch ─ prefetch ─ model  <──┘
```

Same clips as the local pipeline. An element's clip positions and
augmentation come from its element seed, and the seeds of an epoch are drawn
on the trainer in the order of the local pipeline (`pipeline.element_seeds`,
after the same seeded shuffle). Each time the dataset is iterated (each
epoch of `model.fit`) the trainer draws that epoch's table (path, label, id,
segment, seed per video; no decoding) exactly as the local pipeline does,
registers a dataset made of the table and the worker stages, and reads it
back in a new job. So with `processing_mode="distributed_epoch"` (the
dispatcher hands rows to workers) every clip of an epoch arrives once, and it
equals the local pipeline's clip for the same `seed`; only the arrival order
differs. `"parallel_epochs"` gives every worker the whole table (each clip
once per worker).

TFRecords (`video_dataset_from_tfrecords(..., service=)`): the table rows
are `(shard, byte offset)` of each record, in the order the local pipeline
reads them (its file shuffle, interleave and shuffle buffer, replayed on
the records' offsets, which the trainer reads from the shards' headers once),
zipped with the same element seeds; a worker reads the record at its offset,
picks the JPEGs of the sampled frames (`TFRECORD_TOKEN`) and decodes them
with the local pipeline's ops.

Worker code. The tf.data service ships dataset graphs, not Python, and the
decoders (PyAV, OpenCV) run in Python. So the decode op names a fixed entry,
`DECODE_TOKEN` (`TFRECORD_TOKEN` for TFRecords), and carries the settings as
JSON; every process that imports this module (the trainer, and each
`keras-video data-service worker`) registers those entries in TensorFlow's
Python-function table. Workers started otherwise (a bare `WorkerServer`)
cannot decode keras-video datasets.

Lost workers. With `distributed_epoch`, the rows a worker held when it died
are lost (the tf.data service visits elements at most once), and
TensorFlow's reader then waits for that worker to come back; the dispatcher
also keeps it in its list and gives it tasks of the later jobs (epochs). A
worker restarted at the same address takes its tasks over. So that a trainer
never hangs, the trainer watches its epoch: when it has taken every clip that
arrived and neither a new clip nor the end of the epoch came for
`stall_timeout` seconds, iteration raises a `TimeoutError` that names the
dispatcher. Restart the lost worker at the same `--port`: within that time the
epoch goes on, short of the lost clips; after it, the next epoch runs whole
(or restart the dispatcher and all workers). Let the failed iterator go first
(keep no reference to the error's traceback): a live one held the next epoch
up in our tests.

Bad files (`on_error="skip"`) are dropped on the worker, which logs each one
on its `keras_video.data` logger; the trainer's `skipped_files` stays empty.
"""

import atexit
import dataclasses
import gc
import itertools
import json
import logging
import signal
import threading
import time

import numpy as np
import tensorflow as tf

from keras_video.data import tfrecords
from keras_video.data.clip_loader import ClipLoader
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.flow_source import FlowSource

logger = logging.getLogger("keras_video.data")

PROCESSING_MODES = ("distributed_epoch", "parallel_epochs")
# The Python-function table entries of the decode ops (see the module
# docstring): video files, and the sampled frames of a TFRecord record.
DECODE_TOKEN = "keras_video.data.service.decode_clips.v1"
TFRECORD_TOKEN = "keras_video.data.service.tfrecord_frames.v1"
DEFAULT_DISPATCHER_PORT = 5050
DEFAULT_WORKER_PORT = 5051
# Seconds without a new element, once every arrived one was taken, before
# iteration raises (longer than the 120 s a single video may take to decode).
DEFAULT_STALL_TIMEOUT = 600.0


@dataclasses.dataclass(frozen=True)
class DataService:
    """Where and how a dataset reads through the tf.data service.

    Pass it (or just the address string) as `service=` to
    `video_dataset_from_directory`, `video_dataset_from_csv`,
    `video_test_dataset` or `video_dataset_from_tfrecords`.

    Args:
        address: the dispatcher, `"host:port"` or `"grpc://host:port"`.
        stall_timeout: seconds without a new clip, once every arrived clip was
            taken, before iteration raises `TimeoutError` (a lost worker).
        compression: `"AUTO"` (TensorFlow's choice) or `None` (send clips
            uncompressed; best on a fast network).

    Example:
    ```python
    ds = kv.data.video_dataset_from_directory(
        "ucf101/train", seed=1, service=DataService("dispatcher:5050"))
    ```
    """

    address: str
    stall_timeout: float = DEFAULT_STALL_TIMEOUT
    compression: str | None = "AUTO"

    def __post_init__(self):
        if not isinstance(self.address, str) or not self.address:
            raise ValueError(
                "`address` must be the dispatcher's 'host:port'. "
                f"Received: address={self.address!r}"
            )
        if isinstance(self.stall_timeout, bool) or not self.stall_timeout > 0:
            raise ValueError(
                "`stall_timeout` must be a positive number of seconds. "
                f"Received: stall_timeout={self.stall_timeout!r}"
            )
        if self.compression not in ("AUTO", None):
            raise ValueError(
                '`compression` must be "AUTO" or None. '
                f"Received: compression={self.compression!r}"
            )


def as_data_service(service, processing_mode):
    """`service` (an address or a `DataService`) as a `DataService`, checked
    with `processing_mode`."""
    if processing_mode not in PROCESSING_MODES:
        raise ValueError(
            f"`processing_mode` must be one of {PROCESSING_MODES}. "
            f"Received: processing_mode={processing_mode!r}"
        )
    if isinstance(service, DataService):
        return service
    if isinstance(service, str):
        return DataService(service)
    raise ValueError(
        "`service` must be the dispatcher's address ('host:port') or a "
        f"DataService. Received: service={service!r}"
    )


# --- the decode op: a fixed Python-function entry, settings as JSON ----------


def loader_config(loader):
    """The JSON string that rebuilds `loader` in a worker (`loader_from_config`)."""
    return json.dumps(
        {
            "settings": loader.settings.to_dict(),
            "sampling": loader.sampling,
            "max_short_side": loader.max_short_side,
            "backend": loader.backend,
            "on_error": loader.on_error,
            "decode_timeout": loader.decode_timeout,
            "modality": loader.modality,
            "flow": dataclasses.asdict(loader.flow),
        },
        sort_keys=True,
    )


def loader_from_config(config):
    """The `ClipLoader` of a `loader_config` string."""
    c = json.loads(config)
    flow = c["flow"]
    flow["options"] = tuple(tuple(pair) for pair in flow["options"])
    return ClipLoader(
        ClipSettings.from_dict(c["settings"]), c["sampling"], c["max_short_side"],
        c["backend"], c["on_error"], c["decode_timeout"], c["modality"],
        FlowSource(**flow),
    )  # fmt: skip


_loaders = {}
_loaders_lock = threading.Lock()


def _decode_entry(config, path, seed, segment):
    """The body of the decode op in any process: `(clips, ok)` of one video."""
    config = config.decode() if isinstance(config, bytes) else str(config)
    with _loaders_lock:
        loader = _loaders.get(config)
        if loader is None:
            loader = _loaders[config] = loader_from_config(config)
    clips, ok = loader(path, seed, segment)
    if not ok:
        name = path.decode() if isinstance(path, bytes) else str(path)
        logger.warning(
            "keras_video: skipped %s (%s)", name, loader.skipped.files.get(name)
        )
    return clips, ok


_tfrecord_configs = {}


def _tfrecord_entry(config, path, offset, seed):
    """The body of the TFRecord op: `(jpegs, label)`, the JPEGs of the frames
    the element's clips sample (in clip order) from the record at `offset`."""
    config = config.decode() if isinstance(config, bytes) else str(config)
    parsed = _tfrecord_configs.get(config)
    if parsed is None:
        c = json.loads(config)
        parsed = _tfrecord_configs[config] = (
            ClipSettings.from_dict(c["settings"]), c["sampling"]
        )  # fmt: skip
    settings, sampling = parsed
    path = path.decode() if isinstance(path, bytes) else str(path)
    record = tfrecords.read_record(path, int(offset))
    jpegs, label, num_frames, fps = tfrecords.parse_record(record)
    idx = settings.clip_indices(num_frames, fps, seed, sampling, "tfrecord")
    wanted = np.array([jpegs[i] for i in np.reshape(idx, [-1])], dtype=object)
    return wanted, np.int64(label)


def register_worker_functions():
    """Registers the decode entries (`DECODE_TOKEN`, `TFRECORD_TOKEN`) in this
    process.

    TensorFlow finds the Python body of a `PyFunc` op by its token in a
    per-process table (`tensorflow.python.ops.script_ops`); its public API
    only hands out fresh tokens, which a worker process cannot know. The
    entries are kept alive here (the table holds weak references).
    """
    from tensorflow.python.ops import script_ops

    script_ops._py_funcs._funcs[DECODE_TOKEN] = _decode_entry
    script_ops._py_funcs._funcs[TFRECORD_TOKEN] = _tfrecord_entry


def decode_function(loader):
    """`fn(path, seed, segment) -> [clips, ok]`: `loader`'s decode as an op that
    any process with `register_worker_functions` can run."""
    register_worker_functions()
    config = tf.constant(loader_config(loader))
    dtype = tf.as_dtype(loader.dtype)

    def decode(path, seed, segment):
        return tf.raw_ops.PyFunc(
            input=[config, path, seed, segment], token=DECODE_TOKEN,
            Tout=[dtype, tf.bool],
        )  # fmt: skip

    return decode


def tfrecord_frames_function(settings, sampling):
    """`fn(path, offset, seed) -> (jpegs, label)`: the JPEGs of the frames
    that `settings` samples (`sampling`, the element's `seed`) from the record
    at byte `offset` of a TFRecord shard (`tfrecords.record_offsets`), as
    `tfrecords.video_dataset_from_tfrecords` gathers them; an op that any
    process with `register_worker_functions` can run."""
    register_worker_functions()
    config = tf.constant(
        json.dumps({"settings": settings.to_dict(), "sampling": sampling},
                   sort_keys=True)
    )  # fmt: skip
    count = settings.num_clips * settings.clip_length

    def frames(path, offset, seed):
        jpegs, label = tf.raw_ops.PyFunc(
            input=[config, path, offset, seed], token=TFRECORD_TOKEN,
            Tout=[tf.string, tf.int64],
        )  # fmt: skip
        jpegs.set_shape((count,))
        label.set_shape(())
        return jpegs, label

    return frames


# --- the trainer side: one registered dataset per epoch, watched -------------


def distribute_epochs(source, worker_stages, service, processing_mode, batch_size):
    """The trainer's dataset: each iteration is one tf.data service job.

    Args:
        source: the local pipeline's undecoded elements (a finite dataset,
            reshuffled and reseeded each iteration).
        worker_stages: `fn(table_dataset) -> dataset` of the stages the
            workers run (decode, crop, flip, labels).
        service: `DataService`.
        processing_mode: `"distributed_epoch"` or `"parallel_epochs"`.
        batch_size: batch on the trainer, or `None`.

    Returns:
        a dataset of the worker stages' elements (batched), of unknown
        cardinality: an epoch that lost a worker's clips ends short.
    """
    rows = int(source.cardinality())
    if rows < 1:
        raise ValueError(f"`source` must be a finite, non-empty dataset: {rows} rows")
    register_worker_functions()
    svc = tf.data.experimental.service

    def epoch(_):
        table = source.batch(rows).get_single_element()  # this iteration's draw
        remote = worker_stages(tf.data.Dataset.from_tensor_slices(table))
        dataset_id = svc.register_dataset(
            service.address, remote, compression=service.compression
        )
        ds = svc.from_dataset_id(
            processing_mode, service.address, dataset_id,
            element_spec=remote.element_spec,
        )  # fmt: skip
        if batch_size is not None:
            ds = ds.batch(batch_size)
        return _watched(ds, service)

    return tf.data.Dataset.range(1).flat_map(epoch)


class _Epoch:
    """What a trainer's reader saw of one job: elements arrived and taken."""

    def __init__(self):
        self.arrived = self.taken = 0
        self.last = time.monotonic()
        self.ended = False


POLL_SECONDS = 0.1  # the watchdog's period
_epochs = {}
_epochs_lock = threading.Lock()
_epoch_keys = itertools.count()
_closing = threading.Event()


@atexit.register
def _stop_watchdogs():
    """Ends every reader's watchdog before the interpreter finalizes.

    A reader still alive at exit (a trainer's repeated dataset) is destroyed
    during finalization, and TensorFlow's destructor waits for the watchdog's
    Python call in flight; that call can no longer take the GIL, so the
    process hung at exit (measured: a JAX trainer that read 3 batches never
    exited). Once `_closing` is set, `_poll` ends its loop at once; readers
    that are already garbage (a finished `fit`'s iterators, in reference
    cycles) are collected here, while calls in flight can still return,
    and waiting out one poll period lets the rest return.
    """
    _closing.set()
    gc.collect()
    time.sleep(2 * POLL_SECONDS)


def _start_epoch():
    key = next(_epoch_keys)
    with _epochs_lock:
        _epochs[key] = _Epoch()
    return np.int64(key)


def _count(key, field):
    field = field.decode() if isinstance(field, bytes) else field
    with _epochs_lock:
        epoch = _epochs.get(int(key))
        if epoch is not None:
            setattr(epoch, field, getattr(epoch, field) + 1)
            epoch.last = time.monotonic()
    return np.bool_(True)


def _end_epoch(key):
    with _epochs_lock:
        epoch = _epochs.get(int(key))
        if epoch is not None:
            epoch.ended = True
    return np.bool_(False)


def _poll(key, timeout, address):
    """One watchdog step: `True` to poll again, `False` once the job ended.

    Raises:
        TimeoutError: every arrived element was taken and none came for
            `timeout` seconds.
    """
    if not _closing.is_set():
        time.sleep(POLL_SECONDS)
    key = int(key)
    with _epochs_lock:
        epoch = _epochs.get(key)
        if epoch is None or epoch.ended or _closing.is_set():
            _epochs.pop(key, None)
            return np.bool_(False)
        waited = time.monotonic() - epoch.last
        stalled = epoch.taken >= epoch.arrived and waited > timeout
        if stalled:
            _epochs.pop(key, None)
    if stalled:
        address = address.decode() if isinstance(address, bytes) else address
        raise TimeoutError(
            f"No clip from the tf.data service at {address} for {waited:.0f} s "
            f"after {epoch.arrived} elements this epoch: a decode worker was "
            "probably lost (with distributed_epoch its clips are lost; restart "
            "it at the same address to go on). DataService.stall_timeout="
            f"{timeout:g}"
        )
    return np.bool_(True)


def _watched(ds, service):
    """`ds` read beside a watchdog that raises when the job stalls."""
    key = tf.numpy_function(_start_epoch, [], tf.int64, stateful=True)
    spec = ds.element_spec

    def tick(field):
        def apply(*element):
            done = tf.numpy_function(_count, [key, field], tf.bool, stateful=True)
            with tf.control_dependencies([done]):
                element = tf.nest.map_structure(tf.identity, element)
            return element[0] if len(element) == 1 else element

        return apply

    def nothing(_):  # an element of `spec` (filtered out before it is used)
        return tf.nest.map_structure(
            lambda s: tf.zeros([d if d is not None else 0 for d in s.shape], s.dtype),
            spec,
        )

    end = tf.data.Dataset.range(1).filter(
        lambda _: tf.numpy_function(_end_epoch, [key], tf.bool, stateful=True)
    )
    data = ds.map(tick("arrived")).concatenate(end.map(nothing))
    watchdog = (
        tf.data.Dataset.range(2**62)
        .map(
            lambda _: tf.numpy_function(
                _poll,
                [key, service.stall_timeout, service.address],
                tf.bool,
                stateful=True,
            )  # fmt: skip
        )
        .take_while(lambda again: again)
        .filter(lambda again: tf.constant(False))
        .map(nothing)
    )

    def branch(i):
        return tf.cond(tf.equal(i, 0), lambda: data, lambda: watchdog)

    both = tf.data.Dataset.range(2).interleave(
        branch, cycle_length=2, num_parallel_calls=2, deterministic=False
    )
    return both.map(tick("taken"))


# --- the servers: `keras-video data-service dispatcher | worker` -------------


def start_dispatcher(port=DEFAULT_DISPATCHER_PORT, worker_timeout=None, work_dir=None):
    """Starts a tf.data service dispatcher in this process.

    Args:
        port: the port to listen on (0: any free port).
        worker_timeout: seconds without a heartbeat before the dispatcher
            counts a worker as lost (default: TensorFlow's).
        work_dir: a folder for the registered datasets (one per epoch, about
            the size of the file list) instead of memory; it also lets a
            restarted dispatcher recover its state (fault-tolerant mode).

    Returns:
        the running `tf.data.experimental.service.DispatchServer`; its
        address is `server.target`.
    """
    svc = tf.data.experimental.service
    config = svc.DispatcherConfig(
        port=int(port),
        work_dir=work_dir,
        fault_tolerant_mode=work_dir is not None,
        worker_timeout_ms=None if worker_timeout is None else int(worker_timeout * 1e3),
    )
    return svc.DispatchServer(config)


def start_worker(dispatcher, port=DEFAULT_WORKER_PORT, host=None):
    """Starts a tf.data service worker in this process, able to decode.

    Args:
        dispatcher: the dispatcher's `"host:port"` (or `grpc://host:port`).
        port: the port to listen on (0: any free port). Give a fixed port so
            that a restarted worker takes over its tasks.
        host: the name other machines reach this worker by (default
            `"localhost"` when the dispatcher is local, else this machine's
            host name).

    Returns:
        the running `tf.data.experimental.service.WorkerServer`.
    """
    import socket

    register_worker_functions()
    address = dispatcher.split("://")[-1]
    if host is None:
        local = address.split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
        host = "localhost" if local else socket.gethostname()
    svc = tf.data.experimental.service
    config = svc.WorkerConfig(
        dispatcher_address=address, worker_address=f"{host}:%port%", port=int(port)
    )
    return svc.WorkerServer(config)


def serve(server, name, out=print, stop_timeout=10.0):
    """Blocks until SIGINT or SIGTERM, then stops `server`.

    For a process that runs only the server (`keras-video data-service`):
    TensorFlow's worker may not stop while a task waits on a dispatcher that
    is gone, and it waits holding Python's lock (seen here: no stop in 60 s),
    so if stopping takes over `stop_timeout` seconds the process exits with
    status 1 (`faulthandler`'s watchdog, which needs no Python lock).

    Args:
        server: a `DispatchServer` or `WorkerServer`.
        name: what to call it in the lines written to `out`.
        out: where the lines go.
        stop_timeout: seconds the stop may take.
    """
    import faulthandler
    import os

    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        out(f"{name} running; stop with Ctrl-C or SIGTERM", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out(f"{name} stopping (exits with status 1 after {stop_timeout:g} s)", flush=True)
    with open(os.devnull, "w") as devnull:
        faulthandler.dump_traceback_later(stop_timeout, exit=True, file=devnull)
        try:
            server.stop()
        finally:
            faulthandler.cancel_dump_traceback_later()
    out(f"{name} stopped", flush=True)
