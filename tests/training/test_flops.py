import keras

from keras_video import layers
from keras_video.training.flops import count_flops


def test_hand_count_conv_dense():
    i = keras.Input((4, 8, 8, 3))
    x = keras.layers.Conv3D(5, 3, padding="same")(i)
    x = keras.layers.Conv3D(2, (1, 3, 3), strides=(1, 2, 2), padding="same")(x)
    x = keras.layers.Flatten()(x)
    o = keras.layers.Dense(7)(x)
    model = keras.Model(i, o)
    expected = (
        2 * (3 * 3 * 3 * 3 * 5) * (4 * 8 * 8)
        + 2 * (3 * 3 * 5 * 2) * (4 * 4 * 4)
        + 2 * (4 * 4 * 4 * 2 * 7)
    )
    assert count_flops(model) == expected


def test_nested_time_distributed_and_recurrent():
    i = keras.Input((4, 8, 8, 3))
    x = layers.Conv3DBlock(6, kernel_size=(1, 3, 3), strides=(1, 2, 2))(i)
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(7, 1))(x)
    y = layers.ConvGRU(3, 3)(x)
    z = keras.layers.LSTM(5)(keras.layers.Reshape((4, 4 * 4 * 7))(x))
    x = keras.layers.Concatenate()([keras.layers.Flatten()(y), z])
    o = keras.layers.Dense(2)(x)
    model = keras.Model(i, o)
    expected = (
        2 * (9 * 3 * 6) * (4 * 4 * 4)  # Conv3DBlock's conv, strided
        + 2 * (6 * 7) * (4 * 4 * 4)  # 1x1 conv on every frame
        + 4 * 2 * (9 * 7 * 9 + 9 * 3 * 9) * (4 * 4)  # ConvGRU, 4 steps
        + 4 * 2 * (112 * 20 + 5 * 20)  # LSTM, 4 steps
        + 2 * (48 + 5) * 2
    )
    assert count_flops(model) == expected
    # The model's layers are left unpatched.
    assert "call" not in vars(model.layers[1])
