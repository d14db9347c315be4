import keras

from keras_video.layers import _validation as check
from keras_video.layers._shapes import conv_output_shape


@keras.saving.register_keras_serializable(package="keras_video")
class ConvGRUCell(keras.layers.Layer):
    """One step of a convolutional GRU (Ballas et al. 2016).

    With `*` a 2D convolution and `⊙` the element-wise product:

    ```
    z  = recurrent_activation(W_z * x + U_z * h + b_z)        update gate
    r  = recurrent_activation(W_r * x + U_r * h + b_r)        reset gate
    h~ = activation(W_h * x + U_h * (r ⊙ h) + b_h)            candidate
    h' = z ⊙ h + (1 - z) ⊙ h~                                  (Keras GRU convention)
    ```

    The input convolutions use `strides` and `padding`; the recurrent ones are
    stride 1 with `"same"` padding. Kernels are stored gate-concatenated in the
    order `z, r, h` (as `keras.layers.GRUCell`).

    Args:
        filters: channels of the hidden state.
        kernel_size: int or `(kh, kw)`, for both input and recurrent convolutions.
        strides: int or `(sh, sw)`, input convolution only.
        padding: `"same"` or `"valid"`, input convolution only.
        dilation_rate: int or `(dh, dw)`, input convolution only.
        activation: candidate activation name.
        recurrent_activation: gate activation name.
        use_bias: whether the input convolutions have a bias.
        kernel_initializer: initializer name of the input kernels.
        recurrent_initializer: initializer name of the recurrent kernels.
        bias_initializer: initializer name of the bias.

    Input shape:
        `(batch, height, width, channels)` per step; state `(batch, h', w', filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="same",
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check.positive_int(filters, "filters")
        self.kernel_size = check.int_tuple(kernel_size, 2, "kernel_size")
        self.strides = check.int_tuple(strides, 2, "strides")
        self.padding = check.one_of(padding, ("same", "valid"), "padding")
        self.dilation_rate = check.int_tuple(dilation_rate, 2, "dilation_rate")
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = -1  # depends on the input's spatial size; see get_initial_state

    def build(self, inputs_shape, states_shape=None):
        check.check_rank(inputs_shape, 4, "ConvGRU (one step)")
        self.spatial_dims = tuple(inputs_shape[1:3])
        if None in self.spatial_dims or inputs_shape[-1] is None:
            raise ValueError(
                "ConvGRU needs static height, width and channels. "
                f"Received: input_shape={inputs_shape}"
            )
        self.input_dim = inputs_shape[-1]
        f = self.filters
        self.kernel = self.add_weight(
            shape=self.kernel_size + (self.input_dim, 3 * f),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (f, 3 * f),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(3 * f,), initializer=self.bias_initializer, name="bias"
            )

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        f = self.filters
        x = keras.ops.conv(
            inputs,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
        )
        if self.bias is not None:
            x = x + self.bias
        x_z, x_r, x_h = x[..., :f], x[..., f : 2 * f], x[..., 2 * f :]
        gates = keras.ops.conv(h_tm1, self.recurrent_kernel[..., : 2 * f], padding="same")
        z = self.recurrent_activation(x_z + gates[..., :f])
        r = self.recurrent_activation(x_r + gates[..., f:])
        candidate = keras.ops.conv(r * h_tm1, self.recurrent_kernel[..., 2 * f :], padding="same")
        hh = self.activation(x_h + candidate)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        shape = conv_output_shape(
            inputs_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.dilation_rate,
        )
        return shape, [shape]

    def get_initial_state(self, batch_size=None):
        shape = self.compute_output_shape((batch_size,) + self.spatial_dims + (self.input_dim,))[0]
        return [keras.ops.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


_CELL_ARGS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
)


@keras.saving.register_keras_serializable(package="keras_video")
class ConvGRU(keras.layers.RNN):
    """Convolutional GRU over a clip, with the arguments of `keras.layers.ConvLSTM2D`.

    Stack `ConvGRU(..., return_sequences=True)` layers to build the layered
    grid of a recurrent CNN: every point depends on the layer below at the same
    time step and on its own previous time step.

    Args:
        filters: channels of the hidden state.
        kernel_size: int or `(kh, kw)`.
        strides: int or `(sh, sw)`, of the input convolution.
        padding: `"same"` or `"valid"`, of the input convolution.
        dilation_rate: int or `(dh, dw)`, of the input convolution.
        activation: candidate activation name.
        recurrent_activation: gate activation name.
        use_bias: whether the input convolutions have a bias.
        kernel_initializer: initializer name of the input kernels.
        recurrent_initializer: initializer name of the recurrent kernels.
        bias_initializer: initializer name of the bias.
        return_sequences: return every step's state, not only the last.
        return_state: also return the last state.
        go_backwards: run over time in reverse.
        stateful: keep the last state of each batch as the next batch's initial state.
        unroll: unroll the time loop (faster for short clips, more memory).

    Input shape:
        `(batch, frames, height, width, channels)`; `initial_state` (optional):
        `[(batch, h', w', filters)]`.

    Output shape:
        `(batch, frames, h', w', filters)` with `return_sequences`, else
        `(batch, h', w', filters)`; with `return_state` also the last state.

    Example:
    >>> gru = ConvGRU(8, 3, return_sequences=True)
    >>> gru(np.zeros((2, 5, 16, 16, 3))).shape
    (2, 5, 16, 16, 8)

    Reference:
        Ballas et al., "Delving Deeper into Convolutional Networks for Learning
        Video Representations", ICLR 2016.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="same",
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        cell = ConvGRUCell(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            name="conv_gru_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=5)

    def build(self, sequences_shape, initial_state_shape=None):
        check.check_rank(sequences_shape, 5, "ConvGRU")
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = self.cell.compute_output_shape((batch,) + tuple(sequences_shape[2:]))[0]
        output = (batch, steps) + state[1:] if self.return_sequences else state
        if self.return_state:
            return output, state
        return output

    def compute_mask(self, _, mask):
        mask = keras.tree.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        return [output_mask, None] if self.return_state else output_mask

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({k: cell_config[k] for k in _CELL_ARGS})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
