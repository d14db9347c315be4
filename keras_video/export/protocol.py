"""The clip protocol an exported artifact carries in its metadata.

The protocol says what the artifact takes: its inputs (name, shape, dtype),
the pixel range, and how clips were made for the model (`ClipSettings`:
frames, frame step or target fps, image size, short side), plus the class
names when known and the versions that wrote it. It is JSON, stored

- SavedModel: `assets/keras_video_protocol.json` inside the SavedModel folder;
- ONNX: the model's `metadata_props`, key `keras_video_protocol`
  (`onnxruntime.InferenceSession(...).get_modelmeta().custom_metadata_map`);
- LiteRT: a sidecar file `<artifact>.tflite.json` beside the `.tflite` file
  (the flatbuffer's metadata needs tooling that is not kept up; a sidecar
  is readable everywhere).

```python
from keras_video.export import read_protocol
read_protocol("model.onnx")["clip_settings"]["clip_length"]  # 16
```
"""

import json
import os

import keras

from keras_video.version import __version__

KEY = "keras_video_protocol"
SAVED_MODEL_FILE = os.path.join("assets", KEY + ".json")
VALUE_RANGE = (0, 255)


def sidecar_path(path):
    """The LiteRT sidecar JSON of `path` (`model.tflite` -> `model.tflite.json`)."""
    return os.fspath(path) + ".json"


def make_protocol(
    model, format, input_dtype, float16, clip_settings=None, class_names=None,
    batch_size=None,
):  # fmt: skip
    """The protocol dict of an artifact of `model` (the serving model).

    Args:
        model: the `keras.Model` exported (its inputs give names and shapes).
        format: `"saved_model"`, `"onnx"` or `"litert"`.
        input_dtype: `"float32"` or `"uint8"`.
        float16: whether the artifact computes in float16.
        clip_settings: the `ClipSettings` of the model's clips, or `None`
            (then frames and size come from the input shape, the step is
            unknown: `None`).
        class_names: class names, or `None`.
        batch_size: the artifact's fixed batch size, or `None` (any).
    """
    from keras_video.export.serving import input_names

    inputs = [
        {"name": name, "shape": [batch_size, *tensor.shape[1:]], "dtype": input_dtype}
        for name, tensor in zip(input_names(model), model.inputs, strict=True)
    ]
    frames, height, width = inputs[0]["shape"][1:4]
    if clip_settings is not None:
        settings = clip_settings.to_dict()
    else:
        settings = {"clip_length": frames, "frame_step": None, "target_fps": None,
                    "image_size": [height, width], "short_side": None}  # fmt: skip
    if (settings["clip_length"], *settings["image_size"]) != (frames, height, width):
        raise ValueError(
            "`clip_settings` do not match the model's input: clips of "
            f"{settings['clip_length']}x{settings['image_size']} for an input of "
            f"{(frames, height, width)}. Received: clip_settings={clip_settings}"
        )
    return {
        "format": format,
        "inputs": inputs,
        "value_range": list(VALUE_RANGE),
        "float16": bool(float16),
        "clip_settings": settings,
        "frames": settings["clip_length"],
        "size": list(settings["image_size"]),
        "step": settings["frame_step"],
        "class_names": None if class_names is None else list(class_names),
        "keras_video_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }


def write_protocol(path, format, protocol):
    """Stores `protocol` in the artifact at `path` (see the module docstring)."""
    text = json.dumps(protocol, indent=2, sort_keys=True)
    if format == "saved_model":
        target = os.path.join(path, SAVED_MODEL_FILE)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(text)
    elif format == "onnx":
        import onnx

        model = onnx.load(path)
        for prop in list(model.metadata_props):
            if prop.key == KEY:
                model.metadata_props.remove(prop)
        model.metadata_props.add(key=KEY, value=text)
        onnx.save(model, path)
    elif format == "litert":
        with open(sidecar_path(path), "w") as f:
            f.write(text)
    else:
        raise ValueError(f"Unknown format. Received: format={format!r}")


def artifact_format(path):
    """`"saved_model"` (a folder), `"onnx"` (`.onnx`) or `"litert"` (`.tflite`)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return "saved_model"
    if path.endswith(".onnx"):
        return "onnx"
    if path.endswith(".tflite"):
        return "litert"
    raise ValueError(
        "An exported artifact is a SavedModel folder, a .onnx or a .tflite file. "
        f"Received: path={path!r}"
    )


def read_protocol(path):
    """The protocol dict stored in the artifact at `path`.

    Raises:
        FileNotFoundError: no artifact, or it carries no protocol (named).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No exported artifact at {path}")
    format = artifact_format(path)
    if format == "onnx":
        import onnx

        model = onnx.load(path, load_external_data=False)
        for prop in model.metadata_props:
            if prop.key == KEY:
                return json.loads(prop.value)
        raise FileNotFoundError(f"{path} has no {KEY!r} in its metadata_props")
    target = (
        os.path.join(path, SAVED_MODEL_FILE)
        if format == "saved_model"
        else sidecar_path(path)
    )
    if not os.path.isfile(target):
        raise FileNotFoundError(f"{path} carries no clip protocol: no {target}")
    with open(target) as f:
        return json.load(f)
