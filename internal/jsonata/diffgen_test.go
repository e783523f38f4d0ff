package jsonata

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// exprGen generates random, mostly well-formed expressions over the
// differential inputs' field names (deterministic for a seed).
type exprGen struct {
	r *rand.Rand
}

func (g *exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *exprGen) name() string {
	return g.pick("order", "items", "customer", "name", "price", "qty", "tags", "sku", "events", "type", "sev", "host",
		"a", "b", "c", "d", "list", "s", "n", "z", "t", "nil", "empty", "missing")
}

func (g *exprGen) path(depth int) string {
	parts := []string{g.name()}
	for i := g.r.IntN(3); i > 0; i-- {
		step := g.name()
		switch g.r.IntN(8) {
		case 0:
			step = "*"
		case 1:
			step += "[" + g.expr(depth+1) + "]"
		case 2:
			step += "[" + fmt.Sprint(g.r.IntN(4)-1) + "]"
		}
		parts = append(parts, step)
	}
	p := strings.Join(parts, ".")
	switch g.r.IntN(10) {
	case 0:
		p = "**." + g.name()
	case 1:
		p += "^(" + g.pick("", ">") + g.name() + ")"
	case 2:
		p += "{" + g.name() + ": " + g.expr(depth+1) + "}"
	}
	return p
}

func (g *exprGen) literal() string {
	return g.pick("1", "0", "-2.5", "0.1", "1e3", `"x"`, `"hw"`, `""`, "true", "false", "null", "[1,2,3]", `{"k": 1}`, "[]")
}

