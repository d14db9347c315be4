"""`train(distribute="multi-host")`: two processes on loopback, on CPU.

The equality test needs a run whose global batches are the same with one
process and with two: the training set is one global batch (12 clips of
4-frame videos, `clip_length=4`, no augmentation: every clip is its whole
video, so neither the clip seeds nor the order within the batch matter), each
host reads 6 of them (its file shard), and the model has no batch norm or
dropout. Then every epoch is one step on the same 12 clips.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_video.data import service, write_motion_dataset
from keras_video.training import checkpoints, multi_host, runner
from tests.conftest import ROOT

CLASSES = ("left", "right", "up", "down")
EPOCHS = 3
TIMEOUT = 240  # seconds per process (alone each takes under 30): a hang fails the test


def tiny_no_norm(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=4,
    classifier_activation="softmax",
    name="tiny_no_norm",
):
    """Conv3D -> global average pooling -> Dense: no batch norm, no dropout."""
    inputs = input_tensor if input_tensor is not None else keras.Input(input_shape)
    x = keras.layers.Conv3D(4, 3, strides=(1, 2, 2), activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling3D()(x)
    x = keras.layers.Dense(classes, activation=classifier_activation)(x)
    return keras.Model(inputs, x, name=name)


SCRIPT = r"""
import json, os, signal, sys
import keras, numpy as np
from keras_video.training import Recipe, multi_host, train

a = json.loads(sys.argv[1])
recipe = Recipe(
    model="tests.training.test_multi_host:tiny_no_norm", clip_length=4,
    frame_step=1, image_size=(16, 16), augment=False, batch_size=12,
    validation_split=0.25, epochs=a["epochs"], learning_rate=0.05,
    warmup_epochs=0, precision="float32", seed=3, eval_num_clips=1,
)


