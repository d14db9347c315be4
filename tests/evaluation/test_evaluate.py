import json
from collections import defaultdict

import keras
import numpy as np
import pytest

from keras_video.data import write_motion_dataset
from keras_video.data.clip_settings import ClipSettings
from keras_video.data.datasets import video_test_dataset
from keras_video.evaluation import EvalProtocol, compare_records, evaluate

SETTINGS = ClipSettings(clip_length=4, frame_step=1, image_size=(16, 16))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    write_motion_dataset(root, 2, seed=0, image_size=(16, 24), num_frames=10,
                         classes=("left", "right", "up"))  # fmt: skip
    return root


def logit_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv3D(4, 3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling3D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def test_video_score_is_the_mean_of_its_view_logits(data):
    model = logit_model()
    protocol = EvalProtocol("3x3", num_clips=3, num_crops=3, short_side=20)
    result = evaluate(model, data, protocol, clip_settings=SETTINGS, batch_size=5)
    # By hand: every view alone through the model, summed per video.
    settings = protocol.clip_settings(SETTINGS)
    assert settings.short_side == 20 and settings.num_clips == 3
    views = video_test_dataset(result["paths"], None, batch_size=None, num_crops=3,
                               clip_settings=settings)  # fmt: skip
    per_video = defaultdict(list)
    for clip, video_id in views:
        logits = keras.ops.convert_to_numpy(model(clip.numpy()[None]))[0]
        per_video[int(video_id)].append(logits.astype(np.float64))
    assert [len(per_video[i]) for i in range(6)] == [9] * 6
    for i in range(6):
        mean = sum(per_video[i]) / len(per_video[i])
        np.testing.assert_allclose(result["video_scores"][i], mean, atol=1e-6)
    labels = np.repeat([0, 1, 2], 2)
    top1 = np.mean(np.argmax(result["video_scores"], -1) == labels)
    assert result["top1"] == pytest.approx(top1) and result["top5"] == 1.0
    assert result["record"]["views"] == 9 and result["num_evaluated"] == 6


def test_named_protocols_and_the_record_beside_the_result(data, tmp_path):
    model = logit_model()
    out = tmp_path / "res" / "eval.json"
    result = evaluate(model, data, "kinetics_10x3", clip_settings=SETTINGS,
                      output=out, batch_size=30)  # fmt: skip
    saved = json.loads(out.read_text())
    record = json.loads((tmp_path / "res" / "eval.record.json").read_text())
    assert saved["record"] == "eval.record.json" and saved["top1"] == result["top1"]
    assert (record["views"], record["num_clips"], record["num_crops"]) == (30, 10, 3)
    assert record["short_side"] == 256 and record["fps"] == "native"
    assert record["clip_settings"]["clip_length"] == 4
    assert record["decoder"]["pyav"] and record["decoder"]["ffmpeg"]["libavcodec"]
    assert record["versions"]["keras"] == keras.__version__
    assert record["data_manifest"]["source"] == "listing"
    assert len(record["data_manifest"]["sha256"]) == 64
    assert record["skipped"] == [] and record["missing"] == []
    single = evaluate(model, data, "single_center", clip_settings=SETTINGS)
    assert single["record"]["views"] == 1
    assert compare_records(record, result["record"]) == []
    differ = compare_records(record, single["record"])
    assert {"protocol", "views", "num_clips", "num_crops", "short_side"} <= set(differ)


def test_skipped_and_missing_videos_are_left_out_and_named(data, tmp_path):
    model = logit_model()
    paths = sorted(str(p) for p in data.rglob("*.mp4"))[:3]
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 2000)
    paths += [str(bad), str(tmp_path / "gone.mp4")]
    result = evaluate(model, (paths, [0, 0, 1, 1, 2]), "single_center",
                      clip_settings=SETTINGS)  # fmt: skip
    record = result["record"]
    assert record["skipped"] == ["bad.mp4"] and record["missing"] == ["gone.mp4"]
    assert "bad.mp4" in record["skipped_errors"]
    assert result["num_videos"] == 5 and result["num_evaluated"] == 3
    assert np.all(result["video_scores"][3:] == 0)


def test_bad_protocol_is_an_error(data):
    with pytest.raises(ValueError, match="protocol"):
        evaluate(logit_model(), data, "kinetics_30x9", clip_settings=SETTINGS)
    with pytest.raises(ValueError, match="num_crops"):
        EvalProtocol("x", 2, num_crops=2)


def test_a_probe_manifest_is_hashed_and_its_bad_files_skipped(data, tmp_path):
    import shutil

    from keras_video.data import probe

    root = tmp_path / "probed"
    shutil.copytree(data, root)
    (root / "up" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 99)
    probe.probe_dataset(root)
    result = evaluate(logit_model(), root, "single_center", clip_settings=SETTINGS)
    record = result["record"]
    assert record["data_manifest"]["source"] == "probe manifest"
    assert record["skipped"] == ["up/broken.mp4"]
    assert "broken.mp4" in record["skipped_errors"]["up/broken.mp4"]
    assert result["num_videos"] == 7 and result["num_evaluated"] == 6