func (g *exprGen) expr(depth int) string {
	if depth > 3 {
		if g.r.IntN(2) == 0 {
			return g.literal()
		}
		return g.name()
	}
	switch g.r.IntN(17) {
	case 12:
		return "[" + g.expr(depth+1) + ", " + g.expr(depth+1) + "]" + g.pick("[0]", "[1]", "[-1]", "", "[$ > 0]") + g.pick(".$", "."+g.name(), "", ".$string()")
	case 13:
		return g.pick("$substring", "$substringBefore", "$substringAfter", "$contains", "$split", "$pad") + "(" + g.pick("s", "name", "host", `"a,b c"`, "order.id") + ", " +
			g.pick("1", "-2", `","`, `"o"`, `" "`, "3") + ")"
	case 14:
		return g.path(depth+1) + g.pick("#$i[$i < 2]", "@$v.$v", "#$i.$i", "[0].%", "^(>$)", "{$string($): $count($)}")
	case 15:
		return g.pick("$filter", "$map", "$sort") + "(" + g.path(depth+1) + ", function($a, $b) { " + g.pick("$a", "$b", "$a > $b", "$type($a) = 'number'", "$a.price") + " })"
	case 16:
		return "(" + g.expr(depth+1) + ")" + g.pick("[0]", ".$", "[]", "~> $count()", ".a")
	case 0, 1, 2:
		return g.path(depth)
	case 3:
		return g.literal()
	case 4, 5:
		return g.expr(depth+1) + " " + g.pick("+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "and", "or", "in") + " " + g.expr(depth+1)
	case 6:
		return g.pick("$count", "$sum", "$max", "$min", "$string", "$boolean", "$not", "$exists", "$type", "$keys", "$distinct",
			"$reverse", "$sort", "$uppercase", "$length", "$number", "$abs", "$floor", "$join", "$append", "$lookup") + "(" + g.expr(depth+1) + ")"
	case 7:
		return "(" + g.expr(depth+1) + " ? " + g.expr(depth+1) + " : " + g.expr(depth+1) + ")"
	case 8:
		return "[" + g.expr(depth+1) + ", " + g.expr(depth+1) + "]"
	case 9:
		return `{"k": ` + g.expr(depth+1) + `, "v": ` + g.expr(depth+1) + "}"
	case 10:
		return "$map(" + g.path(depth+1) + ", function($v, $i) { " + g.pick("$v", "$i", "$string($v)", "[$v, $i]", "$v.price") + " })"
	default:
		return g.path(depth) + "." + g.pick("$string()", "$count()", "($ & '!')", "{'n': $}", "[$]")
	}
}

// diffRandom returns n generated expressions.
func diffRandom(seed uint64, n int) []string {
	g := &exprGen{r: rand.New(rand.NewPCG(seed, 7))}
	out := make([]string, 0, n)
	for len(out) < n {
		out = append(out, g.expr(0))
	}
	return out
}

// diffClock is the instant $now() and $millis() read in the differential
// test (both implementations get it): 2024-03-01T10:20:30.123Z.
const diffClock = 1709288430123

// diffPictures builds expressions over the picture-string and date/time
// functions: numbers, integers, dates and timezones against pictures.
func diffPictures() []string {
	var out []string
	numbers := []string{"0", "1", "-1", "12345.678", "0.5", "-0.125", "1e6", "1234567.891", "0.0001234", "99.995", "-98765.4321", "3", "123456789", "2.5"}
	numPics := []string{"#,##0.00", "0.000", "#0.#", "000,000", "#,###", "#%", "0.00%", "#‰", "#,##0;(#,##0)", "$#,##0.00", "0", "#", "#.##",
		"###,##0.0##", "#,##,##0", ".00", "0,0,0", "#,##0.00 EUR", "+0.0;-0.0", "0.0#,#"}
	expPics := []string{"0.0e0", "00.00e00", "00e0", "#0.0#e0", "0.000e000"}
	for _, n := range numbers {
		for _, p := range numPics {
			out = append(out, fmt.Sprintf(`$formatNumber(%s, %q)`, n, p))
		}
		// jsonata-js never ends on zero or negative numbers with an exponent
		if !strings.HasPrefix(n, "-") && n != "0" {
			for _, p := range expPics {
				out = append(out, fmt.Sprintf(`$formatNumber(%s, %q)`, n, p))
			}
		}
	}
	out = append(out, `$formatNumber(1234.5, "#.##0,00", {"decimal-separator": ",", "grouping-separator": "."})`,
		`$formatNumber(1234.5, "###0.00", {"zero-digit": "٠"})`, `$formatNumber(0.25, "#pc", {"percent": "pc"})`,
		`$formatNumber(1, "#.#.#")`, `$formatNumber(1, "#%%")`, `$formatNumber(1, "#;#;#")`, `$formatNumber(1, "abc")`,
		`$formatNumber(1, "#,.0")`, `$formatNumber(1, "#,")`, `$formatNumber(1, "#,,#")`, `$formatNumber(1, "0#")`, `$formatNumber(1, "#.0#0")`,
		`$formatNumber(1, "#%e0")`, `$formatNumber(1, "#e")`, `$formatNumber(1, "#%‰")`, `$formatNumber(1, "#‰‰")`, `$formatNumber(1, "# #")`)
	for _, n := range []string{"0", "-7", "2.7", "255", "-255", "1e21", "35", "36"} {
		for _, r := range []string{"", ", 2", ", 16", ", 36", ", 1", ", 37", ", 8.5"} {
			out = append(out, fmt.Sprintf(`$formatBase(%s%s)`, n, r))
		}
	}
	ints := []string{"0", "1", "2", "3", "11", "12", "13", "21", "22", "23", "99", "100", "101", "111", "999", "1000", "1001", "1234", "12345",
		"100000", "1000000", "1234567", "-7", "2.7", "1e15"}
	intPics := []string{"1", "01", "001", "#,##0", "w", "W", "Ww", "i", "I", "a", "A", "1;o", "w;o", "Ww;o", "#0", "0001", "١", "#,##,##0", "0 000", "a;o"}
	for _, n := range ints {
		for _, p := range intPics {
			e := fmt.Sprintf(`$formatInteger(%s, %q)`, n, p)
			out = append(out, e)
			if !strings.HasPrefix(n, "-") && n != "2.7" && n != "1e15" {
				out = append(out, fmt.Sprintf(`$parseInteger(%s, %q)`, e, p))
			}
		}
	}
	out = append(out, `$formatInteger(1, "x")`, `$formatInteger(1, "1١")`, `$parseInteger("xyz", "1")`, `$parseInteger("one hundred and two", "w")`,
		`$parseInteger("XLII", "I")`, `$parseInteger("zz", "a")`, `$parseInteger("12th", "1;o")`, `$parseInteger("1,234,567", "#,##0")`)
	millis := []string{"0", "1709288430123", "-1", "951782400000", "1104537600000", "1735603200000", "1230681600000", "253402300799999",
		"-62135596800000", "1.5", "1700000000123"}
	datePics := []string{"[Y0001]-[M01]-[D01]", "[D1o] [MNn] [Y]", "[FNn], [D] [MNn,3-3] [Y]", "[H01]:[m01]:[s01].[f001]", "[h]:[m01] [P]",
		"[h]:[m01] [PN]", "[Y,2]-[M,2]", "[W]", "[w]", "[X]-W[W01]-[F1]", "[x]", "[d]", "[d,3]", "[YI]", "[Yw]", "[MNn,3]", "[Z]", "[z]",
		"[Z0000]", "[Z01:01t]", "[Z0]", "[C][E]", "[[[Y]]]", "[q]", "[YN]", "[MA]", "[Da]", "[mwo]", "[Dwo] of [MNn]", "[FN,2]", "[Y0001,2]",
		"[Y##01]", "[M#1]", "[f01]", "[H#]", "[Y]-[M]-[D] [ H : m ]", "[Z000]", "[Z00000]", "[ZN]",
		"[]", "[,]", "[,2]", "[Y,*-2]", "[Y,2-*]", "[M,3-5]", "[MNn,*-3]", "[D ,2]", "[Y01,x]", "]]", "[Da;o]", "[H,2-3]"}
	tzs := []string{"", `, "+0000"`, `, "+0530"`, `, "-0500"`, `, "-0530"`, `, "+1400"`, `, "0100"`}
	for i, m := range millis {
		out = append(out, fmt.Sprintf(`$fromMillis(%s)`, m))
		for j, p := range datePics {
			tz := tzs[(i+j)%len(tzs)]
			out = append(out, fmt.Sprintf(`$fromMillis(%s, %q%s)`, m, p, tz))
		}
	}
	for _, tz := range tzs[1:] {
		out = append(out, fmt.Sprintf(`$fromMillis(1709288430123, undefined%s)`, tz))
	}
	parsePics := []string{"[Y0001]-[M01]-[D01]", "[D1o] [MNn] [Y]", "[FNn], [D] [MNn,3-3] [Y]", "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]",
		"[h]:[m01] [P]", "[Y]-[d]", "[H01]:[m01]", "[D01]/[M01]/[Y0001] [H01]:[m01]:[s01] [Z]", "[Y0001]-[M01]-[D01] [z]", "[Dw] [MNn] [YI]",
		"[Y]", "[M]", "[H]", "[m]", "[X]-W[W01]-[F1]", "[Y]-[M]-[D] [m]", "[Y0001][M01][D01]"}
	for _, p := range parsePics {
		for _, m := range []string{"1709288430123", "951782400000", "1104537600000", "-62135596800000"} {
			out = append(out, fmt.Sprintf(`$fromMillis(%s, %q) ~> $toMillis(%q)`, m, p, p))
		}
	}
	for _, s := range []string{"2024-03-01T10:20:30Z", "2024-03-01T10:20:30.5+01:00", "2024-03-01", "2024", "2024-03", "2024-03-01T10:20:30",
		"2024-03-01T10:20:30.123456Z", "2024-03-01T10:20:30+0100", "2024-01-01-01", "2024-13-01", "2024-02-30", "2024-01-01T25:00:00Z",
		"2024-01-01T24:00:00Z", "2024-03-01Z", "2024-03-01+01:00", "0099-01-01", "1969-12-31T23:59:59.999Z", "not a date", ""} {
		out = append(out, fmt.Sprintf(`$toMillis(%q)`, s))
	}
	out = append(out, `$toMillis("13:45", "[H]:[m]")`, `$toMillis("2024", "[Y]") = $toMillis("2024-01-01")`, `$toMillis("March", "[MNn]")`,
		`$toMillis("march 2024", "[MNn] [Y]")`, `$toMillis("10:20", "[H]:[s]")`, `$toMillis("x", "[Y]")`, `$toMillis("2024-10", "[Y]-[d]")`,
		`$now()`, `$now("[Y]-[M]-[D]")`, `$now("[H]:[m]", "+0200")`, `$millis()`, `[$now(), $now()]`, `$millis() - $toMillis($now())`,
		`$fromMillis($millis(), "[FNn]")`, `$toMillis("12:00", "[H]:[m]") - $millis()`)
	return out
}

// diffRegexCases exercise regular expressions that can match the empty
// string, where jsonata-js raises D1004 on some paths only.
func diffRegexCases() []string {
	var out []string
	regexes := []string{`/[wd]*/`, `/a*/`, `/x*/`, `/\s*/`, `/b?/`, `/^a/`, `/$/`, `/\b/`, `/a|/`, `/(a)|(b)/`, `/l+/`}
	strs := []string{`"disk full"`, `""`, `"aab"`, `"baa"`, `"a b"`, `"hello"`}
	for _, re := range regexes {
		for _, s := range strs {
			out = append(out, fmt.Sprintf(`$contains(%s, %s)`, s, re), fmt.Sprintf(`$match(%s, %s)`, s, re),
				fmt.Sprintf(`$replace(%s, %s, "-")`, s, re), fmt.Sprintf(`$split(%s, %s)`, s, re))
			for _, l := range []string{"0", "1", "2"} {
				out = append(out, fmt.Sprintf(`$match(%s, %s, %s)`, s, re, l), fmt.Sprintf(`$replace(%s, %s, "-", %s)`, s, re, l),
					fmt.Sprintf(`$split(%s, %s, %s)`, s, re, l))
			}
		}
	}
	out = append(out, `$replace("aab", /a*/, function($m){1})`, `$replace("abc", /b/, function($m){ $m.start & "-" & $m.end })`,
		`/a*/("aab").next()`, `/a/("aab").next().next()`, `/x*/("abc")`)
	return out
}

// diffShapes builds expressions over the order/events document: sequences
// and flattening, predicates, order-by, grouping, object construction and
// higher-order functions.
func diffShapes() []string {
	var out []string
	paths := []string{"events", "order.items", "events[sev > 0]", "order.items[price < 50]", "events[type = 'alarm']", "order.items[tags]"}
	sorts := []string{"", "^(sev)", "^(>sev)", "^(host, >sev)", "^(price)", "^(>qty, sku)", "^(name)"}
	tails := []string{"", ".host", ".sku", "[0]", "[-1]", "[[0, 1]]", ".tags", ".tags[0]", ".$string()", "#$i[$i < 2]", "@$x.$x.host",
		"{host: $count($)}", "{type: sev}", "{sku: price * qty}", `.{"k": $keys($)}`, "[]", ".*", ".%.id"}
	for _, p := range paths {
		for _, s := range sorts {
			for _, t := range tails {
				out = append(out, p+s+t)
			}
		}
	}
	hofs := []string{
		`$map(%s, function($v, $i) { {"i": $i, "v": $v.sev ? $v.sev : $v.qty} })`,
		`$filter(%s, function($v, $i, $a) { $i < $count($a) - 1 })`,
		`$reduce(%s, function($acc, $v) { $acc & ($v.host ? $v.host : $v.sku) & ";" }, "")`,
		`$sort(%s, function($a, $b) { ($a.sev ? $a.sev : $a.price) > ($b.sev ? $b.sev : $b.price) })`,
		`$single(%s, function($v, $i) { $i = 1 })`,
		`$each(%s[0], function($v, $k) { $k })`,
		`$sift(%s[0], function($v, $k) { $type($v) = "string" })`,
		`$zip(%s.(sev ? sev : qty), %s.(host ? host : sku))`,
		`%s ~> $map(function($v) { $keys($v) }) ~> $distinct()`,
		`$merge(%s.{(host ? host : sku): true})`,
		`$spread(%s[0])`,
		`$count(%s) & "/" & $join(%s.(host ? host : sku), ",")`,
	}
	for _, p := range paths[:4] {
		for _, h := range hofs {
			out = append(out, strings.ReplaceAll(h, "%s", p))
		}
	}
	return out
}

// diffSequences builds expressions over the nested-arrays document: how
// sequences flatten, collapse to one value and keep arrays.
func diffSequences() []string {
	var out []string
	bases := []string{"list", "list[1]", "list[1][1]", "a.b.c", "a.b.c[2]", "[list]", "[[1,2],[3,[4,5]],6]", "$append(list, [[7]])", "list.$", "(list)", "[a.b.c, list]"}
	tails := []string{"", "[0]", "[-1]", "[]", ".$", "[0][0]", "[[0]]", "[$ > 2]", "[$type($) = 'array']", ".($)", ".[$]", "[1].$", "~> $count()",
		"~> $reverse()", "~> $sum()", "~> $type()", ".$string()", "{'k': $}", ".{'k': $}", "[0].$[0]"}
	for _, b := range bases {
		for _, t := range tails {
			out = append(out, b+t)
		}
	}
	return out
}

// diffRandomPictures builds random picture strings for the picture and
// date/time functions (positive numbers only: jsonata-js never ends on
// zero or negative numbers with an exponent picture).
func diffRandomPictures(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 11))
	word := func(alphabet []string, max int) string {
		var b strings.Builder
		for i := r.IntN(max) + 1; i > 0; i-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	numAlpha := []string{"#", "0", "0", "#", ",", ".", ";", "%", "‰", "e", "9", " ", "x", "-"}
	intAlpha := []string{"#", "0", "1", ",", ";", "o", "w", "W", "i", "I", "a", "A", " ", "9"}
	dateAlpha := []string{"[", "]", "Y", "M", "D", "d", "F", "W", "w", "X", "x", "H", "h", "m", "s", "f", "P", "Z", "z", "n", "N", "o", "0", "1", "#", ",", "-", "*", "I", "t", ":", " ", "/"}
	var out []string
	for len(out) < n {
		switch r.IntN(4) {
		case 0:
			out = append(out, fmt.Sprintf(`$formatNumber(%s, %q)`, []string{"1234.5678", "0.045", "7", "98765432.1"}[r.IntN(4)], word(numAlpha, 10)))
		case 1:
			p := word(intAlpha, 6)
			out = append(out, fmt.Sprintf(`$formatInteger(%s, %q)`, []string{"0", "7", "42", "1234", "1000001"}[r.IntN(5)], p),
				fmt.Sprintf(`$parseInteger(%q, %q)`, []string{"12", "1,234", "xlii", "twelve", "12th", "ab"}[r.IntN(6)], p))
		default:
			p := "[" + word(dateAlpha, 6) + "]" + word([]string{"", "-", " ", "[", "]"}, 2) + "[" + word(dateAlpha, 5) + "]"
			out = append(out, fmt.Sprintf(`$fromMillis(1709288430123, %q, %q)`, p, []string{"+0000", "+0530", "-0800"}[r.IntN(3)]),
				fmt.Sprintf(`$fromMillis(1709288430123, %q) ~> $toMillis(%q)`, p, p))
		}
	}
	return out
}

