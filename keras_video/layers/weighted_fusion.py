import keras


@keras.saving.register_keras_serializable(package="keras_video")
class WeightedFusion(keras.layers.Layer):
    """A learned weighted sum of same-shaped inputs (late fusion of streams).

    ```
    [x_1, ..., x_n] -> sum_i w_i x_i,   w = softmax(v) (normalize=True) or v
    ```

    The two-stream network fuses its RGB and optical-flow class scores with
    it. With `normalize=True` the weights are a softmax of `n` trainable
    logits that start at zero, so the layer starts as the plain average and
    the weights always sum to 1; with `False` they are free scalars that
    start at `1 / n`.

    Args:
        normalize: whether the weights go through a softmax.

    Input shape:
        a list of `n >= 2` tensors of one shape.

    Output shape:
        that shape.

    Example:
    >>> fusion = WeightedFusion()
    >>> keras.ops.convert_to_numpy(fusion([np.ones((1, 2)), 3 * np.ones((1, 2))]))
    array([[2., 2.]], dtype=float32)
    """

    def __init__(self, normalize=True, **kwargs):
        super().__init__(**kwargs)
        self.normalize = bool(normalize)

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) < 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                "WeightedFusion is called on a list of at least 2 tensors. "
                f"Received: input_shape={input_shape}"
            )
        shapes = [tuple(s) for s in input_shape]
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(
                a is not None and b is not None and a != b
                for a, b in zip(shape[1:], shapes[0][1:], strict=True)
            ):
                raise ValueError(
                    "WeightedFusion needs inputs of one shape. "
                    f"Received: input_shape={shapes}"
                )
        n = len(shapes)
        self.fusion_weights = self.add_weight(
            shape=(n,),
            initializer="zeros"
            if self.normalize
            else keras.initializers.Constant(1 / n),
            name="fusion_weights",
        )

    def call(self, inputs):
        weights = self.fusion_weights
        if self.normalize:
            weights = keras.ops.softmax(weights)
        weights = keras.ops.cast(weights, inputs[0].dtype)
        out = inputs[0] * weights[0]
        for i in range(1, len(inputs)):
            out = out + inputs[i] * weights[i]
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"normalize": self.normalize})
        return config
