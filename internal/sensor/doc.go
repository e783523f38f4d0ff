// Package sensor is the home of BWC's sensor building blocks, which the
// embedded engine's scheduler and webhook endpoint, and on AWS the timer
// and webhook Lambdas and the CDK schedules, are built from:
//
//   - [github.com/bwc-project/bwc/internal/sensor/timer]: core.IntervalTimer,
//     core.CronTimer and core.DateTimer schedules, the Scheduler loop and
//     EventBridge Scheduler expressions;
//   - [github.com/bwc-project/bwc/internal/sensor/webhook]: webhook signature
//     verification (GitHub, Standard Webhooks), body limits and parsing;
//   - [github.com/bwc-project/bwc/internal/sensor/payload]: payload
//     validation against a trigger type's payload_schema;
//   - [github.com/bwc-project/bwc/internal/sensor/sdk]: the SDK and protocol
//     of polling sensors written in Go;
//   - [github.com/bwc-project/bwc/internal/sensor/clock]: the injected clock.
//
// All but sdk are pure: no I/O, no servers, no AWS (webhook takes an
// http.Header value and nothing else from net/http). This package holds no
// code; its test checks those import rules.
package sensor
