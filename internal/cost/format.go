package cost

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteTable writes the report for people: one row per rule with its cost
// by service, the total, the fixed monthly costs, what one trigger of each
// rule uses, the assumptions and the prices.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	a := r.Assumptions
	fmt.Fprintf(&b, "Estimated AWS cost of the BWC stack, in USD at list prices in %s as of %s,\nper %s triggers of each rule:\n\n", r.Region, r.PricesAsOf, group(a.Triggers))
	head := []string{"RULE", "PATH", "FROM"}
	for _, s := range Services() {
		head = append(head, strings.ToUpper(s))
	}
	head = append(head, "TOTAL")
	rows := [][]string{head}
	sum := make([]float64, len(Services()))
	for _, rc := range r.Rules {
		row := []string{rc.Rule, rc.Path, rc.Source}
		for i, l := range rc.Lines {
			row = append(row, money(l.USD))
			sum[i] += l.USD
		}
		rows = append(rows, append(row, money(rc.USD)))
	}
	total := []string{"total", "", ""}
	for _, s := range sum {
		total = append(total, money(s))
	}
	rows = append(rows, append(total, money(r.USD)))
	writeColumns(&b, rows, 3)

	fmt.Fprintf(&b, "\nFixed, per month: %s\n", money(r.MonthlyUSD))
	for _, l := range r.Monthly {
		fmt.Fprintf(&b, "  %-8s %8s  %s\n", l.Service, money(l.USD), l.What)
	}

	b.WriteString("\nPer trigger:\n")
	for _, rc := range r.Rules {
		fmt.Fprintf(&b, "  %s (%s from %s, path %s, state machine %s: %s, %s, %s):\n",
			rc.Rule, rc.Trigger, rc.Source, rc.Path, rc.Machine, count(float64(rc.Run.Transitions), "state"),
			count(float64(rc.Run.Tasks), "runner task"), count(float64(rc.Run.Inquiries), "inquiry"))
		for _, l := range rc.Lines {
			fmt.Fprintf(&b, "    %-15s %s\n", l.Service, l.What)
		}
	}

	b.WriteString("\nAssumptions:\n")
	var ds []string
	for _, fn := range functions() {
		ds = append(ds, fmt.Sprintf("%s %s ms", fn, num(a.DurationMS[fn])))
	}
	fmt.Fprintf(&b, "  Lambda: arm64, %s MB; billed duration per invocation: %s\n", num(a.MemoryMB), strings.Join(ds, ", "))
	fmt.Fprintf(&b, "  direct machines (Step Functions Express): %s ms, %s MB per run (billed per started 100 ms and 64 MB)\n",
		num(a.DirectDurationMS), num(a.DirectMemoryMB))
	fmt.Fprintf(&b, "  events of %s bytes; logs: %s bytes per Lambda invocation, %s per Step Functions event (LogLevel ALL), %s per API access log line\n",
		num(a.EventBytes), num(a.LambdaLogBytes), num(a.StatesLogEventBytes), num(a.APILogBytes))
	fmt.Fprintf(&b, "  X-Ray traces for %s%% of triggers (sampling)\n", num(a.TraceSampling*100))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}

	fmt.Fprintf(&b, "\nPrices (%s, as of %s; check the pages before relying on them):\n", r.Region, r.PricesAsOf)
	for _, p := range r.Prices {
		fmt.Fprintf(&b, "  $%s per %s %s: %s [%s]\n", price(p.USD), group(p.Per), p.Unit, p.What, p.Source)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the estimate: %w", err)
	}
	return nil
}

// writeColumns writes rows as columns two spaces apart: the first left
// columns aligned left, the others right.
func writeColumns(b *strings.Builder, rows [][]string, left int) {
	width := map[int]int{}
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, c := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-len(c))
			if i < left {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// price writes a list price: cents when it is whole cents, every digit
// otherwise.
func price(usd float64) string {
	if c := usd * 100; c == float64(int64(c)) {
		return fmt.Sprintf("%.2f", usd)
	}
	return strconv.FormatFloat(usd, 'f', -1, 64)
}

// money writes dollars with cents, or with four decimals under a cent.
func money(usd float64) string {
	if usd != 0 && usd < 0.01 && usd > -0.01 {
		return fmt.Sprintf("%.4f", usd)
	}
	return fmt.Sprintf("%.2f", usd)
}

// group writes a whole number with thousands separators (1,000,000).
func group(f float64) string {
	s := num(f)
	if strings.ContainsAny(s, ".e") || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
