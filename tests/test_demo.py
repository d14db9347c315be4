"""`python -m keras_video.demo --quick`: the whole demo, end to end, tiny."""

from keras_video import demo


def test_quick_demo_prints_a_row_per_model_and_saves_the_chart(tmp_path, capsys):
    rows = demo.run(str(tmp_path), quick=True)
    assert [r["model"] for r in rows] == [m[0] for m in demo.MODELS]
    for r in rows:
        assert 0.0 <= r["val_acc"] <= 1.0
        assert r["params"] > 0 and r["mflops"] > 0 and r["clips_per_s"] > 0
    out = capsys.readouterr().out
    for label, *_ in demo.MODELS:
        assert label in out
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    assert (tmp_path / "comparison.txt").read_text().count("\n") == len(rows) + 3


def test_main_restarts_once_with_onednn_unless_told_otherwise(monkeypatch):
    import sys

    calls = []
    monkeypatch.setattr(demo.os, "execv", lambda *args: calls.append(args))
    monkeypatch.setattr(demo.keras.backend, "backend", lambda: "tensorflow")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    demo._onednn_restart(["--quick"])
    assert calls == []  # an explicit setting is left alone
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    demo._onednn_restart(["--quick"])
    assert calls == [
        (sys.executable, [sys.executable, "-m", "keras_video.demo", "--quick"])
    ]
    assert demo.os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    demo._onednn_restart(["--quick"])  # the restarted process runs on
    assert len(calls) == 1


def test_optical_flow_is_keras_video_flow_farneback():
    import numpy as np

    from keras_video import flow

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 40, 3)).astype(np.float32)
    clips = np.stack([np.roll(image, k, axis=1)[4:36, 4:36] for k in range(4)])[None]
    fields = demo.optical_flow(clips)
    assert fields.shape == (1, 4, 32, 32, 2) and fields.dtype == np.float32
    expected = flow.compute(
        clips[0].astype(np.uint8), "farneback", levels=2, winsize=9, poly_sigma=1.1
    )
    np.testing.assert_array_equal(fields[0, :3], expected)
    np.testing.assert_array_equal(fields[0, 3], fields[0, 2])  # last one repeated
    assert abs(np.median(fields[0, :3, 8:24, 8:24, 0]) - 1.0) < 0.25  # 1 px right
