"""Video-level evaluation under named protocols, with a record of the protocol.

`evaluate(model, data, protocol="kinetics_10x3" | "single_center" |
EvalProtocol(...))` scores each video by the mean of its views' outputs and
writes a JSON record beside the result (`record.make_record`); two results
may be compared when `compare_records` finds no difference.
"""

from keras_video.evaluation.evaluate import evaluate, result_paths
from keras_video.evaluation.protocols import PROTOCOLS, EvalProtocol, get_protocol
from keras_video.evaluation.record import compare_records, make_record
from keras_video.evaluation.views import top_k_accuracy, video_scores, view_scores

__all__ = [
    "PROTOCOLS",
    "EvalProtocol",
    "compare_records",
    "evaluate",
    "get_protocol",
    "make_record",
    "result_paths",
    "top_k_accuracy",
    "video_scores",
    "view_scores",
]
