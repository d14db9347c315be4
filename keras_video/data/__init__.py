"""Video decoding, clip sampling, transforms and tf.data datasets.

Importing this package imports TensorFlow (for tf.data).
"""
