// Package webhook holds the pure parts of BWC's webhook sensors, shared by
// the embedded engine's HTTP endpoint and the AWS webhook Lambda:
//
//   - signature verification ([Verifier]): GitHub's X-Hub-Signature-256
//     and the Standard Webhooks scheme (webhook-id, webhook-timestamp with
//     a tolerance, webhook-signature), compared in constant time, with
//     replay protection through a small [SeenIDs] port;
//   - signatures declared in core.webhook rules ([Declarations]), whose
//     secret is named, not given: a [Keyed] verifier reads it from a
//     [SecretSource] (the datastore) on every request;
//   - request bodies: a size-limited reader ([ReadBody]), the generic
//     endpoint's {"trigger", "payload"} body ([ParseGeneric]) and the
//     core.webhook payload {"headers", "body"} ([CorePayload]);
//   - webhook URL normalization ([NormalizeURL]).
//
// It serves no HTTP itself: callers pass an http.Header and the raw body.
//
// Errors wrap sentinels the caller maps to HTTP statuses: ErrBodyTooLarge
// (413), ErrBadBody (400), ErrMissingHeader, ErrMalformedHeader,
// ErrSignatureMismatch and ErrTimestampOutOfTolerance (401), ErrReplayed
// (409, or 200 for an idempotent receiver), ErrSecretUnavailable (the
// declared secret does not exist: 500, never accepted). No error carries
// an expected signature or a secret.
//
// Concurrency: GitHub, StandardWebhooks and Keyed verifiers, and Memory,
// are safe for concurrent use; a StandardWebhooks verifier's replay check is atomic
// when its SeenIDs store is.
package webhook
