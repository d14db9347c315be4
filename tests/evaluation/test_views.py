import numpy as np

from keras_video.evaluation.views import top_k_accuracy


def test_top_k_accuracy_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    labels = np.array([1, 1, 0])
    assert top_k_accuracy(scores, labels, 1) == 1 / 3  # only row 0
    assert top_k_accuracy(scores, labels, 2) == 2 / 3  # rows 0 and 1
    assert top_k_accuracy(scores, labels, 5) == 1.0  # k capped at 3 classes
    assert np.isnan(top_k_accuracy(np.zeros((0, 3)), np.zeros(0), 1))
