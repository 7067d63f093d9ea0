"""What the benchmark tools (tools/benchmark_*.py) share: the models timed
beside ours (:mod:`.peers`, :mod:`.deploy_models`) and the benchmark
tables' timing (:mod:`.timing`). It is not part of the installed package:
the tools import it as ``benchmarking`` (their own folder is on the path),
and only it and the tests need timm."""
