package pattern

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"strings"
)

// leaf is one flattened event value at a path some pattern uses.
type leaf struct {
	val        value
	lower      []byte // lower-cased string, computed on first use
	lowerDone  bool
	hashed     bool       // hash is set
	hash       uint64     // maphash of val.b with the exact table's seed, computed on first use
	addr       netip.Addr // parsed IP address, computed on first use
	addrState  uint8      // 0 not parsed, 1 an address, 2 not an address
	grams      int32      // 1 + index of the byte-pair filter in flattener.grams, 0 if not computed
	trailStart int32      // trail is flattener.trails[trailStart : trailStart+trailLen]
	trailLen   int32
	next       int32 // next leaf at the same path, -1 at the end
}

// flattener parses an event once, keeping only the leaves at paths the
// snapshot's patterns use and skipping (but validating) everything else.
// Leaves are grouped per path id through head/next lists.
type flattener struct {
	snap      *snapshot
	src       []byte
	pos       int
	path      []byte
	trail     []arrayPos
	trails    []arrayPos
	leaves    []leaf
	grams     []bigramSet // byte-pair filters of string leaves, computed on first use
	head      []int32     // per path id: first leaf, -1 if none
	touched   []int32     // path ids whose head is set
	arrays    int32
	hasArrays bool // some kept leaf lies inside an array
	keyBuf    []byte
}

func (f *flattener) reset(s *snapshot, src []byte) {
	f.snap = s
	f.src = src
	f.pos = 0
	f.path = f.path[:0]
	f.trail = f.trail[:0]
	f.trails = f.trails[:0]
	f.leaves = f.leaves[:0]
	f.grams = f.grams[:0]
	for _, p := range f.touched {
		f.head[p] = -1
	}
	f.touched = f.touched[:0]
	if len(f.head) < s.nPaths {
		f.head = make([]int32, s.nPaths)
		for i := range f.head {
			f.head[i] = -1
		}
	}
	f.arrays = 0
	f.hasArrays = false
}

func (f *flattener) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: not valid JSON: offset %d: %s", ErrEvent, f.pos, fmt.Sprintf(format, args...))
}

func (f *flattener) ws() {
	for f.pos < len(f.src) {
		switch f.src[f.pos] {
		case ' ', '\t', '\n', '\r':
			f.pos++
		default:
			return
		}
	}
}

// run flattens the event.
func (f *flattener) run() error {
	f.ws()
	if f.pos >= len(f.src) || f.src[f.pos] != '{' {
		return fmt.Errorf("%w: the event must be a JSON object", ErrEvent)
	}
	if err := f.object(0); err != nil {
		return err
	}
	f.ws()
	if f.pos != len(f.src) {
		return f.errorf("unexpected data after the JSON value")
	}
	return nil
}

// object parses the object at f.pos whose path is f.path (kept paths below).
func (f *flattener) object(depth int) error {
	if depth > maxDepth {
		return f.errorf("nesting deeper than %d levels", maxDepth)
	}
	f.pos++ // {
	f.ws()
	if f.pos < len(f.src) && f.src[f.pos] == '}' {
		f.pos++
		return nil
	}
	base := len(f.path)
	for {
		f.ws()
		if f.pos >= len(f.src) || f.src[f.pos] != '"' {
			return f.errorf("expected a double-quoted field name")
		}
		end, escaped, ok := scanString(f.src, f.pos)
		if !ok {
			return f.errorf("malformed string")
		}
		key := f.src[f.pos+1 : end-1]
		if escaped {
			f.keyBuf = unescape(f.keyBuf[:0], key)
			key = f.keyBuf
		}
		f.pos = end
		f.path = f.path[:base]
		if depth > 0 { // keys of the outermost object start paths
			f.path = append(f.path, '.')
		}
		f.path = append(f.path, key...)
		f.ws()
		if f.pos >= len(f.src) || f.src[f.pos] != ':' {
			return f.errorf("expected ':'")
		}
		f.pos++
		f.ws()
		info, ok := f.snap.lookup[string(f.path)]
		if !ok {
			info.id = -1
		}
		if err := f.value(info.id, info.inner, depth+1); err != nil {
			return err
		}
		f.ws()
		if f.pos >= len(f.src) {
			return f.errorf("unexpected end of input, expected ',' or '}'")
		}
		switch f.src[f.pos] {
		case ',':
			f.pos++
		case '}':
			f.pos++
			f.path = f.path[:base]
			return nil
		default:
			return f.errorf("expected ',' or '}'")
		}
	}
}

