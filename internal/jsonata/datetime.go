package jsonata

import (
	"math"
	"regexp"
	"strings"
	"time"
)

// Date/time pictures (XPath and XQuery F&O 3.1 §9.8 format-dateTime) and
// ISO 8601 timestamps, as jsonata-js 2.0.6 implements them in $fromMillis,
// $toMillis and $now. Timestamps are milliseconds since the epoch (a
// float64, NaN for an invalid date as in JavaScript); every component is
// computed in UTC shifted by the timezone offset.

// dtMarker is one part of an analysed date/time picture: a literal, or a
// variable marker such as [Y0001] or [MNn,3-3].
type dtMarker struct {
	literal   bool
	value     string // the literal
	component string // the component specifier (one character)
	pres1     string
	pres2     string
	names     int // 0, or caseLower/caseUpper/caseTitle for names
	format    *intPicture
	hasWidth  bool
	minWidth  float64 // NaN when absent
	maxWidth  float64 // NaN when absent
	n         int     // digits of a Y, M or D component (-1: any); see §9.8.4.4
	hasN      bool
}

var defaultPresentation = map[string]string{
	"Y": "1", "M": "1", "D": "1", "d": "1", "F": "n", "W": "1", "w": "1", "X": "1", "x": "1", "H": "1", "h": "1",
	"P": "n", "m": "01", "s": "01", "f": "1", "Z": "01:01", "z": "01:01", "C": "n", "E": "n",
}

const isoPicture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

