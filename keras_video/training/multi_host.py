"""Data-parallel training on several hosts: one process per host.

```
host 0 (chief)   keras-video train ... --distribute multi-host --process-id 0
host 1 .. N-1    keras-video train ... --distribute multi-host --process-id I
                 (all: --coordinator HOST0:PORT[,HOST1:PORT,...] --num-processes N)
```

The cluster is `Cluster(job_addresses, num_processes, process_id)`, from the
flags or, like `keras.distribution.initialize`, from the environment variables
`KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES` and
`KERAS_DISTRIBUTION_PROCESS_ID`.

- JAX: `keras.distribution.initialize` (which calls
  `jax.distributed.initialize` with the first address as the coordinator),
  then `keras.distribution.DataParallel` over every device of every host.
  Each host feeds its own part of the global batch (`auto_shard_dataset` is
  off: the runner shards the files itself); Keras assembles the global batch
  with `jax.make_array_from_process_local_data`. On CPU the hosts talk through
  JAX's CPU collectives (Gloo, the default of `jax_cpu_collectives_implementation`).
- TensorFlow: `TF_CONFIG` from the addresses (every host's, chief first),
  then `tf.distribute.MultiWorkerMirroredStrategy`; each host's dataset goes
  in through `distribute_datasets_from_function`.

Keras 3.15's TensorFlow trainer does not run `MultiWorkerMirroredStrategy` as
it is (keras-team/keras#20585): `fit` reduces the first batch and the logs with
`strategy.reduce` in ways that fail for collective all-reduce. `scope` works
around both while it is active (see `_KerasMultiWorkerFix`); the gradients are
all-reduced by the strategy as usual.

Only the chief (process 0) writes the run folder; the other hosts write to a
temporary folder that is deleted at the end, as TensorFlow's multi-worker
guide does. On restart every host restores the chief's backup, so `run_dir`
must be the same folder on every host (a shared file system).
"""

import collections
import json
import os

import keras

ENV_ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
ENV_NUM_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
ENV_PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"

Cluster = collections.namedtuple(
    "Cluster", ["job_addresses", "num_processes", "process_id"]
)
Cluster.__doc__ = """The hosts of a run and which one this process is.

`job_addresses`: tuple of `"host:port"`, the coordinator (chief) first; JAX
needs only the first, TensorFlow every host's. `num_processes`: hosts in all.
`process_id`: this host, `0 <= process_id < num_processes`; 0 is the chief.
"""

_state = {"cluster": None, "strategy": None}


def cluster_spec(job_addresses=None, num_processes=None, process_id=None):
    """The `Cluster` from the arguments, else from the environment.

    Args:
        job_addresses: `"host:port"` of the coordinator, or every host's
            comma-separated (a list also works), chief first. Default:
            `$KERAS_DISTRIBUTION_JOB_ADDRESSES`.
        num_processes: hosts in all. Default: `$KERAS_DISTRIBUTION_NUM_PROCESSES`.
        process_id: this host's index. Default: `$KERAS_DISTRIBUTION_PROCESS_ID`.

    Returns:
        a `Cluster`.

    Example:

    ```python
    cluster_spec("10.0.0.1:1234", num_processes=2, process_id=1)
    # Cluster(job_addresses=('10.0.0.1:1234',), num_processes=2, process_id=1)
    ```
    """
    if job_addresses is None:
        job_addresses = os.environ.get(ENV_ADDRESSES)
    if num_processes is None and ENV_NUM_PROCESSES in os.environ:
        num_processes = os.environ[ENV_NUM_PROCESSES]
    if process_id is None and ENV_PROCESS_ID in os.environ:
        process_id = os.environ[ENV_PROCESS_ID]
    if not job_addresses:
        raise ValueError(
            "Multi-host training needs the coordinator's address: pass "
            f"--coordinator HOST:PORT or set {ENV_ADDRESSES}. "
            f"Received: job_addresses={job_addresses!r}"
        )
    if isinstance(job_addresses, str):
        job_addresses = job_addresses.split(",")
    addresses = tuple(a.strip() for a in job_addresses)
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(
                "Each address must be HOST:PORT. "
                f"Received: job_addresses={','.join(addresses)!r}"
            )
    try:
        num_processes, process_id = int(num_processes), int(process_id)
    except (TypeError, ValueError):
        raise ValueError(
            "Multi-host training needs integer --num-processes and --process-id "
            f"(or {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}). Received: "
            f"num_processes={num_processes!r}, process_id={process_id!r}"
        ) from None
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(
            "`process_id` must be in [0, num_processes). Received: "
            f"num_processes={num_processes}, process_id={process_id}"
        )
    if len(addresses) not in (1, num_processes):
        raise ValueError(
            "Give the coordinator's address or every host's. Received: "
            f"{len(addresses)} addresses for num_processes={num_processes}"
        )
    return Cluster(addresses, num_processes, process_id)


