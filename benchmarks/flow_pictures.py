"""The picture of `docs/api/flow.md`: a Middlebury pair, its TV-L1 flow, the wheel.

`docs/images/flow_color_wheel.png`, left to right: RubberWhale `frame10.png`
(Middlebury, `../shared/data/flow/middlebury`), the TV-L1 flow from
`frame10` to `frame11` coloured with `keras_video.flow.to_color`, and the
colour key (the flow at each point of the key is the vector from its centre,
saturating at the rim). Everything at half the 584x388 resolution.

Run:

    python benchmarks/flow_pictures.py
"""

import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keras_video import flow  # noqa: E402

PAIR = ROOT.parent / "shared" / "data" / "flow" / "middlebury" / "RubberWhale"
OUTPUT = ROOT / "docs" / "images" / "flow_color_wheel.png"


def color_key(size):
    """The colour wheel as a `(size, size, 3)` image: white outside the disc."""
    radius = (size - 1) / 2
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    vectors = np.stack([cols - radius, rows - radius], axis=-1)
    key = flow.to_color(vectors, max_magnitude=radius)
    key[np.hypot(*np.moveaxis(vectors, -1, 0)) > radius] = 255
    return key


def main():
    frames = np.stack(
        [
            cv2.cvtColor(cv2.imread(str(PAIR / name)), cv2.COLOR_BGR2RGB)
            for name in ("frame10.png", "frame11.png")
        ]
    )
    colored = flow.to_color(flow.compute(frames, "tvl1")[0])
    height, width = frames.shape[1] // 2, frames.shape[2] // 2
    gap = np.full((height, 8, 3), 255, np.uint8)
    picture = np.concatenate(
        [
            cv2.resize(frames[0], (width, height), interpolation=cv2.INTER_AREA),
            gap,
            cv2.resize(colored, (width, height), interpolation=cv2.INTER_AREA),
            gap,
            color_key(height),
        ],
        axis=1,
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(
        str(OUTPUT),
        cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_PNG_COMPRESSION, 9],
    )
    print(
        f"{OUTPUT} {picture.shape[1]}x{picture.shape[0]}, {OUTPUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
