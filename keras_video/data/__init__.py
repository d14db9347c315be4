"""Video decoding, clip sampling, transforms and tf.data datasets.

Importing this package imports TensorFlow (for tf.data).
"""

from keras_video.data import samplers
from keras_video.data import synthetic
from keras_video.data import transforms
from keras_video.data.datasets import SkippedFiles
from keras_video.data.datasets import aggregate_video_predictions
from keras_video.data.datasets import read_video_csv
from keras_video.data.datasets import shard_for_input_context
from keras_video.data.datasets import shard_for_process
from keras_video.data.datasets import video_dataset_from_csv
from keras_video.data.datasets import video_dataset_from_directory
from keras_video.data.datasets import video_test_dataset
from keras_video.data.datasets import video_test_dataset_from_directory
from keras_video.data.errors import CorruptVideoError
from keras_video.data.errors import VideoDecodeError
from keras_video.data.samplers import Clip
from keras_video.data.samplers import all_clips
from keras_video.data.samplers import random_clip
from keras_video.data.samplers import uniform_clips
from keras_video.data.synthetic import write_motion_dataset
from keras_video.data.tfrecords import video_dataset_from_tfrecords
from keras_video.data.tfrecords import write_tfrecords
from keras_video.data.video_reader import VideoReader
from keras_video.data.video_writer import write_video
