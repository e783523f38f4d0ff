package pattern

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// value is one event leaf value. Strings hold their decoded bytes; numbers
// hold their literal and, when it is finite, its float64 value.
type value struct {
	kind  jsonKind
	b     []byte // string content or number literal
	num   float64
	numOK bool
}

func numberValue(lit []byte) value {
	v := value{kind: kindNumber, b: lit}
	if n, err := strconv.ParseFloat(string(lit), 64); err == nil {
		if n == 0 {
			n = 0
		}
		v.num, v.numOK = n, true
	}
	return v
}

// matches reports whether the condition holds for v. It is the definition of
// each operator's semantics; the Matcher's indexes must agree with it.
func (c *cond) matches(v value) bool {
	switch c.kind {
	case condString:
		return v.kind == kindString && string(v.b) == c.str
	case condNumber:
		return v.kind == kindNumber && v.numOK && v.num == c.num
	case condTrue:
		return v.kind == kindTrue
	case condFalse:
		return v.kind == kindFalse
	case condNull:
		return v.kind == kindNull
	case condPrefix:
		if v.kind != kindString {
			return false
		}
		if c.fold {
			return strings.HasPrefix(strings.ToLower(string(v.b)), c.str)
		}
		return bytes.HasPrefix(v.b, []byte(c.str))
	case condSuffix:
		if v.kind != kindString {
			return false
		}
		if c.fold {
			return strings.HasSuffix(strings.ToLower(string(v.b)), c.str)
		}
		return bytes.HasSuffix(v.b, []byte(c.str))
	case condEqualsFold:
		return v.kind == kindString && strings.ToLower(string(v.b)) == c.str
	case condWildcard:
		return v.kind == kindString && c.wild[0].match(v.b)
	case condNumeric:
		return v.kind == kindNumber && v.numOK && c.rng.contains(v.num)
	case condCIDR:
		if v.kind != kindString {
			return false
		}
		a, err := netip.ParseAddr(string(v.b))
		return err == nil && a.Zone() == "" && c.cidr.Contains(a)
	case condExists:
		return true
	case condAnyValue:
		switch v.kind {
		case kindString:
			return !slices.Contains(c.strs, string(v.b))
		case kindNumber:
			return !v.numOK || !slices.Contains(c.nums, v.num)
		default:
			return true
		}
	case condAnyPrefix:
		if v.kind != kindString {
			return true
		}
		for _, p := range c.strs {
			if bytes.HasPrefix(v.b, []byte(p)) {
				return false
			}
		}
		return true
	case condAnySuffix:
		if v.kind != kindString {
			return true
		}
		for _, p := range c.strs {
			if bytes.HasSuffix(v.b, []byte(p)) {
				return false
			}
		}
		return true
	case condAnyFold:
		return v.kind != kindString || !slices.Contains(c.strs, strings.ToLower(string(v.b)))
	case condAnyWildcard:
		if v.kind != kindString {
			return true
		}
		for i := range c.wild {
			if c.wild[i].match(v.b) {
				return false
			}
		}
		return true
	}
	return false
}

// wildcard is a parsed wildcard pattern: n '*' split it into n+1 literal
// segments (escapes resolved; a segment may be empty).
type wildcard struct {
	src  string
	segs []string
}

// parseWildcard validates a wildcard pattern: '*' matches any run of
// characters, `\*` a literal star and `\\` a backslash (as the pattern text
// holds them, after JSON decoding); any other escape and
// two consecutive '*' are errors.
func parseWildcard(where, s string) (wildcard, error) {
	w := wildcard{src: s}
	var cur []byte
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return w, fmt.Errorf("%s: invalid escape in wildcard %q at byte %d: a backslash may only escape '*' or '\\'", where, s, i)
			}
			cur = append(cur, s[i+1])
			i++
			prevStar = false
		case '*':
			if prevStar {
				return w, fmt.Errorf("%s: consecutive wildcard characters in %q at byte %d are not allowed", where, s, i)
			}
			w.segs = append(w.segs, string(cur))
			cur = cur[:0]
			prevStar = true
		default:
			cur = append(cur, c)
			prevStar = false
		}
	}
	w.segs = append(w.segs, string(cur))
	return w, nil
}

