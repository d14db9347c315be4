"""Which mixed precision policy to train with, from the devices present.

- a TPU, or GPUs that all compute in bfloat16 (NVIDIA compute capability 8.0
  and up: A100, H100, L4, RTX 30xx/40xx): `"mixed_bfloat16"`;
- other GPUs (V100, T4, ...): `"mixed_float16"`, with loss scaling
  (`keras.optimizers.LossScaleOptimizer`);
- CPU only: `"float32"` (mixed precision is slower on CPUs).
"""

import keras

POLICIES = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


def list_accelerators():
    """The accelerators the current Keras backend sees.

    Returns:
        a list of dicts `{"type": "gpu" | "tpu", "name": str,
        "compute_capability": (major, minor) or None}`.
    """
    backend = keras.backend.backend()
    devices = []
    if backend == "tensorflow":
        import tensorflow as tf

        for d in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(d)
            devices.append(
                {
                    "type": "gpu",
                    "name": details.get("device_name", d.name),
                    "compute_capability": details.get("compute_capability"),
                }
            )
        devices += [
            {"type": "tpu", "name": d.name, "compute_capability": None}
            for d in tf.config.list_physical_devices("TPU")
        ]
    elif backend == "jax":
        import jax

        for d in jax.devices():
            if d.platform in ("gpu", "cuda", "rocm"):
                cc = getattr(d, "compute_capability", None)
                if isinstance(cc, str):
                    cc = tuple(int(v) for v in cc.split(".")[:2])
                devices.append(
                    {"type": "gpu", "name": d.device_kind, "compute_capability": cc}
                )
            elif d.platform == "tpu":
                devices.append(
                    {"type": "tpu", "name": d.device_kind, "compute_capability": None}
                )
    elif backend == "torch":
        import torch

        for i in range(torch.cuda.device_count()):
            devices.append(
                {
                    "type": "gpu",
                    "name": torch.cuda.get_device_name(i),
                    "compute_capability": tuple(torch.cuda.get_device_capability(i)),
                }
            )
    return devices


def _has_bfloat16(device):
    if device["type"] == "tpu":
        return True
    cc = device.get("compute_capability")
    return cc is not None and tuple(cc) >= (8, 0)


def select_precision(devices=None):
    """The dtype policy name to train with on `devices`.

    Args:
        devices: the output of `list_accelerators()` (read when `None`).

    Returns:
        `"mixed_bfloat16"`, `"mixed_float16"` or `"float32"`.
    """
    if devices is None:
        devices = list_accelerators()
    if not devices:
        return "float32"
    if all(_has_bfloat16(d) for d in devices):
        return "mixed_bfloat16"
    return "mixed_float16"


def resolve_precision(precision="auto", devices=None):
    """`precision` as a policy name: `"auto"` is `select_precision(devices)`."""
    if precision not in POLICIES:
        raise ValueError(
            f"`precision` must be one of {POLICIES}. Received: {precision!r}"
        )
    return select_precision(devices) if precision == "auto" else precision


def wrap_optimizer(optimizer, policy):
    """Loss scaling for `"mixed_float16"`; the optimizer unchanged otherwise."""
    if policy == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
