"""The runner (DESIGN.md §5): the scheduler's actions executed for real.

- ``worker``: the Lambda handler (numpy SGD on S3, the HSP protocol of
  ``protocol``); ``models``: the networks it trains (softmax, MLP, LeNet, one
  file each; ``model`` keeps softmax's functions under their old name).
  These modules import only numpy and boto3 (and each other, relatively),
  so the Lambda package is this folder alone.
- ``local``: the local backend (worker processes, a moto S3 server on
  loopback); ``aws``: the AWS backend (boto3 Lambda); ``deploy``: packaging.
- ``job``: the real env (the same observation and action codec as the
  simulator, through ``siren._core``); ``trace``: HDF5 traces;
  ``calibrate``: fitting the simulator to a trace, and replaying it.

This file stays import-free so the worker can be loaded without siren.
"""
