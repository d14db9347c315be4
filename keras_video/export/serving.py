"""The model an artifact serves: clips in as uint8 or float32, float32 scores out.

`serving_model` wraps a clip model so the exported artifact has one documented
input contract whatever the model: each input is a `(batch, frames, height,
width, channels)` clip of pixel values in `[0, 255]`, as `uint8` or `float32`
(`input_dtype`), cast to float inside the artifact. The wrapped model does its
own rescaling (a `keras-video train` model starts with a `Rescaling` layer;
the zoo constructors take what their `preprocess_input` documents). Outputs are
float32. With `float16=True` the wrapped model is a copy computing in float16
(weights stored in float16); inputs and outputs stay as above.
"""

import keras

INPUT_DTYPES = ("float32", "uint8")


def check_input_dtype(input_dtype):
    """`input_dtype` is `"float32"` or `"uint8"`."""
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(
            f"`input_dtype` must be one of {INPUT_DTYPES}. "
            f"Received: input_dtype={input_dtype!r}"
        )
    return input_dtype


def _zero_initializers(config):
    """`config` with every `*_initializer` entry (nested ones too) `"zeros"`."""
    if isinstance(config, dict):
        return {
            key: "zeros"
            if key.endswith("_initializer") and value is not None
            else _zero_initializers(value)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_zero_initializers(value) for value in config]
    return config


def float16_model(model):
    """A copy of `model` whose layers compute and store weights in float16.

    The copy's weights are the model's (cast), so its layers are built with
    zeros initializers: an initializer need not work in float16 (JAX's
    `Orthogonal`, the recurrent initializer of GRU and LSTM, needs a QR
    decomposition that LAPACK has no float16 for).
    """

    def clone(layer):
        config = _zero_initializers(layer.get_config())
        config["dtype"] = "float16"
        copy = type(layer).from_config(config)
        return copy

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def input_names(model):
    """Names of the model's inputs (`"clip"`, `"flow"`, ...), in order."""
    names = []
    for i, tensor in enumerate(model.inputs):
        name = getattr(tensor, "name", None) or f"input_{i}"
        names.append(name.split(":")[0])
    return names


def check_static_shape(model):
    """Raises unless every input's frames, height, width and channels are static."""
    for name, tensor in zip(input_names(model), model.inputs, strict=True):
        if None in tuple(tensor.shape[1:]):
            raise ValueError(
                f"Exporting needs a static clip shape: input {name!r} of model "
                f"{model.name!r} is {tuple(tensor.shape)}. Build the model with a "
                "full `input_shape` (frames, height, width, channels). Received: "
                f"input_shape={tuple(tensor.shape)}"
            )


def serving_model(model, input_dtype="float32", float16=False):
    """`model` behind inputs of `input_dtype` and float32 outputs.

    Args:
        model: a functional `keras.Model` with static clip shapes (batch may
            be `None`).
        input_dtype: `"float32"` or `"uint8"`: what the artifact's inputs take
            (pixel values in `[0, 255]` either way).
        float16: compute in float16 (a float16 copy of the model).

    Returns:
        a `keras.Model` with the same input names.

    Raises:
        ValueError: a bad `input_dtype`, or a model input whose frames, height,
            width or channels are not static (the artifact needs them).
    """
    check_input_dtype(input_dtype)
    check_static_shape(model)
    names = input_names(model)
    inner = float16_model(model) if float16 else model
    compute = "float16" if float16 else "float32"
    inputs, cast = [], []
    for name, tensor in zip(names, model.inputs, strict=True):
        inp = keras.Input(tensor.shape[1:], dtype=input_dtype, name=name)
        inputs.append(inp)
        # Rescaling(1, 0) is an exact cast to its compute dtype.
        cast.append(
            keras.layers.Rescaling(1.0, dtype=compute, name=f"{name}_cast")(inp)
        )
    outputs = inner(cast if len(cast) > 1 else cast[0])
    outputs = keras.tree.map_structure(
        lambda t: keras.layers.Activation("linear", dtype="float32")(t), outputs
    )
    return keras.Model(
        inputs if len(inputs) > 1 else inputs[0], outputs, name=model.name
    )