func analyseDateTimePicture(picture string) ([]*dtMarker, error) {
	var parts []*dtMarker
	rs := []rune(picture)
	addLiteral := func(start, end int) {
		if end > start {
			lit := strings.ReplaceAll(string(rs[start:end]), "]]", "]")
			parts = append(parts, &dtMarker{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(rs) {
		if rs[pos] != '[' {
			pos++
			continue
		}
		if pos+1 < len(rs) && rs[pos+1] == '[' {
			addLiteral(start, pos)
			parts = append(parts, &dtMarker{literal: true, value: "["})
			pos += 2
			start = pos
			continue
		}
		addLiteral(start, pos)
		start = pos
		end := runeIndex(rs, "]", start)
		if end == -1 {
			return nil, newError("D3135", 0, "", nil)
		}
		marker := strings.Join(strings.FieldsFunc(string(rs[start+1:end]), func(r rune) bool {
			return strings.ContainsRune(jsWhiteSpace, r)
		}), "")
		mr := []rune(marker)
		def := &dtMarker{minWidth: math.NaN(), maxWidth: math.NaN()}
		if len(mr) > 0 {
			def.component = string(mr[0])
		}
		var presMod []rune
		if comma := runeLastIndex(mr, ","); comma != -1 {
			widthMod := string(mr[comma+1:])
			def.hasWidth = true
			lo, hi, dash := strings.Cut(widthMod, "-")
			def.minWidth = parseWidth(lo, true)
			def.maxWidth = parseWidth(hi, dash)
			presMod = jsSubstring(mr, 1, comma)
		} else if len(mr) > 0 {
			presMod = mr[1:]
		}
		switch {
		case len(presMod) == 1:
			def.pres1 = string(presMod)
		case len(presMod) > 1:
			last := presMod[len(presMod)-1]
			if strings.ContainsRune("atco", last) {
				def.pres2 = string(last)
				def.pres1 = string(presMod[:len(presMod)-1])
			} else {
				def.pres1 = string(presMod)
			}
		default:
			p, ok := defaultPresentation[def.component]
			if !ok {
				return nil, newError("D3132", 0, "", def.component)
			}
			def.pres1 = p
		}
		switch {
		case strings.HasPrefix(def.pres1, "n"):
			def.names = caseLower
		case strings.HasPrefix(def.pres1, "N"):
			if strings.HasPrefix(def.pres1[1:], "n") {
				def.names = caseTitle
			} else {
				def.names = caseUpper
			}
		case def.component != "" && strings.Contains("YMDdFWwXxHhmsf", def.component):
			pattern := def.pres1
			if def.pres2 != "" {
				pattern += ";" + def.pres2
			}
			f, err := analyseIntegerPicture(pattern)
			if err != nil {
				return nil, err
			}
			def.format = f
			if def.hasWidth && !math.IsNaN(def.minWidth) && float64(f.mandatory) < def.minWidth {
				f.mandatory = int(def.minWidth)
			}
			if strings.Contains("YMD", def.component) {
				def.hasN = true
				def.n = -1
				if def.hasWidth && !math.IsNaN(def.maxWidth) {
					def.n = int(def.maxWidth)
					f.mandatory = def.n
				} else if w := f.mandatory + f.optional; w >= 2 {
					def.n = w
				}
			}
		}
		if def.component == "Z" || def.component == "z" {
			f, err := analyseIntegerPicture(def.pres1)
			if err != nil {
				return nil, err
			}
			def.format = f
		}
		parts = append(parts, def)
		start = end + 1
		pos = end + 1
	}
	addLiteral(start, pos)
	return parts, nil
}

// parseWidth reads a width modifier: absent and "*" are NaN (no limit).
func parseWidth(s string, present bool) float64 {
	if !present || s == "*" {
		return math.NaN()
	}
	return jsParseInt(s)
}

const millisPerDay = 86400000

// jsDateUTC is JavaScript's Date.UTC(y, m, d, h, mi, s, ms) (month from
// 0, years 0-99 meaning 1900-1999), NaN out of the representable range.
func jsDateUTC(y, mo, d, h, mi, s, ms float64) float64 {
	for _, v := range []float64{y, mo, d, h, mi, s, ms} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
	}
	y, mo, d = math.Trunc(y), math.Trunc(mo), math.Trunc(d)
	if y >= 0 && y <= 99 {
		y += 1900
	}
	ym := y + math.Floor(mo/12)
	mn := math.Mod(mo, 12)
	if mn < 0 {
		mn += 12
	}
	if math.Abs(ym) > 400000 {
		return math.NaN()
	}
	day := float64(daysFromCivil(int64(ym), int64(mn)+1)) + d - 1
	t := day*millisPerDay + math.Trunc(h)*3600000 + math.Trunc(mi)*60000 + math.Trunc(s)*1000 + math.Trunc(ms)
	return timeClip(t)
}

// daysFromCivil is the number of days from 1970-01-01 to the first day of
// month m (1-12) of year y.
func daysFromCivil(y, m int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp + 2) / 5
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// timeClip is JavaScript's TimeClip: integral milliseconds within ±8.64e15.
func timeClip(t float64) float64 {
	if math.IsNaN(t) || math.IsInf(t, 0) || math.Abs(t) > 8.64e15 {
		return math.NaN()
	}
	return math.Trunc(t) + 0 // no negative zero
}

// jsDate is a JavaScript Date: a timestamp that may be invalid (NaN).
type jsDate float64

func (d jsDate) valid() bool { return !math.IsNaN(float64(d)) }

func (d jsDate) t() time.Time { return time.UnixMilli(int64(d)).UTC() }

func (d jsDate) field(f func(time.Time) int) float64 {
	if !d.valid() {
		return math.NaN()
	}
	return float64(f(d.t()))
}

// startOfFirstWeek is the millis of the Monday starting week 1 of the
// month (ISO 8601: the week holding the first Thursday).
func startOfFirstWeek(year, month float64) float64 {
	first := jsDateUTC(year, month, 1, 0, 0, 0, 0)
	dow := jsDate(first).field(func(t time.Time) int { return int(t.Weekday()) })
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return first + (8-dow)*millisPerDay
	}
	return first - (dow-1)*millisPerDay
}

func nextMonth(y, m float64) (float64, float64) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func previousMonth(y, m float64) (float64, float64) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func deltaWeeks(start, end float64) float64 { return (end-start)/(millisPerDay*7) + 1 }

// dtValue is a component's value: a number, or a string (am/pm, ISO), or
// undefined.
type dtValue struct {
	num     float64
	str     string
	isStr   bool
	defined bool
}

func numValue(f float64) dtValue { return dtValue{num: f, defined: true} }

func strValue(s string) dtValue { return dtValue{str: s, isStr: true, defined: true} }

// fragment is the value of one component of a date.
func fragment(d jsDate, component string) dtValue {
	year := d.field(func(t time.Time) int { return t.Year() })
	month := d.field(func(t time.Time) int { return int(t.Month()) - 1 })
	date := d.field(func(t time.Time) int { return t.Day() })
	switch component {
	case "Y":
		return numValue(year)
	case "M":
		return numValue(month + 1)
	case "D":
		return numValue(date)
	case "d":
		today := jsDateUTC(year, month, date, 0, 0, 0, 0)
		firstJan := jsDateUTC(year, 0, 1, 0, 0, 0, 0)
		return numValue((today-firstJan)/millisPerDay + 1)
	case "F":
		dow := d.field(func(t time.Time) int { return int(t.Weekday()) })
		if dow == 0 {
			dow = 7
		}
		return numValue(dow)
	case "W":
		start := startOfFirstWeek(year, 0)
		today := jsDateUTC(year, month, date, 0, 0, 0, 0)
		week := deltaWeeks(start, today)
		if week > 52 {
			if today >= startOfFirstWeek(year+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(year-1, 0), today)
		}
		return numValue(math.Floor(week))
	case "w":
		start := startOfFirstWeek(year, month)
		today := jsDateUTC(year, month, date, 0, 0, 0, 0)
		week := deltaWeeks(start, today)
		if week > 4 {
			ny, nm := nextMonth(year, month)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := previousMonth(year, month)
			week = deltaWeeks(startOfFirstWeek(py, pm), today)
		}
		return numValue(math.Floor(week))
	case "X":
		now := float64(d)
		switch {
		case now < startOfFirstWeek(year, 0):
			return numValue(year - 1)
		case now >= startOfFirstWeek(year+1, 0):
			return numValue(year + 1)
		}
		return numValue(year)
	case "x":
		now := float64(d)
		ny, nm := nextMonth(year, month)
		switch {
		case now < startOfFirstWeek(year, month):
			_, pm := previousMonth(year, month)
			return numValue(pm + 1)
		case now >= startOfFirstWeek(ny, nm):
			return numValue(nm + 1)
		}
		return numValue(month + 1)
	case "H":
		return numValue(d.field(func(t time.Time) int { return t.Hour() }))
	case "h":
		h := math.Mod(d.field(func(t time.Time) int { return t.Hour() }), 12)
		if h == 0 {
			h = 12
		}
		return numValue(h)
	case "P":
		if d.field(func(t time.Time) int { return t.Hour() }) >= 12 {
			return strValue("pm")
		}
		return strValue("am")
	case "m":
		return numValue(d.field(func(t time.Time) int { return t.Minute() }))
	case "s":
		return numValue(d.field(func(t time.Time) int { return t.Second() }))
	case "f":
		return numValue(d.field(func(t time.Time) int { return t.Nanosecond() / 1e6 }))
	case "C", "E":
		return strValue("ISO")
	}
	return dtValue{}
}

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

var dayNames = [...]string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// formatDateTime is $fromMillis(millis, picture, timezone); tz is the
// timezone argument ("" for none).
func formatDateTime(millis float64, picture string, hasPicture bool, tz string, hasTZ bool) (string, error) {
	offsetHours, offsetMinutes := 0.0, 0.0
	if hasTZ {
		offset := jsParseInt(tz)
		offsetHours = math.Floor(offset / 100)
		offsetMinutes = math.Mod(offset, 100)
	}
	if !hasPicture {
		picture = isoPicture
	}
	parts, err := analyseDateTimePicture(picture)
	if err != nil {
		return "", err
	}
	offsetMillis := (60*offsetHours + offsetMinutes) * 60 * 1000
	date := jsDate(timeClip(millis + offsetMillis))
	var b strings.Builder
	for _, p := range parts {
		if p.literal {
			b.WriteString(p.value)
			continue
		}
		s, err := formatComponent(date, p, offsetHours, offsetMinutes)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatComponent(date jsDate, p *dtMarker, offsetHours, offsetMinutes float64) (string, error) {
	v := fragment(date, p.component)
	switch {
	case p.component != "" && strings.Contains("YMDdFWwXxHhms", p.component):
		n := v.num
		if p.component == "Y" && (!p.hasN || p.n != -1) {
			if p.hasN {
				n = math.Mod(n, math.Pow(10, float64(p.n)))
			} else {
				n = math.NaN()
			}
		}
		if p.names != 0 {
			var name string
			switch p.component {
			case "M", "x":
				if !(n >= 1 && n <= 12) {
					return "", &Error{Code: "D3137", Value: n, Message: "Invalid month in date/time picture"}
				}
				name = monthNames[int(n)-1]
			case "F":
				if !(n >= 1 && n <= 7) {
					return "", &Error{Code: "D3137", Value: n, Message: "Invalid day in date/time picture"}
				}
				name = dayNames[int(n)]
			default:
				return "", newError("D3133", 0, "", p.component)
			}
			switch p.names {
			case caseUpper:
				name = strings.ToUpper(name)
			case caseLower:
				name = strings.ToLower(name)
			}
			if p.hasWidth && !math.IsNaN(p.maxWidth) && float64(len(name)) > p.maxWidth {
				name = name[:max(0, int(p.maxWidth))]
			}
			return name, nil
		}
		return formatInteger(n, p.format)
	case p.component == "f":
		if p.format == nil {
			// [fn]: jsonata-js fails with a TypeError
			return "", newError("D3133", 0, "", p.component)
		}
		return formatInteger(v.num, p.format)
	case p.component == "Z" || p.component == "z":
		offset := offsetHours*100 + offsetMinutes
		var s string
		if p.format.regular {
			var err error
			if s, err = formatInteger(offset, p.format); err != nil {
				return "", err
			}
		} else {
			switch digits := p.format.mandatory; {
			case p.format.primary == intDecimal && (digits == 1 || digits == 2):
				h, err := formatInteger(offsetHours, p.format)
				if err != nil {
					return "", err
				}
				s = h
				if offsetMinutes != 0 {
					m, _ := formatInteger(offsetMinutes, &intPicture{primary: intDecimal, zeroCode: '0', mandatory: 2})
					s += ":" + m
				}
			case p.format.primary == intDecimal && (digits == 3 || digits == 4):
				var err error
				if s, err = formatInteger(offset, p.format); err != nil {
					return "", err
				}
			default:
				return "", newError("D3134", 0, "", float64(digits))
			}
		}
		if offset >= 0 {
			s = "+" + s
		}
		if p.component == "z" {
			s = "GMT" + s
		}
		if offset == 0 && p.pres2 == "t" {
			s = "Z"
		}
		return s, nil
	case p.component == "P":
		if p.names == caseUpper {
			return strings.ToUpper(v.str), nil
		}
		return v.str, nil
	}
	if !v.defined {
		return "undefined", nil
	}
	return v.str, nil
}

// dtMatcher parses one part of a timestamp.
type dtMatcher struct {
	regex     string
	component string
	parse     func(string) dtValue
}

func integerMatcher(f *intPicture) (*dtMatcher, error) {
	m := &dtMatcher{}
	upper := f.textCase == caseUpper
	occurrences := "+"
	if f.n > 0 {
		if f.optional == 0 {
			occurrences = "{" + itoa(f.n) + "}"
		} else {
			occurrences = "{" + itoa(f.n-f.optional) + "," + itoa(f.n) + "}"
		}
	}
	switch f.primary {
	case intLetters:
		m.regex = "[a-z]+"
		a := 'a'
		if upper {
			m.regex, a = "[A-Z]+", 'A'
		}
		m.parse = func(s string) dtValue { return numValue(lettersToDecimal(s, a)) }
	case intRoman:
		m.regex = "[mdclxvi]+"
		if upper {
			m.regex = "[MDCLXVI]+"
		}
		m.parse = func(s string) dtValue {
			if !upper {
				s = strings.ToUpper(s)
			}
			return numValue(romanToDecimal(s))
		}
	case intWords:
		m.regex = "(?:" + strings.Join(append(wordKeys(), "and", `[\-, ]`), "|") + ")+"
		m.parse = func(s string) dtValue { return numValue(wordsToNumber(strings.ToLower(s))) }
	case intDecimal:
		m.regex = "[0-9]" + occurrences
		if f.ordinal {
			m.regex += "(?:th|st|nd|rd)"
		}
		m.parse = func(s string) dtValue {
			v, err := parseIntegerWith(s, f)
			if err != nil {
				return numValue(math.NaN())
			}
			return numValue(v)
		}
	case intSequence:
		return nil, newError("D3130", 0, "", f.token)
	}
	return m, nil
}

func dateTimeMatchers(parts []*dtMarker) ([]*dtMatcher, error) {
	out := make([]*dtMatcher, 0, len(parts))
	for _, part := range parts {
		var m *dtMatcher
		switch {
		case part.literal:
			m = &dtMatcher{regex: regexp.QuoteMeta(part.value)}
		case part.component == "Z" || part.component == "z":
			m = &dtMatcher{}
			var sep string
			hasSep := part.format.regular
			if hasSep {
				sep = part.format.sep.char
			}
			if part.component == "z" {
				m.regex = "GMT"
			}
			m.regex += "[-+][0-9]+"
			if hasSep {
				m.regex += regexp.QuoteMeta(sep) + "[0-9]+"
			}
			z := part.component == "z"
			m.parse = func(v string) dtValue {
				if z {
					v = v[min(3, len(v)):]
				}
				var h, mi float64
				if hasSep {
					i := strings.Index(v, sep)
					h = jsParseInt(v[:max(i, 0)])
					mi = jsParseInt(v[i+len(sep):])
				} else if len(v)-1 <= 2 {
					h = jsParseInt(v)
				} else {
					h = jsParseInt(v[:3])
					mi = jsParseInt(v[3:])
				}
				return numValue(h*60 + mi)
			}
		case part.format != nil:
			f := *part.format
			f.n = 0
			if part.hasN {
				f.n = part.n
			}
			var err error
			if m, err = integerMatcher(&f); err != nil {
				return nil, err
			}
		default:
			m = &dtMatcher{regex: "[a-zA-Z]+"}
			lookup := map[string]dtValue{}
			truncate := func(name string) string {
				if part.hasWidth && !math.IsNaN(part.maxWidth) && part.maxWidth > 0 && float64(len(name)) > part.maxWidth {
					return name[:int(part.maxWidth)]
				}
				return name
			}
			switch part.component {
			case "M", "x":
				for i, name := range monthNames {
					lookup[truncate(name)] = numValue(float64(i + 1))
				}
			case "F":
				for i, name := range dayNames[1:] {
					lookup[truncate(name)] = numValue(float64(i + 1))
				}
			case "P":
				lookup = map[string]dtValue{"am": numValue(0), "AM": numValue(0), "pm": numValue(1), "PM": numValue(1)}
			default:
				return nil, newError("D3133", 0, "", part.component)
			}
			m.parse = func(v string) dtValue { return lookup[v] }
		}
		m.component = part.component
		out = append(out, m)
	}
	return out, nil
}

// parseDateTime is $toMillis(timestamp, picture): the timestamp's millis,
// NaN for an impossible date, undefined (ok false) when it does not match
// the picture.
func parseDateTime(timestamp, picture string, now jsDate) (float64, bool, error) {
	parts, err := analyseDateTimePicture(picture)
	if err != nil {
		return 0, false, err
	}
	matchers, err := dateTimeMatchers(parts)
	if err != nil {
		return 0, false, err
	}
	var full strings.Builder
	full.WriteString("(?i)^")
	for _, m := range matchers {
		full.WriteString("(" + m.regex + ")")
	}
	full.WriteString("$")
	re, err := regexp.Compile(full.String())
	if err != nil {
		return 0, false, &Error{Code: "D3136", Value: picture, Message: "The date/time picture string cannot be used to parse timestamps: " + err.Error()}
	}
	info := re.FindStringSubmatch(timestamp)
	if info == nil {
		return 0, false, nil
	}
	comps := map[string]dtValue{}
	found := false
	for i := 1; i < len(info); i++ {
		if m := matchers[i-1]; m.parse != nil {
			comps[m.component] = m.parse(info[i])
			found = true
		}
	}
	if !found {
		return 0, false, nil
	}
	truthy := func(c string) bool {
		v := comps[c]
		if !v.defined {
			return false
		}
		if v.isStr {
			return v.str != ""
		}
		return v.num != 0 && !math.IsNaN(v.num)
	}
	maskOf := func(letters string) int {
		mask := 0
		for _, c := range letters {
			mask <<= 1
			if truthy(string(c)) {
				mask++
			}
		}
		return mask
	}
	isType := func(typ, mask int) bool { return ^typ&mask == 0 && typ&mask != 0 }
	const (
		dmA, dmB, dmC, dmD = 161, 130, 84, 72 // over YXMxWwdD
		tmA, tmB           = 23, 47           // over PHhmsf
	)
	mask := maskOf("YXMxWwdD")
	dateA := isType(dmA, mask)
	dateB := !dateA && isType(dmB, mask)
	dateC := isType(dmC, mask)
	dateD := !dateC && isType(dmD, mask)
	mask = maskOf("PHhmsf")
	timeA := isType(tmA, mask)
	timeB := !timeA && isType(tmB, mask)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "YD"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	startSpecified, endSpecified := false, false
	for _, r := range dateComps + timeComps {
		c := string(r)
		if !comps[c].defined {
			if startSpecified {
				if strings.Contains("MDd", c) {
					comps[c] = numValue(1)
				} else {
					comps[c] = numValue(0)
				}
				endSpecified = true
			} else {
				comps[c] = fragment(now, c)
			}
			continue
		}
		startSpecified = true
		if endSpecified {
			return 0, false, newError("D3136", 0, "", nil)
		}
	}
	num := func(c string) float64 {
		v := comps[c]
		if !v.defined || v.isStr {
			return math.NaN()
		}
		return v.num
	}
	month := num("M")
	if month > 0 {
		month--
	} else {
		month = 0
	}
	day := num("D")
	if dateB {
		derived := jsDate(jsDateUTC(num("Y"), 0, 1, 0, 0, 0, 0) + (num("d")-1)*millisPerDay)
		month = derived.field(func(t time.Time) int { return int(t.Month()) - 1 })
		day = derived.field(func(t time.Time) int { return t.Day() })
	}
	if dateC || dateD {
		return 0, false, newError("D3136", 0, "", nil)
	}
	hour := num("H")
	if timeB {
		hour = num("h")
		if hour == 12 {
			hour = 0
		}
		if p := comps["P"]; p.defined && !p.isStr && p.num == 1 {
			hour += 12
		}
	}
	millis := jsDateUTC(num("Y"), month, day, hour, num("m"), num("s"), num("f"))
	tz := comps["Z"]
	if !truthy("Z") {
		tz = comps["z"]
	}
	if tz.defined && !tz.isStr && tz.num != 0 && !math.IsNaN(tz.num) {
		millis -= tz.num * 60 * 1000
	}
	return millis, true, nil
}

// isoTimestamp is the check jsonata-js makes before reading a timestamp
// without a picture.
var isoTimestamp = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

// isoDate matches the forms of ISO 8601 that JavaScript's Date.parse reads.
var isoDate = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$`)

// parseISO is Date.parse on a timestamp that passed isoTimestamp. Times
// without an offset are read as UTC (the local time of Step Functions).
func parseISO(s string) float64 {
	m := isoDate.FindStringSubmatch(s)
	if m == nil {
		return math.NaN()
	}
	atoi := func(x string, def float64) float64 {
		if x == "" {
			return def
		}
		return jsParseInt(x)
	}
	y, mo, d := atoi(m[1], 0), atoi(m[2], 1), atoi(m[3], 1)
	h, mi, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	ms := 0.0
	if m[7] != "" {
		frac := (m[7] + "00")[:3]
		ms = jsParseInt(frac)
	}
	if m[8] != "" && m[4] == "" && m[8] != "Z" {
		return math.NaN() // a date with an offset but no time
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 59 || (h == 24 && (mi != 0 || sec != 0 || ms != 0)) {
		return math.NaN()
	}
	t := jsDateUTC(y, mo-1, d, h, mi, sec, ms)
	if y < 100 {
		// Date.parse does not treat years 0-99 as 1900-1999
		t = jsDateUTC(y+400, mo-1, d, h, mi, sec, ms) - 146097*millisPerDay
	}
	if off := m[8]; off != "" && off != "Z" {
		digits := strings.ReplaceAll(off[1:], ":", "")
		oh, om := jsParseInt(digits[:2]), jsParseInt(digits[2:])
		if oh > 23 || om > 59 {
			return math.NaN()
		}
		delta := (oh*60 + om) * 60000
		if off[0] == '+' {
			t -= delta
		} else {
			t += delta
		}
	}
	return timeClip(t)
}

func fnToMillis(c call, args []any) (any, error) {
	ts, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	picture, hasPicture := args[1].(string)
	if !hasPicture {
		if !isoTimestamp.MatchString(ts) {
			return nil, newError("D3110", 0, "", ts)
		}
		return parseISO(ts), nil
	}
	millis, ok, err := parseDateTime(ts, picture, jsDate(float64(c.st.nowTime().UnixMilli())))
	if err != nil || !ok {
		return nil, err
	}
	return millis, nil
}

func fnFromMillis(_ call, args []any) (any, error) {
	millis, ok := num(args[0])
	if !ok {
		return nil, nil
	}
	picture, hasPicture := args[1].(string)
	tz, hasTZ := args[2].(string)
	return formatDateTime(millis, picture, hasPicture, tz, hasTZ)
}

func fnNow(c call, args []any) (any, error) {
	picture, hasPicture := args[0].(string)
	tz, hasTZ := args[1].(string)
	return formatDateTime(float64(c.st.nowTime().UnixMilli()), picture, hasPicture, tz, hasTZ)
}
