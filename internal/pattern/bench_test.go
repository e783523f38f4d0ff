package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// corpus generates, from a seed, realistic events (AWS service events,
// monitoring webhooks, nested payloads with arrays) and patterns of mixed
// operators over them.
type corpus struct {
	r *rand.Rand
}

func newCorpus(seed uint64) *corpus {
	return &corpus{r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

var (
	regions  = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	states   = []string{"pending", "running", "stopping", "stopped", "shutting-down", "terminated"}
	alarmSt  = []string{"OK", "ALARM", "INSUFFICIENT_DATA"}
	metrics  = []string{"CPUUtilization", "NetworkIn", "NetworkOut", "DiskReadOps", "StatusCheckFailed", "Latency", "5XXError", "MemoryUtilization"}
	services = []string{"EC2", "RDS", "S3", "LAMBDA", "DYNAMODB", "ECS", "EKS", "ELASTICLOADBALANCING"}
	sevs     = []string{"critical", "error", "warning", "info"}
	teams    = []string{"payments", "search", "checkout", "identity", "platform", "data", "mobile", "web", "billing", "ledger", "fraud", "ads",
		"catalog", "pricing", "shipping", "returns", "growth", "infra", "network", "storage", "ml", "analytics", "support", "security"}
	envs    = []string{"prod", "staging", "dev", "qa"}
	buckets = []string{"logs", "uploads", "backups", "artifacts", "reports"}
	exts    = []string{".png", ".jpg", ".csv", ".json", ".log", ".gz", ".tmp"}
)

func (c *corpus) pick(xs []string) string { return xs[c.r.IntN(len(xs))] }
func (c *corpus) account() string         { return fmt.Sprintf("%012d", 100000000000+c.r.IntN(50)) }
func (c *corpus) instance() string        { return fmt.Sprintf("i-%017x", c.r.Uint64N(400)) }
func (c *corpus) alarm() string {
	return fmt.Sprintf("%s-%s-%s-%d", c.pick(teams), c.pick(envs), c.pick(metrics), c.r.IntN(20))
}
func (c *corpus) ip() string {
	return fmt.Sprintf("10.%d.%d.%d", c.r.IntN(8), c.r.IntN(256), c.r.IntN(256))
}

func (c *corpus) envelope(source, detailType, detail string, resources []string) string {
	res := make([]string, len(resources))
	for i, r := range resources {
		res[i] = fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf(`{"version":"0","id":"%08x-6f4e-4f1a-9c0e-%012x","detail-type":%q,"source":%q,"account":%q,"time":"2026-11-%02dT%02d:%02d:%02dZ","region":%q,"resources":[%s],"detail":%s}`,
		c.r.Uint32(), c.r.Uint64N(1<<48), detailType, source, c.account(), 1+c.r.IntN(28), c.r.IntN(24), c.r.IntN(60), c.r.IntN(60), c.pick(regions), strings.Join(res, ","), detail)
}

func (c *corpus) event() string {
	region := c.pick(regions)
	switch c.r.IntN(6) {
	case 0: // EC2 state change
		id := c.instance()
		return c.envelope("aws.ec2", "EC2 Instance State-change Notification",
			fmt.Sprintf(`{"instance-id":%q,"state":%q}`, id, c.pick(states)),
			[]string{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, c.account(), id)})
	case 1: // CloudWatch alarm
		name := c.alarm()
		return c.envelope("aws.cloudwatch", "CloudWatch Alarm State Change",
			fmt.Sprintf(`{"alarmName":%q,"state":{"value":%q,"reason":"Threshold Crossed: 1 out of the last 1 datapoints [%d.5] was greater than the threshold (%d.0)","timestamp":"2026-11-25T06:00:00.000+0000"},"previousState":{"value":%q},"configuration":{"metrics":[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/%s","name":%q,"dimensions":{"InstanceId":%q}},"period":%d,"stat":"Average"},"returnData":true}],"description":"%s alarm"}}`,
				name, c.pick(alarmSt), c.r.IntN(100), c.r.IntN(100), c.pick(alarmSt), c.pick(services), c.pick(metrics), c.instance(), 60*(1+c.r.IntN(5)), c.pick(teams)),
			[]string{fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, c.account(), name)})
	case 2: // Health
		svc := c.pick(services)
		return c.envelope("aws.health", "AWS Health Event",
			fmt.Sprintf(`{"eventArn":"arn:aws:health:%s::event/%s/AWS_%s_OPERATIONAL_ISSUE/%d","service":%q,"eventTypeCode":"AWS_%s_%s","eventTypeCategory":%q,"startTime":"Wed, 25 Nov 2026 06:00:00 GMT","eventDescription":[{"language":"en_US","latestDescription":"We are investigating increased error rates in %s."}],"affectedEntities":[{"entityValue":%q,"tags":{"team":%q}},{"entityValue":%q,"tags":{"team":%q}}]}`,
				region, svc, svc, c.r.IntN(1000), svc, svc, c.pick([]string{"OPERATIONAL_ISSUE", "MAINTENANCE_SCHEDULED", "SECURITY_NOTIFICATION"}), c.pick([]string{"issue", "scheduledChange", "accountNotification"}), region, c.instance(), c.pick(teams), c.instance(), c.pick(teams)),
			nil)
	case 3: // Alertmanager webhook
		n := 1 + c.r.IntN(3)
		alerts := make([]string, n)
		for i := range alerts {
			alerts[i] = fmt.Sprintf(`{"status":%q,"labels":{"alertname":"%sHigh","severity":%q,"team":%q,"env":%q,"instance":"%s:9100"},"annotations":{"summary":"%s is high"},"startsAt":"2026-11-25T05:%02d:00Z","value":%d.%d}`,
				c.pick([]string{"firing", "resolved"}), c.pick(metrics), c.pick(sevs), c.pick(teams), c.pick(envs), c.ip(), c.pick(metrics), c.r.IntN(60), c.r.IntN(1000), c.r.IntN(10))
		}
		return c.envelope("bwc.monitoring", "monitoring.alertmanager",
			fmt.Sprintf(`{"receiver":"bwc","status":"firing","alerts":[%s],"groupLabels":{"team":%q},"externalURL":"http://alertmanager:9093","trace_tag":"t-%d"}`, strings.Join(alerts, ","), c.pick(teams), c.r.IntN(1e6)),
			nil)
	case 4: // S3 object created
		key := fmt.Sprintf("%s/%d/%s%s", c.pick(teams), 2020+c.r.IntN(7), c.pick([]string{"report", "Image", "dump", "export"}), c.pick(exts))
		return c.envelope("aws.s3", "Object Created",
			fmt.Sprintf(`{"version":"0","bucket":{"name":"%s-%s"},"object":{"key":%q,"size":%d,"etag":"%x"},"request-id":"R%d","requester":%q,"source-ip-address":%q,"reason":"PutObject"}`,
				c.pick(buckets), c.pick(envs), key, c.r.IntN(1<<24), c.r.Uint64(), c.r.IntN(1e6), c.account(), c.ip()),
			nil)
	default: // generic webhook with nested payload
		return c.envelope("bwc.webhooks", "core.webhook",
			fmt.Sprintf(`{"trace_tag":"t-%d","body":{"event":%q,"user":{"id":%d,"email":"user%d@example.com","roles":[%q,%q]},"items":[{"sku":"SKU-%d","qty":%d,"price":%d.99},{"sku":"SKU-%d","qty":%d,"price":%d.5}],"env":%q,"ok":%t,"note":null}}`,
				c.r.IntN(1e6), c.pick([]string{"order.created", "order.paid", "user.signup", "deploy.finished", "deploy.failed"}), c.r.IntN(10000), c.r.IntN(10000), c.pick([]string{"admin", "dev", "ops"}), c.pick([]string{"viewer", "billing"}), c.r.IntN(500), 1+c.r.IntN(5), c.r.IntN(300), c.r.IntN(500), 1+c.r.IntN(5), c.r.IntN(300), c.pick(envs), c.r.IntN(2) == 0),
			nil)
	}
}

// pattern returns one pattern of mixed operators, of the kind rules compile
// to: twelve templates, equally likely, over the same vocabularies as the
// events, using exact values and OR-lists, prefix, suffix with
// equals-ignore-case, equals-ignore-case, numeric comparisons and ranges,
// anything-but (value, list, suffix), exists (true and false), wildcard,
// cidr and $or. Three templates use only exact values.
func (c *corpus) pattern() string {
	switch c.r.IntN(12) {
	case 0:
		return fmt.Sprintf(`{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":[%q,%q],"instance-id":[%q]}}`, c.pick(states), c.pick(states), c.instance())
	case 1:
		return fmt.Sprintf(`{"source":["aws.ec2"],"region":[{"prefix":%q}],"detail":{"state":[{"anything-but":[%q,"pending"]}]},"account":[%q]}`, c.pick(regions)[:3], c.pick(states), c.account())
	case 2:
		return fmt.Sprintf(`{"source":["aws.cloudwatch"],"detail":{"alarmName":[{"prefix":%q}],"state":{"value":[%q]}}}`, c.pick(teams)+"-"+c.pick(envs), c.pick(alarmSt))
	case 3:
		return fmt.Sprintf(`{"detail-type":["CloudWatch Alarm State Change"],"detail":{"alarmName":[{"prefix":%q}],"configuration":{"metrics":{"metricStat":{"metric":{"name":[%q],"namespace":[{"equals-ignore-case":"aws/%s"}]},"period":[{"numeric":[">=",%d]}]}}}}}`, c.pick(teams)+"-"+c.pick(envs)+"-", c.pick(metrics), strings.ToLower(c.pick(services)), 60*c.r.IntN(5))
	case 4:
		return fmt.Sprintf(`{"source":["aws.health"],"detail":{"service":[%q],"eventTypeCategory":["issue"],"affectedEntities":{"entityValue":[%q],"tags":{"team":[%q]}}}}`, c.pick(services), c.instance(), c.pick(teams))
	case 5:
		return fmt.Sprintf(`{"source":["bwc.monitoring"],"detail":{"alerts":{"status":["firing"],"labels":{"alertname":["%sHigh"],"severity":[%q,%q],"team":[%q]}}}}`, c.pick(metrics), c.pick(sevs), c.pick(sevs), c.pick(teams))
	case 6:
		return fmt.Sprintf(`{"detail-type":["monitoring.alertmanager"],"detail":{"alerts":{"labels":{"env":[{"anything-but":"dev"}],"instance":[{"wildcard":"10.%d.%d.*:9100"}]},"value":[{"numeric":[">",%d,"<=",%d]}]}}}`, c.r.IntN(8), c.r.IntN(256), c.r.IntN(500), 500+c.r.IntN(500))
	case 7:
		return fmt.Sprintf(`{"source":["aws.s3"],"detail":{"bucket":{"name":[{"prefix":%q}]},"requester":[%q],"object":{"key":[{"suffix":{"equals-ignore-case":%q}}],"size":[{"numeric":[">",%d]}]}}}`, c.pick(buckets)+"-", c.account(), strings.ToUpper(c.pick(exts)), c.r.IntN(1<<23))
	case 8:
		return fmt.Sprintf(`{"source":["aws.s3"],"detail":{"source-ip-address":[{"cidr":"10.%d.%d.0/24"}],"object":{"key":[{"anything-but":{"suffix":".tmp"}}],"etag":[{"exists":true}]}}}`, c.r.IntN(8), c.r.IntN(256))
	case 9:
		return fmt.Sprintf(`{"source":["bwc.webhooks"],"detail":{"body":{"event":[{"prefix":%q}],"items":{"qty":[{"numeric":[">=",%d]}],"sku":[%q]}}}}`, c.pick([]string{"order.", "user.", "deploy."}), 1+c.r.IntN(5), fmt.Sprintf("SKU-%d", c.r.IntN(500)))
	case 10:
		return fmt.Sprintf(`{"source":[{"prefix":"bwc."}],"$or":[{"detail":{"body":{"env":[%q]}}},{"detail":{"groupLabels":{"team":[%q]}}}],"detail":{"trace_tag":[{"prefix":"t-%d"}]}}`, c.pick(envs), c.pick(teams), 10+c.r.IntN(90))
	default:
		return fmt.Sprintf(`{"detail-type":[{"wildcard":"*%s*"}],"account":[%q],"resources":[{"wildcard":"arn:aws:*:%s:*"}],"detail":{"state":[{"exists":false}]}}`, c.pick([]string{"State", "Alarm", "Object"}), c.account(), c.pick(regions))
	}
}

func benchPatterns(n int) []string {
	c := newCorpus(uint64(1000 + n))
	out := make([]string, n)
	for i := range out {
		out[i] = c.pattern()
	}
	return out
}

func benchEvents(n int) [][]byte {
	c := newCorpus(7)
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(c.event())
	}
	return out
}

