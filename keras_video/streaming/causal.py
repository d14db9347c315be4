"""Frame-by-frame inference with carried state, equal to clip mode.

`CausalStreamer(model)` runs a causal clip model one frame at a time: each
RNN layer (`ConvGRU`, `GRU`, `LSTM`) steps its cell once per frame and keeps
its state, per-frame layers (`TimeDistributed`, pooling that does not mix
frames, element-wise layers) run on the frame, and the layers after the last
RNN (the head) run on its current state. After `t` frames the output equals
the model on the clip of those `t` frames (the recurrent CNN, CNN+RNN).

`SlidingWindow(model)` makes any clip model causal the other way: it keeps the
last `clip_length` frames and runs the model on them, so after frame `t` the
output is the model on frames `t - clip_length + 1 .. t`.

```python
streamer = CausalStreamer(RecurrentCNN(base_filters=8, depth=2, classes=5,
                                       input_shape=(16, 64, 64, 3)))
for frame in frames:                 # (64, 64, 3) each
    scores = streamer.update(frame)  # (5,) after every frame
```
"""

import collections

import keras
import numpy as np

# Layers that act on each frame alone when given a (batch, 1, ...) slice, or
# element-wise (any shape).
_ELEMENTWISE = (
    keras.layers.Rescaling, keras.layers.Activation, keras.layers.ReLU,
    keras.layers.Dropout, keras.layers.Normalization, keras.layers.Identity,
)  # fmt: skip


def _per_frame_pooling(layer):
    return (
        isinstance(layer, (keras.layers.MaxPooling3D, keras.layers.AveragePooling3D))
        and layer.pool_size[0] == 1
        and layer.strides[0] == 1
    )


class CausalStreamer:
    """Runs a chain model with RNN layers over time one frame at a time.

    Args:
        model: a functional `keras.Model` that is a chain of layers (one input,
            each layer feeding the next) whose only layers that mix frames are
            RNN layers running forward.

    Raises:
        ValueError: a layer that mixes frames other than a forward RNN (named),
            or a model that is not a chain.
    """

    def __init__(self, model):
        self.model = model
        self.layers = self._chain(model)
        self.reset()

    @staticmethod
    def _chain(model):
        layers = [
            lay for lay in model.layers if not isinstance(lay, keras.layers.InputLayer)
        ]
        in_time = True  # whether the tensor still has a time axis
        for layer in layers:
            inbound = getattr(layer, "_inbound_nodes", [])
            if len(inbound) != 1 or len(keras.tree.flatten(layer.input)) != 1:
                raise ValueError(
                    f"CausalStreamer needs a chain model: layer {layer.name!r} of "
                    f"{model.name!r} has several inputs or calls. "
                    f"Received: model={model.name!r}"
                )
            if not in_time:
                continue  # the head: runs on the state
            if isinstance(layer, keras.layers.RNN):
                if layer.go_backwards:
                    raise ValueError(
                        f"Layer {layer.name!r} runs backwards in time: not causal. "
                        f"Received: go_backwards=True"
                    )
                in_time = bool(layer.return_sequences)
            elif not (
                isinstance(layer, (keras.layers.TimeDistributed, *_ELEMENTWISE))
                or _per_frame_pooling(layer)
            ):
                raise ValueError(
                    f"Layer {layer.name!r} ({type(layer).__name__}) of "
                    f"{model.name!r} mixes frames and is not an RNN: it cannot "
                    "run frame by frame (use SlidingWindow). "
                    f"Received: layer={layer.name!r}"
                )
        if in_time:
            raise ValueError(
                f"{model.name!r} keeps its time axis to the end: no RNN layer "
                "gives a state to classify. Use SlidingWindow."
            )
        return layers

    def reset(self):
        """Forgets the frames seen so far (initial RNN states)."""
        self.states = {}
        self.frames_seen = 0

    def _step(self, layer, x):
        if isinstance(layer, keras.layers.RNN):
            states = self.states.get(layer.name)
            if states is None:
                states = layer.cell.get_initial_state(batch_size=x.shape[0])
            out, new = layer.cell(x, states, training=False)
            self.states[layer.name] = keras.tree.flatten(new)
            return out, bool(layer.return_sequences)
        if isinstance(layer, keras.layers.TimeDistributed):
            return layer.layer(x, training=False), True
        if _per_frame_pooling(layer):
            return layer(x[:, None], training=False)[:, 0], True
        return layer(x, training=False), True

    def update(self, frames):
        """Feeds one frame per stream; returns the scores after it.

        Args:
            frames: `(height, width, channels)` or `(batch, height, width,
                channels)` float frames as the model takes them.

        Returns:
            the model's output for the clip of all frames so far: `(classes,)`
            or `(batch, classes)`.
        """
        frames = np.asarray(frames, np.float32)
        single = frames.ndim == 3
        x = keras.ops.convert_to_tensor(frames[None] if single else frames)
        in_time = True
        for layer in self.layers:
            if in_time:
                x, in_time = self._step(layer, x)
            else:
                x = layer(x, training=False)
        self.frames_seen += 1
        out = keras.ops.convert_to_numpy(x)
        return out[0] if single else out


class SlidingWindow:
    """Any clip model, run on the last `clip_length` frames after each frame.

    Args:
        model: a clip model with a static number of frames.
        stride: run the model every `stride` frames (between runs `update`
            returns the last scores).

    Until `clip_length` frames have come, `update` returns `None`.
    """

    def __init__(self, model, stride=1):
        self.model = model
        self.clip_length = model.inputs[0].shape[1]
        if self.clip_length is None:
            raise ValueError(
                "SlidingWindow needs a model with a static number of frames. "
                f"Received: input_shape={tuple(model.inputs[0].shape)}"
            )
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"`stride` must be a positive integer. Received: {stride}")
        self.stride = stride
        self.reset()

    def reset(self):
        self.window = collections.deque(maxlen=self.clip_length)
        self.frames_seen = 0
        self.last = None

    def update(self, frame):
        """Adds one `(height, width, channels)` frame; returns the scores of
        the current window (`(classes,)`) or `None` before it is full."""
        self.window.append(np.asarray(frame, np.float32))
        self.frames_seen += 1
        full = len(self.window) == self.clip_length
        if full and (self.frames_seen - self.clip_length) % self.stride == 0:
            clip = np.stack(self.window)[None]
            self.last = keras.ops.convert_to_numpy(self.model(clip, training=False))[0]
        return self.last


def streamer_for(model, stride=1):
    """`CausalStreamer(model)` when the model can run frame by frame, else
    `SlidingWindow(model, stride)`."""
    try:
        return CausalStreamer(model)
    except ValueError:
        return SlidingWindow(model, stride)
