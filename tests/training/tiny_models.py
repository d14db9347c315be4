"""A tiny model with the application constructor contract, for runner tests."""

import keras

from keras_video import layers
from keras_video.applications import common


def tiny(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=4,
    classifier_activation="softmax",
    name="tiny",
    base_filters=4,
    dropout_rate=0.0,
):
    inputs, x = common.clip_input(input_shape, input_tensor, (4, 16, 16, 3), name=name)
    x = layers.Conv3DBlock(base_filters, kernel_size=3, strides=(1, 2, 2))(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    if include_top:
        x = common.classifier(x, classes, classifier_activation, dropout_rate)
    return keras.Model(inputs, x, name=name)