// TestBenchCorpus checks that the benchmark corpus is valid and that its
// patterns do match its events (so that the benchmark measures real work),
// and cross-checks the Matcher against the reference evaluator on it.
func TestBenchCorpus(t *testing.T) {
	patterns := benchPatterns(300)
	events := benchEvents(200)
	evs := make([]string, len(events))
	for i, e := range events {
		evs[i] = string(e)
	}
	valid, matched := differential(t, patterns, evs)
	if valid != len(patterns) {
		t.Fatalf("%d of %d corpus patterns are valid", valid, len(patterns))
	}
	if matched < 5 {
		t.Fatalf("only %d matches over %d events", matched, len(events))
	}
	t.Logf("%d matches over %d events and %d patterns", matched, len(events), len(patterns))
}

// BenchmarkMatch measures Matcher.Match throughput with 1 to 10,000 patterns.
func BenchmarkMatch(b *testing.B) {
	events := benchEvents(2000)
	bytes := 0
	for _, e := range events {
		bytes += len(e)
	}
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			m := NewMatcher()
			for i, src := range benchPatterns(n) {
				if err := m.Add(fmt.Sprintf("rule-%05d", i), []byte(src)); err != nil {
					b.Fatal(err)
				}
			}
			matches := 0
			for _, e := range events { // builds the automaton, warms the pool
				ids, err := m.Match(e)
				if err != nil {
					b.Fatal(err)
				}
				matches += len(ids)
			}
			b.SetBytes(int64(bytes / len(events)))
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, err := m.Match(events[i]); err != nil {
					b.Fatal(err)
				}
				i++
				if i == len(events) {
					i = 0
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(matches)/float64(len(events)), "matches/event")
		})
	}
}

// BenchmarkRebuild measures what one Add costs the next Match when the
// Matcher already holds n patterns: Add is lazy, so that Match rebuilds the
// whole automaton.
func BenchmarkRebuild(b *testing.B) {
	event := benchEvents(1)[0]
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			m := NewMatcher()
			for i, src := range benchPatterns(n) {
				if err := m.Add(fmt.Sprintf("rule-%05d", i), []byte(src)); err != nil {
					b.Fatal(err)
				}
			}
			extra := []byte(benchPatterns(1)[0])
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Add("extra", extra); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Match(event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
