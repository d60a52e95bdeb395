# Quick start: `make run` (serve the bot on 127.0.0.1:8080, with a stand-in for WeChat's API on :8081), `make chat` (talk to it), `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# `make run` points the bot at the development stand-in for WeChat's API (`residence-bot dev-wechat`),
# which accepts only this AppSecret: bot/dev/wechat_standin.py DEV_APP_SECRET, published because it opens nothing else.
DEV_WECHAT_PORT := 8081
DEV_WECHAT_SECRET := devsecret0not0for0production0000
# What `make run` and `make bot` point the bot at: the stand-in, template ids for pushes (the
# stand-in takes any id; a real account's come from its console), and no quiet hours, so that the
# demo's pushes arrive at whatever hour it is shown.
DEV_ENV := RB_WECHAT__API_BASE_URL=http://127.0.0.1:$(DEV_WECHAT_PORT) RB_WECHAT__APP_SECRET=$(DEV_WECHAT_SECRET) \
	RB_WECHAT__TEMPLATES__APPLICATION_STATUS=dev_application_status \
	RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER=dev_endorsement_reminder RB_REMINDERS__QUIET_HOURS=

.PHONY: install run chat bot test lint bench bench-instructions bench-receipts bench-reminder-scan bench-reminder-send loadtest soak fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/residence-bot initdb
	$(BIN)/residence-bot demo-data
	$(BIN)/residence-bot dev-wechat --port $(DEV_WECHAT_PORT) & stand_in=$$!; \
	trap 'kill $$stand_in 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/residence-bot serve

# `make chat ARGS="--openid o_second_phone"` passes options on, e.g. to chat as a second resident.
chat: $(STAMP)
	$(BIN)/residence-bot chat $(ARGS)

# Any residence-bot command beside `make run`, with its settings: the operator's terminal of the demo,
# e.g. `make bot ARGS="application set-status JZ2026120300000017 verifying"`.
bot: $(STAMP)
	$(DEV_ENV) $(BIN)/residence-bot $(ARGS)

test: $(STAMP)
	$(BIN)/pytest -q

# Style, the import contracts of pyproject.toml (a module imports only from the layers below it), types.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy bot handlers conversations models

bench: $(STAMP)
	bench/run.sh

# Instructions per message under valgrind (apt-get install valgrind), the repeatable form of `make bench`'s shares.
bench-instructions: $(STAMP)
	$(BIN)/python bench/instructions.py

# Receipt PDFs drawn warm: p99 under 100 ms a receipt, files under 200 KB (bench/README.md).
bench-receipts: $(STAMP)
	$(BIN)/python bench/receipts.py

# The daily reminder scan over 1,000,000 permits on PostgreSQL: under 60 s, peak RSS under 200 MB (bench/README.md).
bench-reminder-scan: $(STAMP)
	$(BIN)/python bench/reminder_scan.py

# 10,000 reminders sent by two workers, one killed half-way: each sent once, within the rate (bench/README.md).
bench-reminder-send: $(STAMP)
	$(BIN)/python bench/reminder_send.py

# 500 residents walking whole paths through two serve processes and two workers, with WeChat's retries:
# nothing lost, nothing doubled (bench/README.md). `make loadtest ARGS="--residents 20"` for a small one.
loadtest: $(STAMP)
	$(BIN)/python bench/loadtest.py $(ARGS)

# 30 minutes at half the load test's capacity, RSS of every process each minute (bench/README.md; not in CI).
SOAK_RATE ?= 1.25
soak: $(STAMP)
	$(BIN)/python bench/loadtest.py --minutes 30 --rate $(SOAK_RATE) $(ARGS)

# Coverage-guided fuzzing of the callback's decode, FUZZ_RUNS inputs (fuzz/README.md; not in CI). Installs the
# `fuzz` extra (atheris: a wheel with libFuzzer, nothing to compile on x86-64 Linux). Findings: var/fuzz/findings/.
FUZZ_RUNS ?= 1000000
fuzz: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,fuzz]'
	mkdir -p var/fuzz/corpus var/fuzz/findings
	$(BIN)/python fuzz/callback_decode.py --seeds var/fuzz/corpus
	$(BIN)/python fuzz/callback_decode.py -runs=$(FUZZ_RUNS) -artifact_prefix=var/fuzz/findings/ var/fuzz/corpus

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
