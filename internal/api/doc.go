// Package api is BWC's HTTP API as the embedded engine serves it: webhooks
// (the intake of core.webhook triggers and of any trigger through the
// generic /api/v1/webhooks/st2 endpoint), running actions, reading
// executions and their output, canceling, and the audit trail (trigger
// instances, enforcements, traces).
//
// Every route but /api/v1/health needs an API key in the X-BWC-Api-Key
// header (or St2-Api-Key, for st2 clients); keys are checked by their hash
// against the store. Errors are JSON: {"error": {"code", "message",
// "problems": [{"pointer", "message"}]}}, with 400 for bad input (a payload
// that does not match its trigger's payload_schema lists the JSON pointer of
// each problem and records nothing), 401 for a missing or unknown key, 404,
// 409 for a state conflict (canceling a finished execution) and 500.
//
// The server reaches the engine through small ports declared here
// ([Publisher], [Runner], [Records], [Catalog]); package engine wires them.
// The Go client the CLI uses is in package client.
//
// Concurrency: a [Server] is safe for concurrent use once built; its ports
// must be too.
package api
