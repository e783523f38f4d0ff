// Package routes is the route table of BWC's HTTP API (internal/api): each
// route's method, path pattern and the Lambda function that serves it on
// AWS. It imports nothing but the standard library, so that the CDK app
// (infra/) can build its HTTP API from it without the server's
// dependencies.
//
// The table is a pure value, safe for concurrent use.
package routes

// The Lambda functions that serve the API's routes on AWS (the CDK stack's
// HTTP API integrations; the names of functions/<fn>).
const (
	FunctionAPI     = "api"     // every route but webhooks and inquiry responses
	FunctionWebhook = "webhook" // webhooks: validate, record, PutEvents
	FunctionInquiry = "inquiry" // inquiry responses: SendTaskSuccess/Failure
)

// WebhookURLPath is the path of the webhooks of core.webhook rules: its last
// segment is the rule's url, which may hold slashes. On AWS it becomes one
// route per url the packs declare.
const WebhookURLPath = "/api/v1/webhooks/{url...}"

// Route is one route of the API: the method and the path pattern the
// server registers (net/http's syntax: {name} is one segment, {name...} the
// rest of the path), and the function that serves it on AWS.
type Route struct {
	Method   string
	Path     string
	Function string
}

// Pattern is the route as net/http.ServeMux writes it: "GET /api/v1/health".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// All returns every route internal/api's server registers, in a fixed
// order. It is the route table the CDK stack builds its HTTP API from, so a
// route added to the server must be added here (a test in internal/api
// holds the two together).
func All() []Route {
	api := func(method, path string) Route { return Route{method, path, FunctionAPI} }
	return []Route{
		api("GET", "/api/v1/health"),
		{"POST", "/api/v1/webhooks/st2", FunctionWebhook},
		{"POST", WebhookURLPath, FunctionWebhook},
		api("POST", "/api/v1/executions"),
		api("GET", "/api/v1/executions"),
		api("GET", "/api/v1/executions/{id}"),
		api("GET", "/api/v1/executions/{id}/output"),
		api("POST", "/api/v1/executions/{id}/cancel"),
		api("POST", "/api/v1/executions/{id}/re-run"),
		api("POST", "/api/v1/executions/{id}/pause"),
		api("POST", "/api/v1/executions/{id}/resume"),
		api("DELETE", "/api/v1/executions/{id}"),
		api("GET", "/api/v1/actions/{ref}"),
		api("GET", "/api/v1/trigger-instances"),
		api("GET", "/api/v1/trigger-instances/{id}"),
		api("GET", "/api/v1/enforcements"),
		api("GET", "/api/v1/enforcements/{id}"),
		api("GET", "/api/v1/traces/{tag}"),
		api("GET", "/api/v1/keys/{scope}"),
		api("GET", "/api/v1/keys/{scope}/{name}"),
		api("PUT", "/api/v1/keys/{scope}/{name}"),
		api("DELETE", "/api/v1/keys/{scope}/{name}"),
		api("GET", "/api/v1/inquiries"),
		api("GET", "/api/v1/inquiries/{id}"),
		{"POST", "/api/v1/inquiries/{id}/respond", FunctionInquiry},
	}
}
