import keras
import numpy as np
import pytest

from keras_video.layers import UniformTemporalSubsample
from keras_video.layers.uniform_temporal_subsample import uniform_temporal_indices
from tests.helpers import check_layer


def test_pack_pathway_indices_by_hand():
    # 31 / 7 = 4.43: 0, 4.43, 8.86, 13.3, 17.7, 22.1, 26.6, 31 truncated.
    assert uniform_temporal_indices(32, 8) == [0, 4, 8, 13, 17, 22, 26, 31]
    assert uniform_temporal_indices(8, 2) == [0, 7]
    assert uniform_temporal_indices(5, 1) == [0]
    assert uniform_temporal_indices(4, 4) == [0, 1, 2, 3]


def test_indices_equal_torch_linspace():
    torch = pytest.importorskip("torch")
    # Every clip length below 80 and every count; plus PackPathway's counts
    # (T // alpha) up to 512 frames.
    cases = [(t, n) for t in range(1, 80) for n in range(1, t + 1)]
    cases += [(t, t // a) for t in range(80, 513) for a in range(2, 9)]
    for frames, num_samples in cases:
        expected = torch.linspace(0, frames - 1, num_samples).long().tolist()
        assert uniform_temporal_indices(frames, num_samples) == expected, (
            frames,
            num_samples,
        )


def test_a_float64_linspace_would_differ():
    # (33, 15): float64 linspace gives 16 at i=7 (exactly 16.0); float32 with
    # PyTorch's halves gives 15.999999 -> 15. The test above would catch it.
    naive = np.linspace(0, 32, 15).astype(int).tolist()
    assert naive != uniform_temporal_indices(33, 15)


def test_layer_takes_the_frames(tmp_path):
    clip = np.random.default_rng(0).standard_normal((2, 32, 3, 3, 2))
    clip = clip.astype("float32")
    out = check_layer(
        UniformTemporalSubsample(8),
        clip,
        tmp_path,
        expected_output_shape=(2, 8, 3, 3, 2),
    )
    np.testing.assert_array_equal(out, clip[:, [0, 4, 8, 13, 17, 22, 26, 31]])


def test_errors():
    with pytest.raises(ValueError, match="num_samples"):
        UniformTemporalSubsample(0)
    with pytest.raises(ValueError, match="at least 8 frames"):
        UniformTemporalSubsample(8)(keras.Input((4, 3, 3, 1)))
    with pytest.raises(ValueError, match="known clip length"):
        UniformTemporalSubsample(2)(keras.Input((None, 3, 3, 1)))
    with pytest.raises(ValueError, match="rank"):
        UniformTemporalSubsample(2).build((2,))
