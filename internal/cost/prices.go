package cost

// PricesAsOf is when the prices of ListPrices were taken from the AWS
// pricing pages they name. They were not fetched from AWS when this code was
// written (the build machines have no network): check the pages before
// relying on a figure.
const PricesAsOf = "2025-06"

// Region is the region of the prices.
const Region = "us-east-1"

// Price keys.
const (
	PriceAPIRequest  = "apigateway.http.request"
	PricePutEvent    = "eventbridge.putevents"
	PriceDelivery    = "eventbridge.delivery"
	PriceScheduler   = "scheduler.invocation"
	PriceLambdaReq   = "lambda.request"
	PriceLambdaGBs   = "lambda.arm64.gb_second"
	PriceTransition  = "stepfunctions.standard.transition"
	PriceExpressReq  = "stepfunctions.express.request"
	PriceExpressGBs  = "stepfunctions.express.gb_second"
	PriceWriteUnit   = "dynamodb.ondemand.wru"
	PriceReadUnit    = "dynamodb.ondemand.rru"
	PriceLogIngestGB = "logs.ingest.gb"
	PriceTrace       = "xray.trace"
	PriceKMSKey      = "kms.key.month"
)

// Price is one list price: USD for Per units.
type Price struct {
	Key    string  `json:"key"`
	What   string  `json:"what"`
	USD    float64 `json:"usd"`
	Per    float64 `json:"per"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"`
}

// Each returns the price of one unit.
func (p Price) Each() float64 { return p.USD / p.Per }

// Prices are list prices by key.
type Prices map[string]Price

// ListPrices returns AWS's public list prices in us-east-1 that the
// estimate uses, as of PricesAsOf, each with the pricing page it comes from.
// Tiered prices are the first tier.
func ListPrices() Prices {
	ps := []Price{
		{PriceAPIRequest, "API Gateway HTTP API requests (first 300 million a month; metered in 512 KB increments)", 1.00, 1e6, "requests", "Amazon API Gateway pricing"},
		{PricePutEvent, "EventBridge custom events put on a bus (PutEvents; each 64 KB chunk is one event)", 1.00, 1e6, "events", "Amazon EventBridge pricing"},
		{PriceDelivery, "EventBridge rule deliveries to Lambda and Step Functions targets", 0, 1e6, "deliveries", "Amazon EventBridge pricing"},
		{PriceScheduler, "EventBridge Scheduler invocations (after 14 million free a month)", 1.00, 1e6, "invocations", "Amazon EventBridge pricing (Scheduler)"},
		{PriceLambdaReq, "Lambda requests", 0.20, 1e6, "requests", "AWS Lambda pricing"},
		{PriceLambdaGBs, "Lambda duration, Arm (first 7.5 billion GB-seconds a month)", 0.0000133334, 1, "GB-seconds", "AWS Lambda pricing"},
		{PriceTransition, "Step Functions standard workflow state transitions", 0.025, 1e3, "transitions", "AWS Step Functions pricing"},
		{PriceExpressReq, "Step Functions express workflow requests (executions started)", 1.00, 1e6, "requests", "AWS Step Functions pricing (Express Workflows)"},
		{PriceExpressGBs, "Step Functions express workflow duration (first 1,000 GB-hours a month, $0.06 per GB-hour; billed per started 100 ms and 64 MB of memory)", 0.06, 3600, "GB-seconds", "AWS Step Functions pricing (Express Workflows)"},
		{PriceWriteUnit, "DynamoDB on-demand write request units", 0.625, 1e6, "write request units", "Amazon DynamoDB pricing (on-demand capacity)"},
		{PriceReadUnit, "DynamoDB on-demand read request units", 0.125, 1e6, "read request units", "Amazon DynamoDB pricing (on-demand capacity)"},
		{PriceLogIngestGB, "CloudWatch Logs ingestion, standard class (vended logs: first 10 TB)", 0.50, 1, "GB", "Amazon CloudWatch pricing"},
		{PriceTrace, "X-Ray traces recorded", 5.00, 1e6, "traces", "AWS X-Ray pricing"},
		{PriceKMSKey, "KMS customer managed key", 1.00, 1, "key-months", "AWS Key Management Service pricing"},
	}
	out := make(Prices, len(ps))
	for _, p := range ps {
		out[p.Key] = p
	}
	return out
}
