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

PLAN = {
    "tensorflow": ("saved_model", "onnx", "litert"),
    "jax": ("saved_model", "litert"),
    "torch": ("onnx",),
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_backend(out, models, formats, precisions):
    """Measures in this process (KERAS_BACKEND already set) and appends rows."""
    sys.path.insert(0, ROOT)
    import keras

    from keras_video.applications import registry
    from keras_video.export import check_parity
    from keras_video.export.parity import parity_model

    backend = keras.backend.backend()
    for name in models or registry.list_models():
        model = parity_model(name)
        for format in formats:
            for float16 in precisions:
                start = time.time()
                row = {"model": name, "format": format, "backend": backend,
                       "float16": float16}  # fmt: skip
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


def table(path):
    """A markdown table of the JSON-lines file at `path`."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
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
        out = [name]
        for b, f, h in columns:
            r = cells.get((name, b, f, h))
            if r is None:
                out.append("")
            elif "error" in r:
                out.append("fails")
            else:
                mark = "" if r["ok"] else " (over)"
                out.append(f"{r['max_abs_diff']:.1e}{mark}")
        lines.append("| " + " | ".join(out) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="export_parity.jsonl")
    parser.add_argument("--backend", choices=tuple(PLAN), help="this one only")
    parser.add_argument("--models", help="comma-separated registry names")
    parser.add_argument("--formats", help="comma-separated formats (with --backend)")
    parser.add_argument(
        "--precision", choices=("both", "float32", "float16"), default="both"
    )
    parser.add_argument("--table", metavar="JSONL", help="print the table and exit")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
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
