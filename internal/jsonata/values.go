package jsonata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Internal value representation:
//
//	undefined      nil
//	JSON null      null{}
//	boolean        bool
//	number         float64
//	string         string
//	array          *array (with jsonata-js's sequence flags)
//	object         *object (ordered keys)
//	function       *lambda, *builtin, *partial, *regexValue
//	tuple          tuple (internal to tuple-stream paths)

type null struct{}

// array is a JSONata array. The flags mirror jsonata-js's: seq marks a
// sequence (collapsed to its item when it has one, to undefined when empty),
// keepSingleton keeps a one-item sequence as an array, cons marks an array
// built by an array constructor used as a path step, outer marks the
// wrapper of an array given as the input document, tuples marks a tuple
// stream.
type array struct {
	items         []any
	seq           bool
	keepSingleton bool
	cons          bool
	outer         bool
	tuples        bool
}

func newSeq(items ...any) *array { return &array{items: items, seq: true} }

// object is a JSON object that keeps key order as JavaScript does: keys that
// are array indexes first in ascending numeric order, then the other keys in
// insertion order.
type object struct {
	keys  []string
	vals  []any
	index map[string]int // key → position, built when the object grows past smallObject keys
	idx   bool           // some key is an array index: keys need JS ordering
	raw   map[string]any // a caller's map of plain Go values: read through get, copied before written
}

const smallObject = 8

func newObject(n int) *object { return &object{keys: make([]string, 0, n), vals: make([]any, 0, n)} }

// wrapMap makes a caller's map usable as an object without copying it; its
// values are converted when they are read.
func wrapMap(m map[string]any) *object { return &object{raw: m} }

func (o *object) find(k string) int {
	if o.index != nil {
		if i, ok := o.index[k]; ok {
			return i
		}
		return -1
	}
	for i, kk := range o.keys {
		if kk == k {
			return i
		}
	}
	return -1
}

// get returns the value of key k, or nil (undefined) when there is none.
func (o *object) get(k string) any {
	if o.raw != nil {
		v, ok := o.raw[k]
		if !ok {
			return nil
		}
		return norm(v)
	}
	if i := o.find(k); i >= 0 {
		return o.vals[i]
	}
	return nil
}

func (o *object) has(k string) bool {
	if o.raw != nil {
		_, ok := o.raw[k]
		return ok
	}
	return o.find(k) >= 0
}

func (o *object) size() int {
	if o.raw != nil {
		return len(o.raw)
	}
	return len(o.keys)
}

// own turns a wrapped caller's map into an object of its own before it is
// written.
func (o *object) own() {
	if o.raw == nil {
		return
	}
	raw := o.raw
	keys := o.orderedKeys()
	o.raw = nil
	o.keys = make([]string, 0, len(keys))
	o.vals = make([]any, 0, len(keys))
	o.index = nil
	for _, k := range keys {
		o.set(k, norm(raw[k]))
	}
}

func (o *object) set(k string, v any) {
	o.own()
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	if isArrayIndex(k) {
		o.idx = true
	}
	if o.index != nil {
		o.index[k] = len(o.keys) - 1
	} else if len(o.keys) > smallObject {
		o.index = make(map[string]int, len(o.keys)*2)
		for i, kk := range o.keys {
			o.index[kk] = i
		}
	}
}

func (o *object) del(k string) {
	o.own()
	i := o.find(k)
	if i < 0 {
		return
	}
	o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
	o.vals = append(o.vals[:i:i], o.vals[i+1:]...)
	if o.index != nil {
		o.index = make(map[string]int, len(o.keys))
		for j, kk := range o.keys {
			o.index[kk] = j
		}
	}
}

// orderedKeys returns the keys in JavaScript property order. A caller's Go
// map has no order: its keys are sorted.
func (o *object) orderedKeys() []string {
	if o.raw != nil {
		keys := make([]string, 0, len(o.raw))
		idx := false
		for k := range o.raw {
			keys = append(keys, k)
			if isArrayIndex(k) {
				idx = true
			}
		}
		sort.Strings(keys)
		if !idx {
			return keys
		}
		return jsKeyOrder(keys)
	}
	if !o.idx {
		return o.keys
	}
	return jsKeyOrder(o.keys)
}

