"""Export parity of every zoo constructor: model x format x backend x precision.

Each model is `keras_video.export.parity.parity_model(name)` (the tiny registry
configuration behind a `[0, 255] -> [-1, 1]` rescaling, logits out); each
artifact is written by `export_model` (uint8 inputs) and run by its own
runtime (TensorFlow, onnxruntime, the LiteRT interpreter) on 2 random clips,
and the largest absolute difference from the Keras model is recorded.

Backends and formats measured: TensorFlow (SavedModel, ONNX via tf2onnx,
LiteRT), JAX (SavedModel via jax2tf, LiteRT via jax2tf + the TF LiteRT
converter), PyTorch (ONNX via torch.onnx). One process per backend; results
are appended to a JSON-lines file as they come, so a long run can be read
while it goes.

    nice python benchmarks/export_parity.py --out /tmp/parity.jsonl   # all
    python benchmarks/export_parity.py --table /tmp/parity.jsonl       # markdown
    python benchmarks/export_parity.py --write-docs /tmp/parity.jsonl  # the docs

A float16 cell over the bar also gives the Keras model's own float16 error
(the float16 copy the SavedModel is made of, run by Keras): when the two are
alike, float16 arithmetic, not the export, is the cause.

A later row for the same model, format, backend and precision replaces an
earlier one in the table (re-measure one column with `--backend`,
`--formats` and `--precision`).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

PLAN = {
    "tensorflow": ("saved_model", "onnx", "litert"),
    "jax": ("saved_model", "litert"),
    "torch": ("onnx",),
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "api", "export.md")
START, END = "<!-- parity tables: start -->", "<!-- parity tables: end -->"


def run_backend(out, models, formats, precisions):
    """Measures in this process (KERAS_BACKEND already set) and appends rows."""
    sys.path.insert(0, ROOT)
    import keras

    from keras_video.applications import registry
    from keras_video.export import check_parity
    from keras_video.export.builtin_ops import builtin_model
    from keras_video.export.parity import parity_model, random_clips
    from keras_video.export.serving import serving_model

    backend = keras.backend.backend()
    for name in models or registry.list_models():
        keras.utils.set_random_seed(0)
        model = parity_model(name)
        # The float16 floor: the Keras model itself computing in float16.
        clips = [c.astype("float32") for c in random_clips(model, dtype="uint8")]
        args = clips if len(clips) > 1 else clips[0]
        try:
            # 3D pools as 2D (TF has no float16 3D pooling kernel on CPU).
            half = builtin_model(serving_model(model, float16=True))
            floor = float(np.max(np.abs(
                keras.ops.convert_to_numpy(half(args))
                - keras.ops.convert_to_numpy(model(args))
            )))  # fmt: skip
        except Exception:  # noqa: BLE001 - no float16 kernel on this backend
            floor = None
        for format in formats:
            for float16 in precisions:
                start = time.time()
                row = {"model": name, "format": format, "backend": backend,
                       "float16": float16}  # fmt: skip
                if float16:
                    row["keras_float16_diff"] = floor
                try:
                    result = check_parity(model, format, float16=float16,
                                          input_dtype="uint8")  # fmt: skip
                    for key in ("max_abs_diff", "ok", "tolerance"):
                        row[key] = result[key]
                except Exception as error:  # noqa: BLE001 - recorded, not raised
                    row.update(error=f"{type(error).__name__}: {error}"[:300])
                row["seconds"] = round(time.time() - start, 1)
                with open(out, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)


def _cell(r):
    if r is None:
        return ""
    if "error" in r:
        return f"fails: {r['error'][:160]}"
    mark = ""
    if not r["ok"]:
        floor = r.get("keras_float16_diff")
        mark = " (over)" if floor is None else f" (over; Keras float16 {floor:.1e})"
    return f"{r['max_abs_diff']:.1e}{mark}"


def table(rows, backends):
    """A markdown table of `rows` on `backends`: a model per line, a column per
    backend, format and precision, and a last line with each column's worst."""
    rows = [r for r in rows if r["backend"] in backends]
    columns = sorted({(r["backend"], r["format"], r["float16"]) for r in rows},
                     key=lambda c: (list(PLAN).index(c[0]), c[1], c[2]))  # fmt: skip
    cells = {(r["model"], r["backend"], r["format"], r["float16"]): r for r in rows}
    models = sorted({r["model"] for r in rows})
    short = {"tensorflow": "TF", "jax": "JAX", "torch": "torch"}
    head = ["model"] + [
        f"{f} {short[b]} {'float16' if h else 'float32'}" for b, f, h in columns
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in models:
        out = [name] + [_cell(cells.get((name, *c))) for c in columns]
        lines.append("| " + " | ".join(out) + " |")
    worst = ["**worst**"]
    for c in columns:
        measured = [r for r in rows if (r["backend"], r["format"], r["float16"]) == c
                    and "error" not in r]  # fmt: skip
        top = max(measured, key=lambda r: r["max_abs_diff"], default=None)
        worst.append(
            "" if top is None else f"{top['max_abs_diff']:.1e} ({top['model']})"
        )
    lines.append("| " + " | ".join(worst) + " |")
    return "\n".join(lines)


def tables(path):
    """The docs' tables of the JSON-lines file at `path` (a later row for the
    same cell replaces an earlier one): TensorFlow, then JAX and PyTorch."""
    rows = {}
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            rows[r["model"], r["backend"], r["format"], r["float16"]] = r
    rows = list(rows.values())
    return (
        "TensorFlow backend:\n\n" + table(rows, ("tensorflow",))
        + "\n\nJAX backend (SavedModel via jax2tf, LiteRT from it) and PyTorch "
        "backend (ONNX via torch.onnx):\n\n" + table(rows, ("jax", "torch"))
    )  # fmt: skip


def write_docs(path, docs=DOCS):
    """Replaces the tables between the markers in `docs` with `tables(path)`."""
    text = open(docs).read()
    start, end = text.index(START) + len(START), text.index(END)
    with open(docs, "w") as f:
        f.write(text[:start] + "\n" + tables(path) + "\n" + text[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="export_parity.jsonl")
    parser.add_argument("--backend", choices=tuple(PLAN), help="this one only")
    parser.add_argument("--models", help="comma-separated registry names")
    parser.add_argument("--formats", help="comma-separated formats (with --backend)")
    parser.add_argument(
        "--precision", choices=("both", "float32", "float16"), default="both"
    )
    parser.add_argument("--table", metavar="JSONL", help="print the tables and exit")
    parser.add_argument(
        "--write-docs", metavar="JSONL", help="put the tables in docs/api/export.md"
    )
    args = parser.parse_args()
    if args.table:
        print(tables(args.table))
        return
    if args.write_docs:
        write_docs(args.write_docs)
        return
    models = args.models.split(",") if args.models else None
    precisions = {"both": (False, True), "float32": (False,), "float16": (True,)}
    if args.backend:
        formats = args.formats.split(",") if args.formats else PLAN[args.backend]
        run_backend(args.out, models, formats, precisions[args.precision])
        return
    for backend in PLAN:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        command = [sys.executable, __file__, "--out", args.out, "--backend", backend]
        if args.models:
            command += ["--models", args.models]
        subprocess.run(command, env=env, check=False)


if __name__ == "__main__":
    main()
