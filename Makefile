# The two commands a newcomer needs: `make demo` and `make test`. Everything else is set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test processes (pytest-xdist): one per core; `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto

.PHONY: demo test test-fast lint format bench emulators serve clean screenshots

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/casecal demo

serve: $(STAMP)
	$(BIN)/casecal serve

emulators: $(STAMP)
	$(BIN)/casecal emulators --port 8025

test: $(STAMP)
	.ci/system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy --strict bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

# The browser tests save a screenshot per step; the README links a few, kept in docs/screenshots.
NEWCOMER := newcomer-connects-both-providers-and-sees-an-outlook-edit-come-back
SCREENSHOTS := microsoft-with-admin-consent-04-admin-consent-panel \
	create-change-and-delete-an-appointment-02-appointment-in-the-week \
	a-validation-error-shows-by-its-field-01-error-by-the-ends-field \
	the-pushed-link-lands-on-the-entry-after-sign-in-02-link-lands-on-the-entry \
	microsoft-with-admin-consent-08-ann-synced microsoft-with-admin-consent-10-ann-calendar-page \
	admin-signing-in-for-a-case-manager-connects-nothing-02-identity-mismatch-explained \
	$(NEWCOMER)-04-maria-reads-the-notice-on-the-mail-page \
	$(NEWCOMER)-11-outlook-moved-to-15-30 $(NEWCOMER)-12-maria-calendar-shows-the-move \
	an-open-calendar-page-redraws-itself-02-outlook-calendar-redrawn-with-the-new-title \
	the-consent-link-shows-once-and-request-approval-stays-reachable-01-approval-required-shows-the-link-once \
	a-removed-seat-pauses-with-the-fix-on-both-pages-01-admin-sees-paused-no-seat \
	api-docs-render-offline-01-operations-listed admin-adds-a-user-who-sets-a-password-and-a-zone-02-one-time-link \
	admin-adds-a-user-who-sets-a-password-and-a-zone-03-settings-zone \
	an-unfinished-authorisation-offers-connect-again-02-unfinished-reads-as-such \
	approval-required-offers-request-approval-and-consent-leaves-one-state-05-one-state-after-consent \
	an-imported-personal-appointment-stays-private-until-shared-01-owner-sees-it-in-full \
	an-imported-personal-appointment-stays-private-until-shared-03-admin-finds-nothing-to-open \
	a-conflict-names-the-field-with-both-values-and-restores-01-conflict-names-start-and-end-in-bobs-zone \
	admin-turns-the-connect-prompt-on-and-newcomers-connect-or-say-not-now-02-admin-turns-the-prompt-on-and-locks-it \
	admin-turns-the-connect-prompt-on-and-newcomers-connect-or-say-not-now-04-nora-is-asked-to-connect-microsoft-365 \
	admin-turns-the-connect-prompt-on-and-newcomers-connect-or-say-not-now-10-omar-on-calendar-sync-after-not-now \
	admin-configures-saml-and-a-newcomer-signs-in-through-it-01-admin-configures-saml \
	consent-once-then-approve-a-connection-01-firm-consented \
	consent-once-then-approve-a-connection-03-approval-queue \
	connect-caldav-with-a-preset-and-an-app-password-02-presets-and-app-password-help \
	connect-caldav-with-a-preset-and-an-app-password-06-synced

screenshots: $(STAMP)
	$(BIN)/python -m pytest -q -m browser tests/e2e/browser tests/e2e/demo
	mkdir -p docs/screenshots
	for name in $(SCREENSHOTS); do cp test-output/screenshots/$$name.png docs/screenshots/; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
