"""A reader opened in the parent gives the same clips under tf.data parallel calls
and in forked workers (with `import torch` before and after `import keras_video`)
as in one process (`benchmarks/parallel_reads.py`, 200 reads per mode).

Each mode runs in a fresh process group under a watchdog, so a deadlock fails the
test instead of hanging pytest.
"""

import pytest

from tests.helpers import load_benchmark

READS = 200

parallel_reads = load_benchmark("parallel_reads")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("parallel-reads")


@pytest.fixture(scope="module")
def plan_path(folder):
    video = parallel_reads.write_test_video(folder / "test.mp4")
    plan = parallel_reads.make_plan(video, READS, seed=0)
    path = folder / "plan.json"
    path.write_text(parallel_reads.json.dumps(plan))
    return path


def test_plan_is_seeded_and_varied(folder, plan_path):
    plan = parallel_reads.json.loads(plan_path.read_text())
    again = parallel_reads.make_plan(plan["video"], READS, seed=0)
    assert again == plan
    assert len(plan["reads"]) == READS
    assert len(set(plan["hashes"])) > 100  # distinct clips, not one repeated


@pytest.mark.parametrize("mode", parallel_reads.MODES)
def test_mode_matches_single_process(folder, plan_path, mode):
    result = parallel_reads.run_mode(mode, plan_path, folder, limit=60)
    assert not result["deadlock"], result.get("log_tail")
    assert result["exit_code"] == 0, result.get("log_tail")
    assert result["completed"] == READS
    assert result["mismatches"] == 0


def test_watchdog_reports_a_deadlock(folder, plan_path):
    """A mode that cannot finish in its limit is killed and reported."""
    result = parallel_reads.run_mode("fork", plan_path, folder, limit=0.5)
    assert result["deadlock"]
    assert parallel_reads.failed(result, READS)


def test_a_wrong_clip_is_counted(folder, plan_path):
    """The comparison can fail: a plan with one wrong reference hash."""
    plan = parallel_reads.json.loads(plan_path.read_text())
    wrong = plan["reads"][0]
    plan["hashes"][wrong] = "0" * 40
    tampered = folder / "tampered.json"
    tampered.write_text(parallel_reads.json.dumps(plan))
    result = parallel_reads.run_mode("fork", tampered, folder, limit=60)
    assert result["completed"] == READS
    assert result["mismatches"] == plan["reads"].count(wrong)
    assert parallel_reads.failed(result, READS)
