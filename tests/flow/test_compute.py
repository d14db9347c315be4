"""`keras_video.flow.compute`: TV-L1, DIS and Farneback against exact references.

Known motion (`known_motion`, 128x128, interior: 16 px margin), EPE measured
with OpenCV 5.0 (contrib): translation by (1.5, -0.75) px / rotation by 2
degrees about the centre: TV-L1 0.010 / 0.019, DIS (medium) 0.034 / 0.050,
Farneback 0.045 / 0.075; zero flow 1.677 / 1.282. The issue asks for under
0.5 px for TV-L1 and DIS; the bounds below are 2.5-5x the measured values.

mmflow pair 00001 (50x50, ground truth .flo): zero flow 1.783, TV-L1 0.544,
DIS 0.898, Farneback 1.259.
"""

import ast

import cv2
import numpy as np
import pytest

from keras_video import flow
from keras_video.flow import known_motion
from tests.conftest import ROOT

IMAGE = known_motion.textured_image(128)
INTERIOR = known_motion.interior_mask(IMAGE.shape, 16)

# method -> (translation bound, rotation bound) in pixels of EPE.
KNOWN_MOTION_BOUNDS = {
    "tvl1": (0.05, 0.05),
    "dis": (0.15, 0.15),
    "farneback": (0.2, 0.25),
}
# method -> bound on EPE / zero-flow EPE on mmflow 00001 (measured 0.30,
# 0.50, 0.71); the requirement is 0.85 for each.
GROUND_TRUTH_RATIO = {"tvl1": 0.4, "dis": 0.6, "farneback": 0.8}


@pytest.mark.parametrize("method", sorted(KNOWN_MOTION_BOUNDS))
def test_known_translation_and_rotation(method):
    translation_bound, rotation_bound = KNOWN_MOTION_BOUNDS[method]
    frames, truth = known_motion.translation(IMAGE, (1.5, -0.75))
    estimate = flow.compute(frames, method)
    assert estimate.shape == (1, 128, 128, 2) and estimate.dtype == np.float32
    assert flow.epe(estimate[0], truth, INTERIOR) < translation_bound
    assert flow.epe(np.zeros_like(truth), truth, INTERIOR) == pytest.approx(
        np.hypot(1.5, 0.75)
    )

    frames, truth = known_motion.rotation(IMAGE, 2.0)
    estimate = flow.compute(frames, method)
    assert flow.epe(estimate[0], truth, INTERIOR) < rotation_bound
    assert flow.epe(np.zeros_like(truth), truth, INTERIOR) > 1.2


@pytest.mark.parametrize("method", sorted(GROUND_TRUTH_RATIO))
def test_beats_zero_flow_on_mmflow_ground_truth(method, shared_data):
    folder = shared_data / "flow" / "mmflow"
    frames = np.stack(
        [
            cv2.cvtColor(cv2.imread(str(folder / name)), cv2.COLOR_BGR2RGB)
            for name in ("00001_img1.ppm", "00001_img2.ppm")
        ]
    )
    truth = flow.read_flo(folder / "00001_flow.flo")
    zero = flow.epe(np.zeros_like(truth), truth)
    assert zero == pytest.approx(1.7833, abs=1e-4)  # the data README's 1.78
    error = flow.epe(flow.compute(frames, method)[0], truth)
    assert error < GROUND_TRUTH_RATIO[method] * zero


def test_a_clip_is_its_pairs():
    frames = np.stack(
        [
            IMAGE,
            known_motion.translation(IMAGE)[0][1],
            known_motion.rotation(IMAGE)[0][1],
        ]
    )
    for method in ("dis", "farneback"):
        clip = flow.compute(frames, method)
        assert clip.shape == (2, 128, 128, 2)
        pairs = [flow.compute(frames[t : t + 2], method)[0] for t in range(2)]
        np.testing.assert_array_equal(clip, np.stack(pairs))


def test_direction_convention():
    # A 2 px shift to the right of a periodic image: x = +2, y = 0 inside.
    frames = np.stack([IMAGE, np.roll(IMAGE, 2, axis=1)])
    estimate = flow.compute(frames, "dis")[0][INTERIOR]
    np.testing.assert_allclose(np.median(estimate, axis=0), [2.0, 0.0], atol=0.05)


def test_options_reach_opencv():
    frames, truth = known_motion.translation(IMAGE, (1.5, -0.75))
    medium = flow.compute(frames, "dis")
    ultrafast = flow.compute(frames, "dis", preset="ultrafast")
    assert not np.array_equal(medium, ultrafast)
    np.testing.assert_array_equal(
        medium, flow.compute(frames, "dis", preset="medium", patchSize=8)
    )
    assert not np.array_equal(medium, flow.compute(frames, "dis", patchSize=12))
    farneback = flow.compute(frames, "farneback")
    np.testing.assert_array_equal(
        farneback, flow.compute(frames, "farneback", levels=3, winsize=15)
    )
    crude = flow.compute(frames, "farneback", levels=1, iterations=1, winsize=5)
    assert not np.array_equal(farneback, crude)
    small = frames[:, :48, :48]
    assert not np.array_equal(
        flow.compute(small, "tvl1"), flow.compute(small, "tvl1", warps=1, nscales=1)
    )


@pytest.mark.parametrize(
    "frames, match",
    [
        (np.zeros((2, 8, 8, 3), np.float32), "Received: frames.dtype=float32"),
        ([[[[0, 0, 0]]]], "Received: frames.dtype=list"),
        (np.zeros((2, 8, 8), np.uint8), r"Received: frames.shape=\(2, 8, 8\)"),
        (np.zeros((2, 8, 8, 1), np.uint8), r"frames.shape=\(2, 8, 8, 1\)"),
        (np.zeros((1, 8, 8, 3), np.uint8), r"T >= 2.*frames.shape=\(1, 8, 8, 3\)"),
    ],
)
def test_bad_frames(frames, match):
    with pytest.raises(ValueError, match=match):
        flow.compute(frames)


def test_bad_method_and_options():
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="Received: method='raft'"):
        flow.compute(frames, method="raft")
    with pytest.raises(ValueError, match="method='tvl1'.*Received: alpha=1"):
        flow.compute(frames, alpha=1)
    with pytest.raises(ValueError, match="Received: winsize=15"):
        flow.compute(frames, "dis", winsize=15)
    with pytest.raises(ValueError, match="Received: preset='slow'"):
        flow.compute(frames, "dis", preset="slow")
    with pytest.raises(ValueError, match="Received: tau='big'"):
        flow.compute(frames, "tvl1", tau="big")


def test_flow_imports_only_opencv_numpy_and_the_standard_library():
    # `import keras_video` works without TensorFlow
    # (tests/test_import_without_tensorflow.py); this keeps keras_video.flow so.
    # `extract` also reads videos (the reader and listing need no TensorFlow)
    # and shows a Keras progress bar.
    import sys

    allowed = {"cv2", "numpy", "keras", *sys.stdlib_module_names}
    package = (
        "keras_video.flow",
        "keras_video.files",
        "keras_video.data.video",
        "keras_video.data.listing",
        "keras_video.data.beam",  # extract's --runner; TensorFlow only in prepare
    )
    for path in sorted((ROOT / "keras_video" / "flow").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("keras_video"):
                    assert name.startswith(package), (path.name, name)
                else:
                    assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