def is_chief(cluster):
    """Whether this host writes the run folder (process 0)."""
    return cluster.process_id == 0


def tf_config(cluster):
    """The `TF_CONFIG` value (a dict) of `cluster`: every host a worker."""
    if len(cluster.job_addresses) != cluster.num_processes:
        raise ValueError(
            "TensorFlow's MultiWorkerMirroredStrategy needs every host's address "
            "(--coordinator HOST0:PORT,HOST1:PORT,..., chief first). Received: "
            f"job_addresses={','.join(cluster.job_addresses)!r} for "
            f"num_processes={cluster.num_processes}"
        )
    return {
        "cluster": {"worker": list(cluster.job_addresses)},
        "task": {"type": "worker", "index": cluster.process_id},
    }


def initialize(cluster):
    """Joins the cluster; once per process, before any other backend work.

    JAX: `keras.distribution.initialize` (`jax.distributed.initialize`).
    TensorFlow: sets `TF_CONFIG` and creates the
    `MultiWorkerMirroredStrategy`. Blocks until every host has joined.
    Calling it again with the same cluster does nothing.
    """
    if _state["cluster"] is not None:
        if _state["cluster"] != cluster:
            raise ValueError(
                "This process already joined another cluster. Received: "
                f"cluster={cluster}, joined={_state['cluster']}"
            )
        return
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        # CPU hosts exchange gradients through Gloo (JAX 0.10's default; an
        # older default of "none" would fail on the first cross-host step).
        if jax.config.jax_cpu_collectives_implementation in (None, "none"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(
            ",".join(cluster.job_addresses), cluster.num_processes, cluster.process_id
        )
    elif backend == "tensorflow":
        config = tf_config(cluster)
        os.environ["TF_CONFIG"] = json.dumps(config)
        import tensorflow as tf

        _state["strategy"] = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        raise ValueError(
            "--distribute multi-host supports the jax and tensorflow backends. "
            f"Received: backend={backend}"
        )
    _state["cluster"] = cluster


def shutdown():
    """Leaves the cluster (JAX: `jax.distributed.shutdown`, a barrier)."""
    if _state["cluster"] is None:
        return
    if keras.backend.backend() == "jax":
        import jax

        jax.distributed.shutdown()
    _state["cluster"] = None


def _joined():
    if _state["cluster"] is None:
        raise ValueError(
            "Call multi_host.initialize(cluster) first. Received: no cluster joined"
        )
    return _state["cluster"]


class scope:
    """The context in which to build, compile and fit across the hosts.

    JAX: `keras.distribution.DataParallel` over every device of every host,
    with `auto_shard_dataset=False` (each host feeds its own shard); TF: the
    `MultiWorkerMirroredStrategy`'s scope and the keras#20585 workaround.
    """

    def __enter__(self):
        _joined()
        if keras.backend.backend() == "jax":
            self.previous = keras.distribution.distribution()
            keras.distribution.set_distribution(
                keras.distribution.DataParallel(
                    devices=keras.distribution.list_devices(),
                    auto_shard_dataset=False,
                )
            )
        else:
            self.strategy_scope = _state["strategy"].scope()
            self.strategy_scope.__enter__()
            self.fix = _KerasMultiWorkerFix(_state["strategy"]).__enter__()
        return self

    def __exit__(self, *exc):
        if keras.backend.backend() == "jax":
            keras.distribution.set_distribution(self.previous)
        else:
            self.fix.__exit__(*exc)
            self.strategy_scope.__exit__(*exc)
        return False


def num_replicas():
    """Devices training in sync over all hosts."""
    _joined()
    if keras.backend.backend() == "jax":
        return len(keras.distribution.list_devices())
    return _state["strategy"].num_replicas_in_sync


def local_replicas():
    """Devices of this host that train."""
    cluster = _joined()
    return num_replicas() // cluster.num_processes


def host_batch_size(global_batch_size, num_processes, devices_per_host=1):
    """Each host's share of `global_batch_size` (every host the same).

    Raises:
        ValueError: when the hosts (and each host's devices) cannot share the
            batch equally.

    Example:

    ```python
    host_batch_size(64, num_processes=4, devices_per_host=2)  # 16
    ```
    """
    per_host, remainder = divmod(int(global_batch_size), num_processes)
    if remainder or per_host < 1 or per_host % devices_per_host:
        raise ValueError(
            "The global batch must split evenly over the hosts and their "
            f"devices ({num_processes} hosts x {devices_per_host} devices). "
            f"Received: batch_size={global_batch_size}"
        )
    return per_host


def distribute_dataset(dataset):
    """`dataset` (this host's batches) as the strategy takes it.

    JAX: `dataset` itself (Keras assembles the global batch). TensorFlow:
    `distribute_datasets_from_function` with `dataset` as this host's input,
    so TensorFlow neither shards nor rebatches it again.
    """
    _joined()
    if keras.backend.backend() == "jax":
        return dataset
    return _state["strategy"].distribute_datasets_from_function(lambda _: dataset)


class _KerasMultiWorkerFix:
    """Works around keras-team/keras#20585 (Keras 3.15, TensorFlow trainer).

    1. `fit` builds the metrics from the first batch reduced with
       `strategy.reduce("MEAN", batch)`, which collective all-reduce cannot do
       on a nested batch (`ValueError: Attempt to convert a value
       (PerReplica...) with an unsupported type`). The fix builds from this
       host's part of the batch instead.
    2. The logs of each step (scalars) are reduced with
       `strategy.reduce("MEAN", v, axis=0)` (`Invalid reduction dimension 0
       for input with 0 dimensions`). The fix reduces them as for a single
       host: the logs are this host's metrics. Gradients are not affected:
       the optimizer all-reduces them across the hosts.
    """

    def __init__(self, strategy):
        self.strategy = strategy

    def __enter__(self):
        from keras.src.backend.tensorflow import trainer as tf_trainer

        self.module = tf_trainer
        self.saved = (
            tf_trainer._collective_all_reduce_multi_worker,
            tf_trainer.TensorFlowTrainer._maybe_symbolic_build,
        )
        strategy, build = self.strategy, self.saved[1]

        def maybe_symbolic_build(model, iterator=None, data_batch=None):
            if iterator is not None:
                for _, _, it in iterator:
                    data_batch = keras.tree.map_structure(
                        lambda v: strategy.experimental_local_results(v)[0], next(it)
                    )
                    break
            return build(model, data_batch=data_batch)

        tf_trainer._collective_all_reduce_multi_worker = lambda _: False
        tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
        return self

    def __exit__(self, *exc):
        (
            self.module._collective_all_reduce_multi_worker,
            self.module.TensorFlowTrainer._maybe_symbolic_build,
        ) = self.saved
        return False