// literalPrefix is the text before the first '*' (all of it if none).
func (w *wildcard) literalPrefix() string { return w.segs[0] }

// match reports whether s matches the wildcard.
func (w *wildcard) match(s []byte) bool {
	segs := w.segs
	if len(segs) == 1 {
		return string(s) == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !bytes.HasPrefix(s, []byte(first)) || !bytes.HasSuffix(s, []byte(last)) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range segs[1 : len(segs)-1] {
		i := bytes.Index(s, []byte(p))
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// checkWildcardComplexity rejects a clause whose wildcard patterns on one
// field can keep more than wildcardComplexityLimit matcher states active at
// once for some input. Each pattern is a chain of states, one per byte and one
// per '*' (which loops on any byte); the check explores every set of states
// reachable by some input (subset construction over the bytes the patterns
// mention plus one stand-in for all other bytes).
func checkWildcardComplexity(c clause) error {
	for _, f := range c {
		var toks [][]int
		for i := range f.conds {
			for _, w := range f.conds[i].wild {
				toks = append(toks, wildcardTokens(w.src))
			}
		}
		if len(toks) == 0 {
			continue
		}
		if n := maxActiveStates(toks); n > wildcardComplexityLimit {
			return fmt.Errorf("%s: rule is too complex (up to %d wildcard states active at once, limit %d): use fewer wildcard characters or fewer repeating character sequences after a wildcard", f.path, n, wildcardComplexityLimit)
		}
	}
	return nil
}

const tokStar = 256

func wildcardTokens(src string) []int {
	var t []int
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '*':
			t = append(t, tokStar)
		case '\\':
			i++
			t = append(t, int(src[i]))
		default:
			t = append(t, int(src[i]))
		}
	}
	return t
}

// maxActiveStates runs the subset construction over the NFAs of toks and
// returns the largest state set seen. States are (pattern, position) pairs.
func maxActiveStates(toks [][]int) int {
	type st struct{ p, i int }
	closure := func(set map[st]bool) {
		for changed := true; changed; {
			changed = false
			for s := range set {
				t := toks[s.p]
				if s.i < len(t) && t[s.i] == tokStar && !set[st{s.p, s.i + 1}] {
					set[st{s.p, s.i + 1}] = true
					changed = true
				}
			}
		}
	}
	keyOf := func(set map[st]bool) string {
		ks := make([]string, 0, len(set))
		for s := range set {
			ks = append(ks, strconv.Itoa(s.p)+":"+strconv.Itoa(s.i))
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	alphabet := []int{-1}
	seenByte := map[int]bool{}
	for _, t := range toks {
		for _, x := range t {
			if x != tokStar && !seenByte[x] {
				seenByte[x] = true
				alphabet = append(alphabet, x)
			}
		}
	}
	start := map[st]bool{}
	for p := range toks {
		start[st{p, 0}] = true
	}
	closure(start)
	maxSize := 0
	seen := map[string]bool{keyOf(start): true}
	queue := []map[st]bool{start}
	for len(queue) > 0 && len(seen) < 10000 {
		cur := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		maxSize = max(maxSize, len(cur))
		if maxSize > wildcardComplexityLimit {
			return maxSize
		}
		for _, b := range alphabet {
			next := map[st]bool{}
			for s := range cur {
				t := toks[s.p]
				if s.i >= len(t) {
					continue
				}
				switch t[s.i] {
				case tokStar:
					next[s] = true
				case b:
					next[st{s.p, s.i + 1}] = true
				}
			}
			if len(next) == 0 {
				continue
			}
			closure(next)
			k := keyOf(next)
			if !seen[k] {
				seen[k] = true
				queue = append(queue, next)
			}
		}
	}
	return maxSize
}
