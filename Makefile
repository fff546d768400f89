# CRVS Hub: `make serve` runs the server, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.PHONY: serve test install lint typecheck compat bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

# The local demo: every insecure convenience below is an explicit opt-in (off by default), and
# `crvshub serve` prints one line for each one in effect. Set a variable to override it.
DEMO_SETTINGS := \
	CRVSHUB_ENVIRONMENT=$${CRVSHUB_ENVIRONMENT:-development} \
	CRVSHUB_DEMO_SCOPE=$${CRVSHUB_DEMO_SCOPE:-true} \
	CRVSHUB_WEBHOOK_ALLOW_LOOPBACK=$${CRVSHUB_WEBHOOK_ALLOW_LOOPBACK:-true} \
	CRVSHUB_PUBLIC_DOCS=$${CRVSHUB_PUBLIC_DOCS:-true} \
	CRVSHUB_PUBLIC_METRICS=$${CRVSHUB_PUBLIC_METRICS:-true} \
	CRVSHUB_DCI_ALLOW_UNSIGNED=$${CRVSHUB_DCI_ALLOW_UNSIGNED:-true} \
	CRVSHUB_TOKEN_QUERY_CREDENTIALS=$${CRVSHUB_TOKEN_QUERY_CREDENTIALS:-true}
# Demo databases made before keys were required used this published key.
OLD_DEMO_KEY := crvshub-development-secret-change-me

serve: $(STAMP)
	@mkdir -p var
	@if [ -z "$$CRVSHUB_SECRET_KEY" ] && [ ! -s var/secret-key ]; then \
		(umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" \
			> var/secret-key); \
		echo "demo: secret key generated for this machine in var/secret-key"; \
		if [ -s var/crvshub.sqlite3 ]; then \
			CRVSHUB_SECRET_KEY="$$(cat var/secret-key)" CRVSHUB_OLD_KEY=$(OLD_DEMO_KEY) \
				$(BIN)/crvshub keys reencrypt; \
		fi; \
	fi
	@export CRVSHUB_SECRET_KEY="$${CRVSHUB_SECRET_KEY:-$$(cat var/secret-key)}" $(DEMO_SETTINGS) && \
		$(BIN)/crvshub migrate && \
		$(BIN)/crvshub seed --demo && \
		exec $(BIN)/crvshub serve

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

compat: $(STAMP)
	bash scripts/compat-opencrvs-postman.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