// jsKeyOrder puts array-index keys first, in numeric order, as JavaScript
// orders an object's properties.
func jsKeyOrder(keys []string) []string {
	var ints, rest []string
	for _, k := range keys {
		if isArrayIndex(k) {
			ints = append(ints, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.SliceStable(ints, func(i, j int) bool {
		a, _ := strconv.ParseUint(ints[i], 10, 64)
		b, _ := strconv.ParseUint(ints[j], 10, 64)
		return a < b
	})
	return append(ints, rest...)
}

func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 4294967295
}

// norm converts a caller's Go value to the internal representation
// shallowly: maps are wrapped (their values are converted when read), arrays
// are copied with their items converted, numbers become float64 and nil
// becomes JSON null.
func norm(v any) any {
	switch x := v.(type) {
	case nil:
		return null{}
	case float64, string, bool:
		return v
	case map[string]any:
		return x
	case []any:
		a := &array{items: make([]any, len(x))}
		for i, e := range x {
			a.items[i] = norm(e)
		}
		return a
	case *object, *array, *lambda, *builtin, *partial, *regexValue, null, noInputMarker:
		return v
	}
	c, err := fromGo(v)
	if err != nil {
		b, jerr := json.Marshal(v)
		if jerr != nil {
			return nil
		}
		if c, err = parseJSON(b); err != nil {
			return nil
		}
	}
	return c
}

// tuple is one element of a tuple stream: '@' is the context value, other
// keys are focus/index/ancestor bindings.
type tuple map[string]any

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *partial, *regexValue:
		return true
	}
	return false
}

// obj turns a caller's map (kept as is inside inputs) into an *object;
// other values are returned unchanged.
func obj(v any) any {
	if m, ok := v.(map[string]any); ok {
		return wrapMap(m)
	}
	return v
}

// asObject returns v as an object when it is one.
func asObject(v any) (*object, bool) {
	switch x := v.(type) {
	case *object:
		return x, true
	case map[string]any:
		return wrapMap(x), true
	}
	return nil, false
}

// fromGo converts a Go value (as encoding/json decodes, plus json.Number and
// Go integer types) into the internal representation.
func fromGo(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return null{}, nil
	case noInputMarker:
		return nil, nil
	case bool, string:
		return x, nil
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("converting number %q: %w", string(x), err)
		}
		return f, nil
	case []any:
		a := &array{items: make([]any, len(x))}
		for i, e := range x {
			c, err := fromGo(e)
			if err != nil {
				return nil, err
			}
			a.items[i] = c
		}
		return a, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := newObject(len(keys))
		for _, k := range keys {
			c, err := fromGo(x[k])
			if err != nil {
				return nil, err
			}
			o.set(k, c)
		}
		return o, nil
	case []string:
		a := &array{items: make([]any, len(x))}
		for i, e := range x {
			a.items[i] = e
		}
		return a, nil
	case *object, *array, *lambda, *builtin, *partial, *regexValue, null:
		return x, nil
	}
	return nil, fmt.Errorf("unsupported Go value of type %T", v)
}

// toGo converts an internal value to plain Go JSON values. Functions become
// the empty string, as jsonata-js's JSON rendering shows them.
func toGo(v any) any {
	switch x := obj(v).(type) {
	case nil, null:
		return nil
	case *array:
		out := make([]any, 0, len(x.items))
		for _, e := range x.items {
			out = append(out, toGo(e)) // undefined items render as null
		}
		return out
	case *object:
		if x.raw != nil {
			out := make(map[string]any, len(x.raw))
			for k, v := range x.raw {
				out[k] = toGo(norm(v))
			}
			return out
		}
		out := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			v := x.vals[i]
			if v == nil {
				continue
			}
			out[k] = toGo(v)
		}
		return out
	case *lambda, *builtin, *partial, *regexValue:
		return ""
	case tuple:
		return toGo(x["@"])
	}
	return v
}

// parseJSON decodes JSON text into the internal representation, keeping the
// key order of objects.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decoding JSON: unexpected data after the value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject(4)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("decoding JSON: %w", err)
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("decoding JSON: %w", err)
			}
			return o, nil
		case '[':
			a := &array{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a.items = append(a.items, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("decoding JSON: %w", err)
			}
			return a, nil
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, fmt.Errorf("decoding JSON number %s: %w", t, err)
		}
		return f, nil
	case string, bool:
		return t, nil
	case nil:
		return null{}, nil
	}
	return nil, fmt.Errorf("decoding JSON: unexpected token %v", tok)
}

