"""`keras_video.detection.timeline`: the picture of true and predicted segments."""

import numpy as np
import pytest

from keras_video import detection


def test_timeline_png(tmp_path):
    import cv2

    path = detection.plot_timeline(
        str(tmp_path / "t.png"),
        [{"name": "v", "duration": 10.0, "truth": [(1.0, 3.0, 0)],
          "detections": {"segments": np.array([[1.2, 3.1]]), "labels": [0],
                         "scores": [0.9]}}],
        ["left"],
    )  # fmt: skip
    image = cv2.imread(path)
    assert image is not None and image.shape[0] > 50 and image.std() > 0
    with pytest.raises(ValueError, match="at least one video"):
        detection.plot_timeline(str(tmp_path / "u.png"), [], ["left"])
