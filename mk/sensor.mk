# internal/sensor: timers, webhook signatures and bodies, payload validation, polling-sensor SDK.

.PHONY: test-sensor fuzz-sensor

test-sensor: ## timer schedules (cron, DST, EventBridge expressions), scheduler on a fake clock, webhook verifiers, payload validation, sensor SDK (builds and runs a sample sensor)
	$(GO) test -count=1 -race ./internal/sensor/...

fuzz-sensor: ## short fuzz runs of the cron field parser, Standard Webhooks headers, webhook bodies, the sensor protocol and payload validation
	$(GO) test -run '^$$' -fuzz '^FuzzCronField$$' -fuzztime 20s ./internal/sensor/timer/
	$(GO) test -run '^$$' -fuzz '^FuzzStandardHeaders$$' -fuzztime 20s ./internal/sensor/webhook/
	$(GO) test -run '^$$' -fuzz '^FuzzParseGeneric$$' -fuzztime 20s ./internal/sensor/webhook/
	$(GO) test -run '^$$' -fuzz '^FuzzCorePayload$$' -fuzztime 20s ./internal/sensor/webhook/
	$(GO) test -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime 20s ./internal/sensor/sdk/
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime 20s ./internal/sensor/payload/

.PHONY: apscheduler-cases
apscheduler-cases: ## re-record internal/sensor/timer's CronTimer conformance cases from APScheduler (needs Debian's python3-apscheduler)
	/usr/bin/python3 internal/sensor/timer/testdata/apscheduler/gen.py > internal/sensor/timer/testdata/apscheduler/cases.json