// formatNumberJS renders a float64 as JavaScript's Number.prototype.toString.
func formatNumberJS(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10) // an exact integer: its digits
	}
	neg := f < 0
	if neg {
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	k := len(digits)
	n := exp + 1
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case k <= n && n <= 21:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", n-k))
	case 0 < n && n <= 21:
		b.WriteString(digits[:n])
		b.WriteByte('.')
		b.WriteString(digits[n:])
	case -6 < n && n <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -n))
		b.WriteString(digits)
	default:
		b.WriteByte(digits[0])
		if k > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if n-1 >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.Itoa(n - 1))
	}
	return b.String()
}

// precision15 is JavaScript's Number(x.toPrecision(15)).
func precision15(f float64) float64 {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return f // 15 digits hold it
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// stringify renders v as JSON the way jsonata-js's $string does
// (JSON.stringify with numbers at 15 significant digits, functions as "").
func stringify(v any, pretty bool) (string, error) {
	var b strings.Builder
	w := jsonWriter{b: &b, round: true, pretty: pretty}
	if err := w.write(v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// marshalJSON renders a result as JSON, keeping key order, numbers as
// JavaScript prints them.
func marshalJSON(v any) ([]byte, error) {
	var b strings.Builder
	w := jsonWriter{b: &b}
	if err := w.write(v, 0); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

type jsonWriter struct {
	b      *strings.Builder
	round  bool
	pretty bool
}

func (w *jsonWriter) newline(depth int) {
	if w.pretty {
		w.b.WriteByte('\n')
		for i := 0; i < depth; i++ {
			w.b.WriteString("  ")
		}
	}
}

func (w *jsonWriter) write(v any, depth int) error {
	switch x := obj(v).(type) {
	case nil, null:
		w.b.WriteString("null")
	case bool:
		if x {
			w.b.WriteString("true")
		} else {
			w.b.WriteString("false")
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// $string: jsonata-js's isNumeric raises D1001 for infinities;
			// NaN is not numeric and JSON.stringify writes it as null
			if w.round && math.IsInf(x, 0) {
				return newError("D1001", 0, "", x)
			}
			w.b.WriteString("null")
			return nil
		}
		if w.round {
			x = precision15(x)
		}
		w.b.WriteString(formatNumberJS(x))
	case string:
		writeJSONString(w.b, x)
	case *array:
		items := x.items
		if x.outer && len(items) > 0 && depth == 0 {
			return w.write(items[0], depth)
		}
		w.b.WriteByte('[')
		for i, e := range items {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.newline(depth + 1)
			if e == nil {
				w.b.WriteString("null")
				continue
			}
			if err := w.write(e, depth+1); err != nil {
				return err
			}
		}
		if len(items) > 0 {
			w.newline(depth)
		}
		w.b.WriteByte(']')
	case *object:
		w.b.WriteByte('{')
		first := true
		for _, k := range x.orderedKeys() {
			e := x.get(k)
			if e == nil {
				continue
			}
			if !first {
				w.b.WriteByte(',')
			}
			first = false
			w.newline(depth + 1)
			writeJSONString(w.b, k)
			w.b.WriteByte(':')
			if w.pretty {
				w.b.WriteByte(' ')
			}
			if err := w.write(e, depth+1); err != nil {
				return err
			}
		}
		if !first {
			w.newline(depth)
		}
		w.b.WriteByte('}')
	case *lambda, *builtin, *partial, *regexValue:
		w.b.WriteString(`""`)
	case tuple:
		return w.write(x["@"], depth)
	default:
		return fmt.Errorf("cannot render %T as JSON", v)
	}
	return nil
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				if c < 0x20 {
					fmt.Fprintf(b, `\u%04x`, c)
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// deepEqual is JSONata's equality: by value for primitives, recursive for
// arrays and objects, by identity for functions.
func deepEqual(a, b any) bool {
	a, b = obj(a), obj(b)
	switch x := a.(type) {
	case nil:
		return b == nil
	case null:
		_, ok := b.(null)
		return ok
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *array:
		y, ok := b.(*array)
		if !ok || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !deepEqual(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *object:
		y, ok := b.(*object)
		if ok && x.raw != nil && y.raw != nil && reflect.ValueOf(x.raw).UnsafePointer() == reflect.ValueOf(y.raw).UnsafePointer() {
			return true
		}
		if !ok || x.size() != y.size() {
			return false
		}
		for _, k := range x.orderedKeys() {
			if !y.has(k) || !deepEqual(x.get(k), y.get(k)) {
				return false
			}
		}
		return true
	}
	return a == b
}
