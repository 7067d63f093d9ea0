# `make demo` and `make test` set everything up on first use (tools/setup_env.sh)
# and reach the real work in seconds afterwards.
# The env: an active virtualenv/conda env if there is one, else ./.venv;
# override with `make test PYTHON=/path/to/python`.
# `make test-oldest` runs the suite in ./.venv-torch2.1 with the oldest
# supported stack (torch 2.1.2, torchvision 0.16.2, numpy < 2).
ifneq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
PYTHON ?= python
else
PYTHON ?= .venv/bin/python
endif
OLDEST_PYTHON ?= .venv-torch2.1/bin/python
OLDEST_TORCH = torch==2.1.2 torchvision==0.16.2 numpy<2

.PHONY: setup demo test test-fast test-oldest benchmark benchmark-deploy

setup:
	@tools/setup_env.sh $(PYTHON)

demo: setup
	$(PYTHON) tools/demo_synthetic.py

# Two workers (one thread each), a test file per worker at a time.
PYTEST_PARALLEL = -n 2 --dist loadfile

test: setup
	$(PYTHON) -m pytest -q $(PYTEST_PARALLEL) tests

# The suite less the tests marked slow (training, DDP, tools): < 1 minute.
test-fast: setup
	$(PYTHON) -m pytest -q -m "not slow" tests

test-oldest:
	@TORCH_SPEC="$(OLDEST_TORCH)" tools/setup_env.sh $(OLDEST_PYTHON)
	$(OLDEST_PYTHON) -m pytest -q $(PYTEST_PARALLEL) tests

# Latency of the backbone beside timm's and mmpretrain's EdgeNeXt and MobileNetV2;
# of the deployed models in each runtime and precision beside their peers
# (docs/deploy_benchmark.md, about 5 minutes on 2 cores): the classifiers and
# their accuracy-latency chart, then the detectors and segmentors.
benchmark: setup
	$(PYTHON) tools/benchmark_backbone.py

DEPLOY_BENCHMARK = tools/benchmark_deploy.py --runtimes onnxruntime openvino \
	--precisions fp32 int8 --threads 2 --rounds 10
benchmark-deploy: setup
	$(PYTHON) $(DEPLOY_BENCHMARK) --archs xx_small x_small small \
		xx_small_bn_hs x_small_bn_hs small_bn_hs --models mobilenet_v2 \
		mobilenet_v3_large edgeformer timm classifier \
		--chart work_dirs/deploy_accuracy_latency.png
	$(PYTHON) $(DEPLOY_BENCHMARK) --archs xx_small xx_small_bn_hs \
		--models ssdlite_mobilenet_v2 detector segmentor
