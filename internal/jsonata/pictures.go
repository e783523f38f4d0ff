package jsonata

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Picture strings (XPath and XQuery Functions and Operators 3.1, §4.7
// format-number and §4.6 format-integer) as jsonata-js 2.0.6 implements
// them, including its departures from the specification, so that results
// match the reference implementation character for character. Strings are
// handled as sequences of code points where JavaScript uses UTF-16 code
// units; the two agree for the Basic Multilingual Plane, where every
// picture character of the specification lives.

// pictureFunctions returns the picture-string and date/time functions.
func pictureFunctions() []fnDef {
	return []fnDef{
		{"formatNumber", "<n-so?:s>", 3, fnFormatNumber},
		{"formatBase", "<n-n?:s>", 2, fnFormatBase},
		{"formatInteger", "<n-s:s>", 2, fnFormatInteger},
		{"parseInteger", "<s-s:n>", 2, fnParseInteger},
		{"fromMillis", "<n-s?s?:s>", 3, fnFromMillis},
		{"toMillis", "<s-s?:n>", 2, fnToMillis},
		{"now", "<s?s?:s>", 2, fnNow},
	}
}

// runeIndex is String.prototype.indexOf on code points.
func runeIndex(hay []rune, needle string, from int) int {
	n := []rune(needle)
	if from < 0 {
		from = 0
	}
	for i := from; i+len(n) <= len(hay); i++ {
		if string(hay[i:i+len(n)]) == needle {
			return i
		}
	}
	return -1
}

// runeLastIndex is String.prototype.lastIndexOf on code points.
func runeLastIndex(hay []rune, needle string) int {
	n := []rune(needle)
	for i := len(hay) - len(n); i >= 0; i-- {
		if string(hay[i:i+len(n)]) == needle {
			return i
		}
	}
	return -1
}

// jsSubstring is String.prototype.substring: indexes clamped, swapped when
// reversed.
func jsSubstring(r []rune, a, b int) []rune {
	a = max(0, min(a, len(r)))
	b = max(0, min(b, len(r)))
	if a > b {
		a, b = b, a
	}
	return r[a:b]
}

// jsSliceFrom is String.prototype.slice(start) and jsSliceTo
// slice(0, end): negative indexes count from the end.
func jsSliceFrom(r []rune, start int) []rune {
	if start < 0 {
		start = max(0, len(r)+start)
	}
	return r[min(start, len(r)):]
}

func jsSliceTo(r []rune, end int) []rune {
	if end < 0 {
		end = max(0, len(r)+end)
	}
	return r[:min(end, len(r))]
}

func insertAt(r []rune, at int, s string) []rune {
	out := make([]rune, 0, len(r)+len(s))
	out = append(out, jsSliceTo(r, at)...)
	out = append(out, []rune(s)...)
	return append(out, jsSliceFrom(r, at)...)
}

// jsToFixed is Number.prototype.toFixed for a non-negative number: exact
// decimal rounding, ties away from zero.
func jsToFixed(x float64, dp int) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	if math.IsInf(x, 0) || math.Abs(x) >= 1e21 {
		return formatNumberJS(x)
	}
	dp = max(0, min(dp, 100))
	// Go rounds correctly too, ties to even: only a (near) tie needs the
	// exact decimal expansion
	if long := strconv.FormatFloat(x, 'f', dp+25, 64); !strings.HasPrefix(long[len(long)-25:], "5") {
		return strconv.FormatFloat(x, 'f', dp, 64)
	}
	exact := new(big.Float).SetPrec(2000).SetFloat64(x).Text('f', 1100)
	intPart, frac, _ := strings.Cut(exact, ".")
	frac += strings.Repeat("0", dp+1)
	keep, next := frac[:dp], frac[dp]
	digits := []byte(intPart + keep)
	if next >= '5' {
		i := len(digits) - 1
		for ; i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	s := string(digits)
	if dp == 0 {
		return s
	}
	return s[:len(s)-dp] + "." + s[len(s)-dp:]
}

// numberPicture is one analysed sub-picture of $formatNumber.
type numberPicture struct {
	prefix, suffix   string
	picture          string
	intGrouping      []int
	regularGrouping  int
	minInt, scaling  int
	fracGrouping     []int
	minFrac, maxFrac int
	minExp           int
}

func fnFormatNumber(_ call, args []any) (any, error) {
	value, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	picture, _ := args[1].(string)
	props := map[string]string{
		"decimal-separator":  ".",
		"grouping-separator": ",",
		"exponent-separator": "e",
		"infinity":           "Infinity",
		"minus-sign":         "-",
		"NaN":                "NaN",
		"percent":            "%",
		"per-mille":          "\u2030",
		"zero-digit":         "0",
		"digit":              "#",
		"pattern-separator":  ";",
	}
	if o, ok := asObject(args[2]); ok {
		for _, k := range o.orderedKeys() {
			v := o.get(k)
			if s, ok := v.(string); ok {
				props[k] = s
			} else if v != nil {
				s, err := toStringValue(v)
				if err != nil {
					return nil, err
				}
				props[k] = s
			}
		}
	}
	return formatNumber(value, picture, props)
}

func formatNumber(value float64, picture string, props map[string]string) (any, error) {
	dec, grp, exp := props["decimal-separator"], props["grouping-separator"], props["exponent-separator"]
	digit, percent, permille := props["digit"], props["percent"], props["per-mille"]
	minus, zero := props["minus-sign"], props["zero-digit"]
	var zeroCode rune = 0
	if z := []rune(zero); len(z) > 0 {
		zeroCode = z[0]
	}
	isFamily := func(r rune) bool { return r >= zeroCode && r < zeroCode+10 }
	isActive := func(r rune) bool {
		s := string(r)
		return isFamily(r) || s == dec || s == exp || s == grp || s == digit || s == props["pattern-separator"]
	}
	count := func(rs []rune, f func(rune) bool) int {
		n := 0
		for _, r := range rs {
			if f(r) {
				n++
			}
		}
		return n
	}
	isDigitOrOptional := func(r rune) bool { return isFamily(r) || string(r) == digit }

	var subs []string
	if sep := props["pattern-separator"]; sep == "" {
		for _, r := range picture {
			subs = append(subs, string(r))
		}
	} else {
		subs = strings.Split(picture, sep)
	}
	if len(subs) > 2 {
		return nil, newError("D3080", 0, "", nil)
	}
	type parts struct {
		prefix, suffix, active, mantissa, integer, fractional, sub []rune
		exponent                                                   []rune
		hasExponent                                                bool
	}
	split := func(sub []rune) parts {
		var p parts
		p.sub = sub
		pre := -1
		for i, r := range sub {
			if isActive(r) && string(r) != exp {
				pre = i
				break
			}
		}
		if pre < 0 {
			pre = len(sub) // jsonata-js fails here with a TypeError
		}
		p.prefix = sub[:pre]
		suf := len(sub)
		for i := len(sub) - 1; i >= 0; i-- {
			if isActive(sub[i]) && string(sub[i]) != exp {
				suf = i + 1
				break
			}
		}
		if suf < pre {
			suf = pre
		}
		p.suffix = sub[suf:]
		p.active = sub[len(p.prefix) : len(sub)-len(p.suffix)]
		expPos := runeIndex(sub, exp, len(p.prefix))
		if expPos == -1 || expPos > len(sub)-len(p.suffix) {
			p.mantissa = p.active
		} else {
			// jsonata-js indexes the active part with a position in the
			// whole sub-picture
			p.mantissa = jsSubstring(p.active, 0, expPos)
			p.exponent = jsSubstring(p.active, expPos+1, len(p.active))
			p.hasExponent = true
		}
		if dp := runeIndex(p.mantissa, dec, 0); dp == -1 {
			p.integer = p.mantissa
			p.fractional = p.suffix
		} else {
			p.integer = p.mantissa[:dp]
			p.fractional = p.mantissa[dp+len([]rune(dec)):]
		}
		return p
	}
	validate := func(p parts) error {
		code := ""
		sub := p.sub
		decimalPos := runeIndex(sub, dec, 0)
		if decimalPos != runeLastIndex(sub, dec) {
			code = "D3081"
		}
		if runeIndex(sub, percent, 0) != runeLastIndex(sub, percent) {
			code = "D3082"
		}
		if runeIndex(sub, permille, 0) != runeLastIndex(sub, permille) {
			code = "D3083"
		}
		if runeIndex(sub, percent, 0) != -1 && runeIndex(sub, permille, 0) != -1 {
			code = "D3084"
		}
		if count(p.mantissa, isDigitOrOptional) == 0 {
			code = "D3085"
		}
		if count(p.active, func(r rune) bool { return !isActive(r) }) > 0 {
			code = "D3086"
		}
		charAt := func(rs []rune, i int) string {
			if i < 0 || i >= len(rs) {
				return ""
			}
			return string(rs[i])
		}
		if decimalPos != -1 {
			if charAt(sub, decimalPos-1) == grp || charAt(sub, decimalPos+1) == grp {
				code = "D3087"
			}
		} else if charAt(p.integer, len(p.integer)-1) == grp {
			code = "D3088"
		}
		if runeIndex(sub, grp+grp, 0) != -1 {
			code = "D3089"
		}
		if pos := runeIndex(p.integer, digit, 0); pos != -1 && count(p.integer[:pos], isFamily) > 0 {
			code = "D3090"
		}
		if pos := runeLastIndex(p.fractional, digit); pos != -1 && count(p.fractional[pos:], isFamily) > 0 {
			code = "D3091"
		}
		if p.hasExponent && len(p.exponent) > 0 && (runeIndex(sub, percent, 0) != -1 || runeIndex(sub, permille, 0) != -1) {
			code = "D3092"
		}
		if p.hasExponent && (len(p.exponent) == 0 || count(p.exponent, func(r rune) bool { return !isFamily(r) }) > 0) {
			code = "D3093"
		}
		if code != "" {
			return newError(code, 0, "", nil)
		}
		return nil
	}
	groupingPositions := func(part, integer []rune, toLeft bool) []int {
		var out []int
		pos := runeIndex(part, grp, 0)
		for pos != -1 {
			var side []rune
			if toLeft {
				side = part[:min(pos, len(part))]
			} else {
				side = part[min(pos, len(part)):]
			}
			out = append(out, count(side, isDigitOrOptional))
			// jsonata-js looks for the next separator in the integer part,
			// whichever part it is scanning
			pos = runeIndex(integer, grp, pos+1)
		}
		return out
	}
	analyse := func(p parts) numberPicture {
		np := numberPicture{prefix: string(p.prefix), suffix: string(p.suffix), picture: string(p.sub)}
		np.intGrouping = groupingPositions(p.integer, p.integer, false)
		np.regularGrouping = regularPositions(np.intGrouping)
		np.fracGrouping = groupingPositions(p.fractional, p.integer, true)
		np.minInt = count(p.integer, isFamily)
		np.scaling = np.minInt
		np.minFrac = count(p.fractional, isFamily)
		np.maxFrac = count(p.fractional, isDigitOrOptional)
		if np.minInt == 0 && np.maxFrac == 0 {
			if p.hasExponent {
				np.minFrac, np.maxFrac = 1, 1
			} else {
				np.minInt = 1
			}
		}
		if p.hasExponent && np.minInt == 0 && runeIndex(p.integer, digit, 0) != -1 {
			np.minInt = 1
		}
		if np.minInt == 0 && np.minFrac == 0 {
			np.minFrac = 1
		}
		if p.hasExponent {
			np.minExp = count(p.exponent, isFamily)
		}
		return np
	}
	var ps []parts
	for _, s := range subs {
		ps = append(ps, split([]rune(s)))
	}
	for _, p := range ps {
		if err := validate(p); err != nil {
			return nil, err
		}
	}
	var pics []numberPicture
	for _, p := range ps {
		pics = append(pics, analyse(p))
	}
	if len(pics) == 1 {
		neg := pics[0]
		neg.prefix = minus + neg.prefix
		pics = append(pics, neg)
	}
	pic := pics[0]
	if !(value >= 0) {
		pic = pics[1]
	}
	adjusted := value
	if strings.Contains(pic.picture, percent) {
		adjusted = value * 100
	} else if strings.Contains(pic.picture, permille) {
		adjusted = value * 1000
	}
	mantissa := adjusted
	exponent, hasExponent := 0, false
	if pic.minExp != 0 {
		hasExponent = true
		maxM := math.Pow(10, float64(pic.scaling))
		minM := math.Pow(10, float64(pic.scaling-1))
		// jsonata-js loops forever on zero and negative numbers here
		for mantissa < minM && mantissa > 0 {
			mantissa *= 10
			exponent--
		}
		for mantissa > maxM && !math.IsInf(mantissa, 0) {
			mantissa /= 10
			exponent++
		}
	}
	rounded := roundHalfEven(mantissa, pic.maxFrac)
	makeString := func(v float64, dp int) []rune {
		s := jsToFixed(math.Abs(v), dp)
		if zero == "0" {
			return []rune(s)
		}
		out := make([]rune, 0, len(s))
		for _, r := range s {
			if r >= '0' && r <= '9' {
				out = append(out, zeroCode+r-'0')
			} else {
				out = append(out, r)
			}
		}
		return out
	}
	sv := makeString(rounded, pic.maxFrac)
	if i := runeIndex(sv, ".", 0); i == -1 {
		sv = append(sv, []rune(dec)...)
	} else {
		sv = append(append(append([]rune{}, sv[:i]...), []rune(dec)...), sv[i+1:]...)
	}
	for len(sv) > 0 && string(sv[0]) == zero {
		sv = sv[1:]
	}
	for len(sv) > 0 && string(sv[len(sv)-1]) == zero {
		sv = sv[:len(sv)-1]
	}
	decimalPos := runeIndex(sv, dec, 0)
	padLeft := pic.minInt - decimalPos
	padRight := pic.minFrac - (len(sv) - decimalPos - 1)
	if padLeft > 0 {
		sv = append([]rune(strings.Repeat(zero, padLeft)), sv...)
	}
	if padRight > 0 {
		sv = append(sv, []rune(strings.Repeat(zero, padRight))...)
	}
	decimalPos = runeIndex(sv, dec, 0)
	if pic.regularGrouping > 0 {
		groups := int(math.Floor(float64(decimalPos-1) / float64(pic.regularGrouping)))
		for g := 1; g <= groups; g++ {
			sv = insertAt(sv, decimalPos-g*pic.regularGrouping, grp)
		}
	} else {
		for _, pos := range pic.intGrouping {
			sv = insertAt(sv, decimalPos-pos, grp)
			decimalPos++
		}
	}
	decimalPos = runeIndex(sv, dec, 0)
	for _, pos := range pic.fracGrouping {
		sv = insertAt(sv, pos+decimalPos+1, grp)
	}
	decimalPos = runeIndex(sv, dec, 0)
	if !strings.Contains(pic.picture, dec) || decimalPos == len(sv)-1 {
		if len(sv) > 0 {
			sv = sv[:len(sv)-1]
		}
	}
	out := string(sv)
	if hasExponent {
		se := string(makeString(float64(exponent), 0))
		if pad := pic.minExp - len([]rune(se)); pad > 0 {
			se = strings.Repeat(zero, pad) + se
		}
		sign := ""
		if exponent < 0 {
			sign = minus
		}
		out += exp + sign + se
	}
	return pic.prefix + out + pic.suffix, nil
}

// regularPositions returns the interval of grouping positions when they
// are regular (every multiple of their greatest common divisor, up to
// their count, is one of them), else 0.
func regularPositions(positions []int) int {
	if len(positions) == 0 {
		return 0
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	factor := positions[0]
	for _, p := range positions[1:] {
		factor = gcd(factor, p)
	}
	for i := 1; i <= len(positions); i++ {
		found := false
		for _, p := range positions {
			if p == i*factor {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func fnFormatBase(_ call, args []any) (any, error) {
	value, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	value = roundHalfEven(value, 0)
	radix := 10.0
	if r, ok := num(args[1]); ok {
		radix = roundHalfEven(r, 0)
	}
	if !(radix >= 2 && radix <= 36) {
		return nil, newError("D3100", 0, "", radix)
	}
	return jsToStringRadix(value, int(radix)), nil
}

// jsToStringRadix is Number.prototype.toString(radix) for an integer
// value, with V8's digits: past 2^53 the digits a double cannot hold are
// zeros.
func jsToStringRadix(v float64, radix int) string {
	if radix == 10 || math.IsNaN(v) || math.IsInf(v, 0) {
		return formatNumberJS(v)
	}
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	neg := v < 0
	v = math.Abs(v)
	var out []byte
	r := float64(radix)
	for v/r >= 1<<53 {
		v /= r
		out = append(out, '0')
	}
	for {
		rem := math.Mod(v, r)
		out = append(out, digits[int(rem)])
		v = (v - rem) / r
		if !(v > 0) {
			break
		}
	}
	if neg {
		out = append(out, '-')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// Integer pictures (format-integer).

// maxPictureDigits bounds the digits a width modifier can ask for, so a
// hostile picture cannot build a huge string.
const maxPictureDigits = 10000

const (
	intDecimal = iota
	intLetters
	intRoman
	intWords
	intSequence
)

const (
	caseLower = iota + 1
	caseUpper
	caseTitle
)

type groupSep struct {
	position int
	char     string
}

// intPicture is an analysed integer picture.
type intPicture struct {
	primary   int
	textCase  int
	ordinal   bool
	zeroCode  rune
	mandatory int
	optional  int
	regular   bool
	sep       groupSep   // the separator when regular
	seps      []groupSep // the separators when not regular
	token     string     // a numbering sequence jsonata-js does not support
	n         int        // digits a date component is parsed with (0: any)
}

// decimalGroups are the zero digits of Unicode's decimal digit families in
// the Basic Multilingual Plane (as jsonata-js lists them).
var decimalGroups = [...]rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
	0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0,
	0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*intPicture, error) {
	f := &intPicture{primary: intDecimal, textCase: caseLower}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi >= 0 {
		primary = picture[:semi]
		if strings.HasPrefix(picture[semi+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.textCase, f.primary = caseUpper, intLetters
	case "a":
		f.primary = intLetters
	case "I":
		f.textCase, f.primary = caseUpper, intRoman
	case "i":
		f.primary = intRoman
	case "W":
		f.textCase, f.primary = caseUpper, intWords
	case "Ww":
		f.textCase, f.primary = caseTitle, intWords
	case "w":
		f.primary = intWords
	default:
		rs := []rune(primary)
		zeroCode := rune(-1)
		sepPos := 0
		var seps []groupSep
		for i := len(rs) - 1; i >= 0; i-- {
			cp := rs[i]
			isDigit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					isDigit = true
					f.mandatory++
					sepPos++
					if zeroCode == -1 {
						zeroCode = g
					} else if g != zeroCode {
						return nil, newError("D3131", 0, "", nil)
					}
					break
				}
			}
			if isDigit {
				continue
			}
			if cp == '#' {
				sepPos++
				f.optional++
			} else {
				seps = append(seps, groupSep{position: sepPos, char: string(cp)})
			}
		}
		if f.mandatory == 0 {
			f.primary = intSequence
			f.token = primary
			break
		}
		f.zeroCode = zeroCode
		if r := regularSeparators(seps); r > 0 {
			f.regular = true
			f.sep = groupSep{position: r, char: seps[0].char}
		} else {
			f.seps = seps
		}
	}
	return f, nil
}

func regularSeparators(seps []groupSep) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.char != seps[0].char {
			return 0
		}
	}
	positions := make([]int, len(seps))
	for i, s := range seps {
		positions[i] = s.position
	}
	return regularPositions(positions)
}

func fnFormatInteger(_ call, args []any) (any, error) {
	value, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	picture, _ := args[1].(string)
	f, err := analyseIntegerPicture(picture)
	if err != nil {
		return nil, err
	}
	return formatInteger(math.Floor(value), f)
}

// formatInteger formats an integer with an analysed picture.
func formatInteger(value float64, f *intPicture) (string, error) {
	negative := value < 0
	value = math.Abs(value)
	var out string
	switch f.primary {
	case intLetters:
		a := 'a'
		if f.textCase == caseUpper {
			a = 'A'
		}
		out = decimalToLetters(value, a)
	case intRoman:
		if value >= 1e9 {
			return "", &Error{Code: "D1001", Value: value, Message: "Number out of range for roman numerals: " + formatNumberJS(value)}
		}
		out = decimalToRoman(int(value))
		if f.textCase == caseUpper {
			out = strings.ToUpper(out)
		}
	case intWords:
		if math.IsNaN(value) || math.IsInf(value, 0) {
			return "", newError("D1001", 0, "", value)
		}
		out = numberToWords(value, f.ordinal)
		switch f.textCase {
		case caseUpper:
			out = strings.ToUpper(out)
		case caseLower:
			out = strings.ToLower(out)
		}
	case intDecimal:
		rs := []rune(formatNumberJS(value))
		if f.mandatory > maxPictureDigits {
			return "", &Error{Code: "D1001", Value: float64(f.mandatory),
				Message: "Number out of range: the picture asks for " + formatNumberJS(float64(f.mandatory)) + " digits"}
		}
		if pad := f.mandatory - len(rs); pad > 0 {
			rs = append([]rune(strings.Repeat("0", pad)), rs...)
		}
		if f.zeroCode != '0' {
			for i := range rs {
				rs[i] += f.zeroCode - '0'
			}
		}
		if f.regular {
			n := (len(rs) - 1) / f.sep.position
			for i := n; i > 0; i-- {
				rs = insertSubstr(rs, len(rs)-i*f.sep.position, f.sep.char)
			}
		} else {
			for i := len(f.seps) - 1; i >= 0; i-- {
				rs = insertSubstr(rs, len(rs)-f.seps[i].position, f.seps[i].char)
			}
		}
		out = string(rs)
		if f.ordinal {
			suffix := ""
			if len(rs) > 0 {
				switch rs[len(rs)-1] {
				case '1':
					suffix = "st"
				case '2':
					suffix = "nd"
				case '3':
					suffix = "rd"
				}
			}
			if suffix == "" || (len(rs) > 1 && rs[len(rs)-2] == '1') {
				suffix = "th"
			}
			out += suffix
		}
	case intSequence:
		return "", newError("D3130", 0, "", f.token)
	}
	if negative {
		out = "-" + out
	}
	return out, nil
}

// insertSubstr inserts s at pos as jsonata-js does with substr: a negative
// pos keeps nothing before s and the last -pos characters after it.
func insertSubstr(rs []rune, pos int, s string) []rune {
	var before, after []rune
	if pos >= 0 {
		before, after = rs[:min(pos, len(rs))], rs[min(pos, len(rs)):]
	} else {
		after = rs[max(0, len(rs)+pos):]
	}
	out := make([]rune, 0, len(rs)+len(s))
	out = append(out, before...)
	out = append(out, []rune(s)...)
	return append(out, after...)
}

var (
	fewWords     = [...]string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords = [...]string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords  = [...]string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudes   = [...]string{"Thousand", "Million", "Billion", "Trillion"}
)

// numberToWords spells a non-negative integer in English words.
func numberToWords(value float64, ordinal bool) string {
	var lookup func(n float64, prev, ord bool) string
	lookup = func(n float64, prev, ord bool) string {
		var words string
		switch {
		case n <= 19:
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(n)]
			} else {
				words += fewWords[int(n)]
			}
		case n < 100:
			tens := int(n / 10)
			rem := math.Mod(n, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case n < 1000:
			hundreds := int(n / 100)
			rem := math.Mod(n, 100)
			if prev {
				words = ", "
			}
			words += fewWords[hundreds] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(n) / 3))
			if mag > len(magnitudes) {
				mag = len(magnitudes)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(n / factor)
			rem := n - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudes[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(value, false, ordinal)
}

// wordValue maps the lower-case number words to their values.
func wordValues() map[string]float64 {
	m := map[string]float64{}
	for i, w := range fewWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range ordinalWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		m[lw] = float64((i + 2) * 10)
		m[lw[:len(lw)-1]+"ieth"] = float64((i + 2) * 10)
	}
	m["hundredth"] = 100
	for i, w := range magnitudes {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		m[lw] = v
		m[lw+"th"] = v
	}
	return m
}

// wordKeys lists the number words in jsonata-js's order (for the regular
// expression that parses them).
func wordKeys() []string {
	var keys []string
	for _, w := range fewWords {
		keys = append(keys, strings.ToLower(w))
	}
	for _, w := range ordinalWords {
		keys = append(keys, strings.ToLower(w))
	}
	for _, w := range decadeWords {
		lw := strings.ToLower(w)
		keys = append(keys, lw, lw[:len(lw)-1]+"ieth")
	}
	keys = append(keys, "hundredth")
	for _, w := range magnitudes {
		lw := strings.ToLower(w)
		keys = append(keys, lw, lw+"th")
	}
	return keys
}

// wordsToNumber reads a number written in English words.
func wordsToNumber(text string) float64 {
	values := wordValues()
	parts := splitWords(text)
	segs := []float64{0}
	for _, part := range parts {
		v, ok := values[part]
		if !ok {
			v = math.NaN()
		}
		if ok && v < 100 {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			segs[len(segs)-1] *= v
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

// splitWords is text.split(/,\s|\sand\s|[\s\\-]/).
func splitWords(text string) []string {
	rs := []rune(text)
	isSpace := func(r rune) bool { return strings.ContainsRune(jsWhiteSpace, r) }
	var out []string
	start := 0
	for i := 0; i < len(rs); {
		switch {
		case rs[i] == ',' && i+1 < len(rs) && isSpace(rs[i+1]):
			out = append(out, string(rs[start:i]))
			i += 2
			start = i
		case isSpace(rs[i]) && i+4 < len(rs) && string(rs[i+1:i+4]) == "and" && isSpace(rs[i+4]):
			out = append(out, string(rs[start:i]))
			i += 5
			start = i
		case isSpace(rs[i]) || rs[i] == '\\' || rs[i] == '-':
			out = append(out, string(rs[start:i]))
			i++
			start = i
		default:
			i++
		}
	}
	return append(out, string(rs[start:]))
}

// jsWhiteSpace is what JavaScript's \s matches.
const jsWhiteSpace = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

var romanNumerals = [...]struct {
	value int
	text  string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func decimalToRoman(v int) string {
	var b strings.Builder
	for _, n := range romanNumerals {
		for v >= n.value {
			b.WriteString(n.text)
			v -= n.value
		}
	}
	return b.String()
}

func romanToDecimal(roman string) float64 {
	values := map[rune]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}
	rs := []rune(roman)
	dec, mx := 0.0, 1.0
	for i := len(rs) - 1; i >= 0; i-- {
		v, ok := values[rs[i]]
		if !ok {
			return math.NaN()
		}
		if v < mx {
			dec -= v
		} else {
			mx = v
			dec += v
		}
	}
	return dec
}

func decimalToLetters(v float64, a rune) string {
	var letters []rune
	for v > 0 {
		letters = append([]rune{rune(math.Mod(v-1, 26)) + a}, letters...)
		v = math.Floor((v - 1) / 26)
	}
	return string(letters)
}

func lettersToDecimal(letters string, a rune) float64 {
	units := utf16Units(letters)
	dec := 0.0
	for i := range units {
		dec += float64(rune(units[len(units)-i-1])-a+1) * math.Pow(26, float64(i))
	}
	return dec
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

// jsParseInt is parseInt(s) (radix 10): NaN when s does not start with
// an integer.
func jsParseInt(s string) float64 {
	s = strings.TrimLeft(s, jsWhiteSpace)
	sign := 1.0
	if strings.HasPrefix(s, "-") {
		sign, s = -1, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	if err != nil {
		return math.NaN()
	}
	return sign * v
}

func fnParseInteger(_ call, args []any) (any, error) {
	value, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	picture, _ := args[1].(string)
	f, err := analyseIntegerPicture(picture)
	if err != nil {
		return nil, err
	}
	return parseIntegerWith(value, f)
}

// parseIntegerWith reads value with an analysed integer picture (as
// jsonata-js does: without checking it against the picture first).
func parseIntegerWith(value string, f *intPicture) (float64, error) {
	switch f.primary {
	case intLetters:
		a := 'a'
		if f.textCase == caseUpper {
			a = 'A'
		}
		return lettersToDecimal(value, a), nil
	case intRoman:
		if f.textCase != caseUpper {
			value = strings.ToUpper(value)
		}
		return romanToDecimal(value), nil
	case intWords:
		return wordsToNumber(strings.ToLower(value)), nil
	case intSequence:
		return 0, newError("D3130", 0, "", f.token)
	}
	digits := value
	if f.ordinal {
		u := []rune(digits)
		digits = string(u[:max(0, len(u)-2)])
	}
	if f.regular {
		digits = strings.ReplaceAll(digits, ",", "")
	} else {
		for _, s := range f.seps {
			digits = strings.ReplaceAll(digits, s.char, "")
		}
	}
	if f.zeroCode != '0' {
		rs := []rune(digits)
		for i := range rs {
			rs[i] = rs[i] - f.zeroCode + '0'
			if rs[i] < 0 {
				return 0, &Error{Code: "D3137", Value: value, Message: "Invalid code point in $parseInteger: " + value}
			}
		}
		digits = string(rs)
	}
	return jsParseInt(digits), nil
}