class KillSelf(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == a["kill_after"]:
            os.kill(os.getpid(), signal.SIGKILL)


cluster = None
if a["num_processes"] > 1:
    cluster = multi_host.cluster_spec(a["addresses"], a["num_processes"], a["id"])
out = train(
    recipe, a["data"], a["run"], distribute="multi-host" if cluster else False,
    verbose=0, tensorboard=False, evaluate=False, cluster=cluster,
    callbacks=[KillSelf()] if a["kill_after"] else None,
)
np.savez(a["weights"], *[keras.ops.convert_to_numpy(w) for w in out["model"].weights])
multi_host.shutdown()
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _env(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    env.pop("XLA_FLAGS", None)
    return env


def _start(backend, tmp, name, run, num_processes, kill_after=0, service=None):
    """Starts the processes of one run (`SCRIPT`, or with `service` the command
    `keras-video train --distribute multi-host --data-service SERVICE`);
    returns `[(popen, weights)]`."""
    addresses = [f"127.0.0.1:{p}" for p in _free_ports(num_processes)]
    procs = []
    for i in range(num_processes):
        weights = os.path.join(tmp, f"{name}_{i}.npz")
        args = dict(
            data=os.path.join(tmp, "data"), run=run, epochs=EPOCHS,
            num_processes=num_processes, id=i, addresses=addresses,
            weights=weights, kill_after=kill_after if i == 1 else 0,
        )  # fmt: skip
        command = [sys.executable, "-c", SCRIPT, json.dumps(args)]
        if service:
            command = [
                sys.executable, "-m", "keras_video.cli", "train",
                os.path.join(run, "recipe.json"), "--data", args["data"],
                "--output", run, "--quiet", "--distribute", "multi-host",
                "--coordinator", ",".join(addresses),
                "--num-processes", str(num_processes), "--process-id", str(i),
                "--data-service", service,
            ]  # fmt: skip
        popen = subprocess.Popen(
            command, cwd=ROOT, env=_env(backend), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append((popen, weights))
    return procs


def _finish(procs):
    """Waits for every process; returns the stdout of each."""
    outputs = []
    try:
        for i, (popen, _) in enumerate(procs):
            try:
                out, err = popen.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired as e:
                raise AssertionError(
                    f"process {i} of {len(procs)} did not end in {TIMEOUT} s; "
                    f"its output: {e.stdout!r}; its errors: {str(e.stderr)[-2000:]}"
                ) from None
            assert popen.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for popen, _ in procs:
            if popen.poll() is None:
                popen.kill()
                popen.communicate()
    return outputs


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _max_difference(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def motion_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi_host")
    write_motion_dataset(
        root / "data", 4, seed=0, image_size=(16, 16), num_frames=4, classes=CLASSES
    )
    return root


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_two_hosts_equal_one_host_across_a_kill(backend, motion_data, tmp_path):
    """Two hosts train 1 epoch, host 1 is killed (then host 0), both restart
    (`keras-video train --distribute multi-host --data-service`, decoding on a
    tf.data service worker) and resume from the backup for the other 2 epochs:
    the weights equal a one-process run of 3 epochs on the same global batches
    (1e-5)."""
    tmp = str(tmp_path)
    os.symlink(motion_data / "data", tmp_path / "data")
    run = str(tmp_path / "run")
    # The one-process reference runs beside the first two-process run.
    reference = _start(backend, tmp, "one", str(tmp_path / "one"), 1)
    killed = _start(backend, tmp, "killed", run, 2, kill_after=1)
    backup = os.path.join(run, "backup")
    try:
        killed[1][0].wait(timeout=TIMEOUT)
        assert killed[1][0].returncode == -signal.SIGKILL
        # Host 0 writes its backup of epoch 1, then waits for host 1 in vain.
        deadline = time.monotonic() + TIMEOUT
        while (checkpoints.backup_state(backup) or (0,))[0] < 1:
            assert time.monotonic() < deadline, "no backup of epoch 1"
            time.sleep(0.1)
    finally:
        for popen, _ in killed:
            popen.kill()
            popen.communicate()
    assert checkpoints.backup_state(backup).epoch == 1
    # The restart: the command line, and the clips decoded by a tf.data service
    # (a dispatcher and a worker in this process).
    dispatcher = service.start_dispatcher(port=0)
    worker = service.start_worker(dispatcher.target, port=0)
    try:
        resumed = _start(backend, tmp, "resumed", run, 2, service=dispatcher.target)
        outputs = _finish(resumed)
    finally:
        worker.stop()
        dispatcher.stop()
    _finish(reference)
    assert f"model: {os.path.join(run, 'model.keras')}" in outputs[0], outputs[0]
    assert "model:" not in outputs[1]  # host 1 reports nothing
    with open(os.path.join(run, "history.csv")) as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [0, 1, 2]
    # The chief alone wrote the run folder; the backup is gone once complete.
    expected = {"checkpoints", "class_names.json", "eval.json", "history.csv",
                "model.keras", "recipe.json"}  # fmt: skip
    assert set(os.listdir(run)) - {"logs"} == expected  # logs: with TensorBoard
    one = _weights(os.path.join(tmp, "one_0.npz"))
    model = keras.saving.load_model(os.path.join(run, "model.keras"))
    weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
    difference = _max_difference(weights, one)
    print(f"{backend}: max |w_2 hosts - w_1 host| = {difference:.2e}")
    assert difference < 1e-5


def test_cluster_spec_from_arguments_and_environment(monkeypatch):
    cluster = multi_host.cluster_spec("10.0.0.1:1234", 2, 1)
    assert cluster == multi_host.Cluster(("10.0.0.1:1234",), 2, 1)
    assert not multi_host.is_chief(cluster)
    monkeypatch.setenv(multi_host.ENV_ADDRESSES, "h0:1,h1:2")
    monkeypatch.setenv(multi_host.ENV_NUM_PROCESSES, "2")
    monkeypatch.setenv(multi_host.ENV_PROCESS_ID, "0")
    cluster = multi_host.cluster_spec()
    assert cluster == multi_host.Cluster(("h0:1", "h1:2"), 2, 0)
    assert multi_host.tf_config(cluster) == {
        "cluster": {"worker": ["h0:1", "h1:2"]},
        "task": {"type": "worker", "index": 0},
    }


@pytest.mark.parametrize(
    "args, message",
    [
        ((None, 2, 0), "needs the coordinator's address"),
        (("h0", 2, 0), "HOST:PORT. Received: job_addresses='h0'"),
        (("h0:1", "two", 0), "Received: num_processes='two'"),
        (("h0:1", 2, 2), "num_processes=2, process_id=2"),
        (("h0:1,h1:2,h2:3", 2, 0), "3 addresses for num_processes=2"),
    ],
)
def test_cluster_spec_errors(args, message, monkeypatch):
    monkeypatch.delenv(multi_host.ENV_ADDRESSES, raising=False)
    with pytest.raises(ValueError, match=message):
        multi_host.cluster_spec(*args)


def test_tf_config_needs_every_address():
    with pytest.raises(ValueError, match="needs every host's address"):
        multi_host.tf_config(multi_host.Cluster(("h0:1",), 2, 0))


def test_host_batch_size():
    assert multi_host.host_batch_size(12, 2) == 6
    assert multi_host.host_batch_size(64, 4, devices_per_host=2) == 16
    for args in ((12, 5), (2, 4), (12, 2, 4)):
        with pytest.raises(ValueError, match="split evenly"):
            multi_host.host_batch_size(*args)


def test_distribute_modes():
    assert [runner.distribute_mode(d) for d in (False, None, True, "local")] == [
        None, None, "local", "local",
    ]  # fmt: skip
    assert runner.distribute_mode("multi-host") == "multi-host"
    with pytest.raises(ValueError, match="Received: distribute='hosts'"):
        runner.distribute_mode("hosts")
