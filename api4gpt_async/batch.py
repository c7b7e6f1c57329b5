"""Batches of jobs at scale: ``submit_many``'s job and outcome types, and the batch runner
behind ``api4gpt batch run`` (see :mod:`api4gpt_async._batch`)."""

from ._batch import BatchJob, BatchReport, read_jobs, run_batch, run_job, submit_ops
from ._exports import publish
from ._submit import Job, SubmitOutcome

__all__ = [
    "BatchJob",
    "BatchReport",
    "Job",
    "SubmitOutcome",
    "read_jobs",
    "run_batch",
    "run_job",
    "submit_ops",
]


publish(__name__, globals(), __all__)