// value parses the value at f.pos. id is the path id when leaves at this path
// are kept (-1 otherwise); inner is true when paths below it are used.
func (f *flattener) value(id int32, inner bool, depth int) error {
	if f.pos >= len(f.src) {
		return f.errorf("unexpected end of input, expected a value")
	}
	switch c := f.src[f.pos]; {
	case c == '{':
		if inner {
			return f.object(depth)
		}
		return f.skip(depth)
	case c == '[':
		if id < 0 && !inner {
			return f.skip(depth)
		}
		return f.array(id, inner, depth)
	case c == '"':
		end, escaped, ok := scanString(f.src, f.pos)
		if !ok {
			return f.errorf("malformed string")
		}
		if id >= 0 {
			b := f.src[f.pos+1 : end-1]
			if escaped {
				b = unescape(nil, b)
			}
			f.emit(id, value{kind: kindString, b: b})
		}
		f.pos = end
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(f.src, f.pos)
		if !ok {
			return f.errorf("malformed number")
		}
		if id >= 0 {
			f.emit(id, numberValue(f.src[f.pos:end]))
		}
		f.pos = end
		return nil
	default:
		var k jsonKind
		switch {
		case hasWord(f.src[f.pos:], "true"):
			k, f.pos = kindTrue, f.pos+4
		case hasWord(f.src[f.pos:], "false"):
			k, f.pos = kindFalse, f.pos+5
		case hasWord(f.src[f.pos:], "null"):
			k, f.pos = kindNull, f.pos+4
		default:
			return f.errorf("unexpected character, expected a JSON value")
		}
		if id >= 0 {
			f.emit(id, value{kind: k})
		}
		return nil
	}
}

func (f *flattener) array(id int32, inner bool, depth int) error {
	if depth > maxDepth {
		return f.errorf("nesting deeper than %d levels", maxDepth)
	}
	f.pos++ // [
	arr := f.arrays
	f.arrays++
	f.ws()
	if f.pos < len(f.src) && f.src[f.pos] == ']' {
		f.pos++
		return nil
	}
	base := len(f.path)
	for idx := int32(0); ; idx++ {
		f.ws()
		f.trail = append(f.trail, arrayPos{array: arr, index: idx})
		if err := f.value(id, inner, depth+1); err != nil {
			return err
		}
		f.trail = f.trail[:len(f.trail)-1]
		f.path = f.path[:base]
		f.ws()
		if f.pos >= len(f.src) {
			return f.errorf("unexpected end of input, expected ',' or ']'")
		}
		switch f.src[f.pos] {
		case ',':
			f.pos++
		case ']':
			f.pos++
			return nil
		default:
			return f.errorf("expected ',' or ']'")
		}
	}
}

func (f *flattener) emit(id int32, v value) {
	l := leaf{val: v, next: f.head[id]}
	if len(f.trail) > 0 {
		f.hasArrays = true
		l.trailStart = int32(len(f.trails))
		l.trailLen = int32(len(f.trail))
		f.trails = append(f.trails, f.trail...)
	}
	if f.head[id] < 0 {
		f.touched = append(f.touched, id)
	}
	f.head[id] = int32(len(f.leaves))
	f.leaves = append(f.leaves, l)
}

