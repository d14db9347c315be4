"""One gradient helper for every explanation: a class score's gradient with
respect to a model's inputs, on TensorFlow, JAX and PyTorch.

`grad_cam`, `saliency` and `class_model` all ask the same question (how does
one class score change with an input?) and differ only in which input they
ask about: the clip (saliency, class model) or an extra zero input added to
a layer's output (Grad-CAM). Each backend answers with its own automatic
differentiation, imported when it is used:

- TensorFlow: `tf.GradientTape` (watching the inputs);
- JAX: `jax.value_and_grad` of `model.stateless_call`;
- PyTorch: `torch.autograd.grad` of inputs made with `requires_grad`.

No `tensorflow` import happens on the JAX and PyTorch backends.
"""

import keras
import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _class_indices(class_index, batch_size):
    """`None`, or `(batch,)` int64 class indices from an int or a sequence."""
    if class_index is None:
        return None
    indices = np.asarray(class_index, dtype=np.int64).reshape(-1)
    if indices.size == 1:
        indices = np.repeat(indices, batch_size)
    if indices.size != batch_size:
        raise ValueError(
            "`class_index` must be an int or one int per sample. Received: "
            f"class_index={class_index!r} for a batch of {batch_size}"
        )
    return indices


def _score(outputs, class_index):
    """The summed score of each sample's class (its top class when `None`):
    `sum_b scores[b, class_index[b]]`, `scores` the model's last output."""
    scores = keras.tree.flatten(outputs)[-1]
    num_classes = scores.shape[-1]
    if class_index is None:
        class_index = keras.ops.argmax(scores, axis=-1)
    mask = keras.ops.stop_gradient(
        keras.ops.one_hot(class_index, num_classes, dtype=scores.dtype)
    )
    return keras.ops.sum(scores * mask)


def _tensorflow(model, inputs, class_index):
    import tensorflow as tf

    xs = [tf.convert_to_tensor(x) for x in inputs]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        outputs = model(xs if len(xs) > 1 else xs[0], training=False)
        score = _score(outputs, class_index)
    return outputs, tape.gradient(score, xs)


def _jax(model, inputs, class_index):
    import jax

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def score(xs):
        outputs, _ = model.stateless_call(
            trainable, non_trainable, xs if len(xs) > 1 else xs[0], training=False
        )
        return _score(outputs, class_index), outputs

    xs = [jax.numpy.asarray(x) for x in inputs]
    (_, outputs), grads = jax.value_and_grad(score, has_aux=True)(xs)
    return outputs, grads


def _torch(model, inputs, class_index):
    import torch

    xs = [keras.ops.convert_to_tensor(x).detach().requires_grad_(True) for x in inputs]
    outputs = model(xs if len(xs) > 1 else xs[0], training=False)
    score = _score(outputs, class_index)
    grads = torch.autograd.grad(score, xs, allow_unused=True)
    pairs = zip(xs, grads, strict=True)
    grads = [torch.zeros_like(x) if g is None else g for x, g in pairs]
    return outputs, grads


_GRADIENTS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def class_score_gradients(model, inputs, class_index=None):
    """A class score's gradient with respect to every input of `model`.

    The score of sample `b` is `scores[b, class_index[b]]`, where `scores` is
    the model's last output `(batch, classes)`; the samples do not interact
    (no batch statistics at inference), so each sample's gradient is that of
    its own score.

    Args:
        model: a `keras.Model`; its last output holds `(batch, classes)`
            scores (logits, for explanations: see `grad_cam`).
        inputs: one batched array, or a list with one per model input.
        class_index: `None` (each sample's top class), an int, or one int per
            sample.

    Returns:
        `(outputs, gradients, class_index)`: the model's outputs as NumPy
        arrays (a list when it has several), float32 gradients with the
        shapes of `inputs` (a list when `inputs` is one), and the `(batch,)`
        int64 class indices used.

    Raises:
        ValueError: the Keras backend has no automatic differentiation here
            (only TensorFlow, JAX and PyTorch), or a bad `class_index`.

    Example:

    ```python
    import keras, numpy as np
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    x = np.ones((2, 4), "float32")
    _, grads, classes = class_score_gradients(model, x, class_index=1)
    # grads == model's kernel[:, 1] for each sample
    ```
    """
    backend = keras.backend.backend()
    if backend not in _GRADIENTS:
        raise ValueError(
            f"Gradients need the TensorFlow, JAX or PyTorch backend. "
            f"Received: backend={backend!r}"
        )
    listed = isinstance(inputs, (list, tuple))
    arrays = [np.asarray(keras.ops.convert_to_numpy(x)) for x in _as_list(inputs)]
    arrays = [a.astype(np.float32) if a.dtype != np.float32 else a for a in arrays]
    if len(arrays) != len(model.inputs):
        raise ValueError(
            f"{model.name!r} takes {len(model.inputs)} inputs. "
            f"Received: {len(arrays)} inputs"
        )
    class_index = _class_indices(class_index, arrays[0].shape[0])
    outputs, grads = _GRADIENTS[backend](model, arrays, class_index)
    outputs = [np.asarray(keras.ops.convert_to_numpy(o)) for o in _as_list(outputs)]
    grads = [np.asarray(keras.ops.convert_to_numpy(g), np.float32) for g in grads]
    if class_index is None:
        class_index = np.argmax(outputs[-1], axis=-1).astype(np.int64)
    return (
        outputs if len(outputs) > 1 else outputs[0],
        grads if listed else grads[0],
        class_index,
    )