// diffRandomRegexes builds random regular expressions (in the syntax both
// JavaScript and RE2 run) applied by $match, $replace, $split and
// $contains to random strings.
func diffRandomRegexes(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 13))
	atoms := []string{"a", "b", `\d`, `\w`, `\s`, ".", "[ab]", "[^a]", "(a|b)", "x", "é", `\.`, "(?:ab)", "[a-c]"}
	quants := []string{"", "", "*", "+", "?", "{1,2}", "+?", "*?"}
	var out []string
	for len(out) < n {
		var re strings.Builder
		if r.IntN(5) == 0 {
			re.WriteString([]string{"^", `\b`, `\B`}[r.IntN(3)])
		}
		for i := r.IntN(3) + 1; i > 0; i-- {
			re.WriteString(atoms[r.IntN(len(atoms))] + quants[r.IntN(len(quants))])
		}
		if r.IntN(5) == 0 {
			re.WriteString("$")
		}
		flags := []string{"", "", "i", "m"}[r.IntN(4)]
		var str strings.Builder
		for i := r.IntN(12); i > 0; i-- {
			str.WriteString([]string{"a", "b", "1", " ", "x", "é", ".", "A", "\\n", "ab"}[r.IntN(10)])
		}
		lit := "/" + re.String() + "/" + flags
		s := `"` + str.String() + `"`
		switch r.IntN(5) {
		case 0:
			out = append(out, fmt.Sprintf(`$match(%s, %s)`, s, lit))
		case 1:
			out = append(out, fmt.Sprintf(`$replace(%s, %s, "<$0>")`, s, lit))
		case 2:
			out = append(out, fmt.Sprintf(`$split(%s, %s)`, s, lit))
		case 3:
			out = append(out, fmt.Sprintf(`$contains(%s, %s)`, s, lit))
		default:
			out = append(out, fmt.Sprintf(`$match(%s, %s, 1)`, s, lit))
		}
	}
	return out
}