func (f *flattener) trailOf(i int32) []arrayPos {
	l := &f.leaves[i]
	return f.trails[l.trailStart : l.trailStart+l.trailLen]
}

// lowerOf returns the lower-cased string of leaf i.
func (f *flattener) lowerOf(i int32) []byte {
	l := &f.leaves[i]
	if !l.lowerDone {
		l.lowerDone = true
		l.lower = toLower(l.val.b)
	}
	return l.lower
}

// hashOf returns the maphash of leaf i's string with seed (the snapshot's
// exact table's), computing it on first use: a value is looked up in the
// machines of every state the walk reaches with a transition at its path.
func (f *flattener) hashOf(i int32, seed maphash.Seed) uint64 {
	l := &f.leaves[i]
	if !l.hashed {
		l.hashed = true
		l.hash = maphash.Bytes(seed, l.val.b)
	}
	return l.hash
}

// gramsOf returns the byte-pair filter of leaf i's string.
func (f *flattener) gramsOf(i int32) *bigramSet {
	l := &f.leaves[i]
	if l.grams == 0 {
		f.grams = append(f.grams, bigramSet{})
		f.grams[len(f.grams)-1].add(l.val.b)
		l.grams = int32(len(f.grams))
	}
	return &f.grams[l.grams-1]
}

// addrOf returns the IP address leaf i's string holds, if it is one.
func (f *flattener) addrOf(i int32) (netip.Addr, bool) {
	l := &f.leaves[i]
	if l.addrState == 0 {
		l.addrState = 2
		if a, err := netip.ParseAddr(string(l.val.b)); err == nil && a.Zone() == "" {
			l.addr, l.addrState = a, 1
		}
	}
	return l.addr, l.addrState == 1
}

func toLower(b []byte) []byte {
	for _, c := range b {
		if c >= 0x80 {
			return []byte(strings.ToLower(string(b)))
		}
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// skip validates and skips the value at f.pos.
func (f *flattener) skip(depth int) error {
	if depth > maxDepth {
		return f.errorf("nesting deeper than %d levels", maxDepth)
	}
	if f.pos >= len(f.src) {
		return f.errorf("unexpected end of input, expected a value")
	}
	switch f.src[f.pos] {
	case '{':
		f.pos++
		f.ws()
		if f.pos < len(f.src) && f.src[f.pos] == '}' {
			f.pos++
			return nil
		}
		for {
			f.ws()
			if f.pos >= len(f.src) || f.src[f.pos] != '"' {
				return f.errorf("expected a double-quoted field name")
			}
			end, _, ok := scanString(f.src, f.pos)
			if !ok {
				return f.errorf("malformed string")
			}
			f.pos = end
			f.ws()
			if f.pos >= len(f.src) || f.src[f.pos] != ':' {
				return f.errorf("expected ':'")
			}
			f.pos++
			f.ws()
			if err := f.skip(depth + 1); err != nil {
				return err
			}
			f.ws()
			if f.pos >= len(f.src) {
				return f.errorf("unexpected end of input, expected ',' or '}'")
			}
			switch f.src[f.pos] {
			case ',':
				f.pos++
			case '}':
				f.pos++
				return nil
			default:
				return f.errorf("expected ',' or '}'")
			}
		}
	case '[':
		f.pos++
		f.ws()
		if f.pos < len(f.src) && f.src[f.pos] == ']' {
			f.pos++
			return nil
		}
		for {
			f.ws()
			if err := f.skip(depth + 1); err != nil {
				return err
			}
			f.ws()
			if f.pos >= len(f.src) {
				return f.errorf("unexpected end of input, expected ',' or ']'")
			}
			switch f.src[f.pos] {
			case ',':
				f.pos++
			case ']':
				f.pos++
				return nil
			default:
				return f.errorf("expected ',' or ']'")
			}
		}
	default:
		return f.value(-1, false, depth)
	}
}
