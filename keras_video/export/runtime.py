"""`load_exported`: run an exported artifact with its own runtime.

SavedModel runs in TensorFlow (`tf.saved_model.load`, its `serving_default`
signature), ONNX in onnxruntime, LiteRT in the LiteRT interpreter
(`ai_edge_litert`). No Keras model is involved: this is what a server or a
phone runs, so it is what the parity checks compare with Keras.
"""

import numpy as np

from keras_video.export import protocol as protocol_lib


class ExportedModel:
    """An exported artifact, callable on clips.

    Args:
        path: a SavedModel folder, a `.onnx` or a `.tflite` file written by
            `export_model`.

    Attributes:
        format: `"saved_model"`, `"onnx"` or `"litert"`.
        protocol: the clip protocol the artifact carries (a dict).

    Example:
    ```python
    served = load_exported("model.onnx")
    scores = served(clips)  # clips: (batch, frames, h, w, 3) as protocol says
    ```
    """

    def __init__(self, path):
        self.path = str(path)
        self.protocol = protocol_lib.read_protocol(path)
        self.format = protocol_lib.artifact_format(path)
        self.input_names = [i["name"] for i in self.protocol["inputs"]]
        self.input_dtype = self.protocol["inputs"][0]["dtype"]
        self._run = {
            "saved_model": self._saved_model,
            "onnx": self._onnx,
            "litert": self._litert,
        }[self.format]()

    def _saved_model(self):
        import tensorflow as tf

        self._loaded = tf.saved_model.load(self.path)  # keeps its variables alive
        signature = self._loaded.signatures["serving_default"]

        def run(inputs):
            outputs = signature(**{k: tf.constant(v) for k, v in inputs.items()})
            return [outputs[k].numpy() for k in sorted(outputs)]

        return run

    def _onnx(self):
        import onnxruntime

        session = onnxruntime.InferenceSession(
            self.path, providers=["CPUExecutionProvider"]
        )
        names = [i.name for i in session.get_inputs()]

        def run(inputs):
            return session.run(None, dict(zip(names, inputs.values(), strict=True)))

        return run

    def _litert(self):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=self.path)
        runner = interpreter.get_signature_runner()
        names = list(runner.get_input_details())

        def run(inputs):
            # The signature's inputs carry the model's input names; if a
            # converter renamed them, they keep the model's input order.
            if set(names) == set(inputs):
                by_name = inputs
            else:
                by_name = dict(zip(names, inputs.values(), strict=True))
            outputs = runner(**by_name)
            return [outputs[k] for k in sorted(outputs)]

        return run

    def __call__(self, *clips):
        """Scores of a batch of clips (one array per model input).

        Returns:
            the output as a NumPy array (a list for several outputs).

        Raises:
            ValueError: the wrong number of inputs, or a clip whose shape or
                dtype is not the protocol's (named).
        """
        if len(clips) != len(self.input_names):
            raise ValueError(
                f"{self.path} takes {len(self.input_names)} input(s) "
                f"{self.input_names}. Received: {len(clips)} arrays"
            )
        inputs = {}
        for spec, clip in zip(self.protocol["inputs"], clips, strict=True):
            clip = np.asarray(clip)
            if tuple(clip.shape[1:]) != tuple(spec["shape"][1:]):
                raise ValueError(
                    f"{self.path}: input {spec['name']!r} takes clips of shape "
                    f"{tuple(spec['shape'])}. Received: shape={clip.shape}"
                )
            if spec["dtype"] == "uint8" and clip.dtype != np.uint8:
                raise ValueError(
                    f"{self.path}: input {spec['name']!r} takes uint8 clips. "
                    f"Received: dtype={clip.dtype}"
                )
            inputs[spec["name"]] = clip.astype(spec["dtype"], copy=False)
        if self.protocol["inputs"][0]["shape"][0] == 1 and len(clips[0]) > 1:
            # A batch-1 artifact: one clip at a time.
            rows = [
                self._run({k: v[i : i + 1] for k, v in inputs.items()})
                for i in range(len(clips[0]))
            ]
            outputs = [np.concatenate(parts) for parts in zip(*rows, strict=True)]
        else:
            outputs = self._run(inputs)
        outputs = [np.asarray(o) for o in outputs]
        return outputs[0] if len(outputs) == 1 else outputs


def load_exported(path):
    """An `ExportedModel` of the artifact at `path` (see `ExportedModel`)."""
    return ExportedModel(path)
