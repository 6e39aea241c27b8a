# Google Cloud preflight: with the gcp-batch profile (googlebatch executor, gcs storage), stop at
# parse time, before anything is uploaded or submitted, if a variable is missing or the bucket is
# unreachable. Does nothing for local runs. See docs/cloud.md.
from zetalab.cloud.preflight import run_for_workflow

try:
    run_for_workflow(workflow)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None
