package pattern

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Matcher holds many patterns and finds those an event matches. See the
// package documentation for its concurrency contract.
type Matcher struct {
	mu       sync.Mutex // serialises writers and snapshot builds
	patterns map[string]*Pattern
	version  atomic.Uint64
	snap     atomic.Pointer[snapshot]
	pool     sync.Pool // *scratch
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher {
	return &Matcher{patterns: map[string]*Pattern{}}
}

// Add parses src and adds it under id, replacing any pattern with that id.
// An invalid pattern is rejected (the error wraps ErrInvalid) and the Matcher
// is left unchanged. Changes are compiled lazily: the first Match after any
// number of Add and Remove calls rebuilds the automaton once (tens of ms for
// 10,000 patterns), so load patterns in a batch before matching.
func (m *Matcher) Add(id string, src []byte) error {
	p, err := Parse(src)
	if err != nil {
		return fmt.Errorf("adding pattern %q: %w", id, err)
	}
	m.AddPattern(id, p)
	return nil
}

// AddPattern adds an already parsed pattern under id, replacing any pattern
// with that id.
func (m *Matcher) AddPattern(id string, p *Pattern) {
	m.mu.Lock()
	m.patterns[id] = p
	m.version.Add(1)
	m.mu.Unlock()
}

// Remove removes the pattern with the given id; removing an unknown id does
// nothing.
func (m *Matcher) Remove(id string) {
	m.mu.Lock()
	if _, ok := m.patterns[id]; ok {
		delete(m.patterns, id)
		m.version.Add(1)
	}
	m.mu.Unlock()
}

// Len returns the number of patterns held.
func (m *Matcher) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.patterns)
}

// Match returns the ids of the patterns the event matches, sorted, or an
// error wrapping ErrEvent when the event is not a JSON object. It returns a
// nil slice when nothing matches.
func (m *Matcher) Match(event []byte) ([]string, error) {
	s := m.current()
	sc, _ := m.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer m.pool.Put(sc)
	return s.match(sc, event)
}

// current returns the snapshot for the latest Add/Remove, building it if
// needed.
func (m *Matcher) current() *snapshot {
	v := m.version.Load()
	if s := m.snap.Load(); s != nil && s.version == v {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v = m.version.Load()
	if s := m.snap.Load(); s != nil && s.version == v {
		return s
	}
	s := build(m.patterns, v)
	m.snap.Store(s)
	return s
}

// snapshot is an immutable compiled automaton over a set of patterns. Its
// hot data lives in a few flat arrays, with no pointer to chase from a state
// to its transitions or from a transition to its exact values: with
// thousands of patterns the automaton is larger than the CPU caches, and the
// cost of a Match is the number of cache lines it touches.
type snapshot struct {
	version  uint64
	paths    map[string]int32    // path → id, for every path a pattern names
	lookup   map[string]pathInfo // paths and their proper dotted prefixes
	nPaths   int
	trans    []transition // per state: its header, then its transitions
	terminal []int32
	exact    exactTable
	lens     []uint32 // per machine with affixes: its affix header and key lengths
	vms      []valueMachine
	wilds    []wildEntry
	wsegs    []span // wildcard segments, as spans of warena
	warena   []byte
	wnext    []int32
	blooms   []uint64 // the valueMachines' affixBloom filters
	others   []condRef
	tails    []tailField
	tconds   []cond   // the conditions of tails' fields
	ids      []string // pattern number → id
}

// tailField is one field of a tail: a chain of states that leads to one
// pattern only, one field per state, with no other way out (see
// tailStates). The walk checks a tail's fields directly against the
// event's leaves instead of looking each value up in the exact table and
// visiting one state per field: with many patterns most matches end in such
// a chain, and each state visited and each table probe is a cache miss.
type tailField struct {
	path   int32
	conds  span // in snapshot.tconds
	absent bool
}

// span is a range [off, off+n) of one of the snapshot's flat arrays.
type span struct {
	off, n int32
}

// pathInfo says what the flattener keeps at a path: its leaves (id >= 0)
// and/or the fields below it (inner).
type pathInfo struct {
	id    int32
	inner bool
}

// transition is the value machine of one path from one state. Its number
// (its index in the snapshot's trans) is the machine's key prefix in the
// exact table.
//
// An automaton state (the fields matched so far by the clauses that lead
// here) is stored in trans too, as a header followed by its transitions
// sorted by path id, so that visiting a state touches one place in memory; a
// state's number is the index of its header. A header uses path for the
// number of transitions and bloom for the patterns whose clause ends there
// (see stateHeader). A state with no transitions and one pattern is not
// stored at all: machines name it -1-p (see machineCompiler.ref).
type transition struct {
	// bloom has bit h>>58 set for the hash h of each key the machine has
	// in the exact table, so that most lookups of a value the machine does
	// not hold end here, without touching the table.
	bloom uint64
	vm    int32 // the machine's valueMachine in snapshot.vms, when flags has hasAffix, hasOwn or hasAbsent
	path  int32
	// affix is, when flags has hasAffix, the offset in snapshot.lens of
	// the machine's affix header (see affixHeader), so that the prefix,
	// suffix and wildcard probes of a value read one small array and
	// not the valueMachine.
	affix int32
	flags uint8 // which lookups the machine needs
}

// affixHeader is the number of entries of snapshot.lens before the key
// lengths of a machine with affixes: the offset and number of words of its
// affixBloom filter in snapshot.blooms (0 words: none), then, per affix
// kind, the end in snapshot.lens of the ascending lengths of that kind
// (each kind's lengths start where the previous kind's end).
const affixHeader = 2 + nAffix

// stateHeader returns the header of a state with n transitions whose
// patterns are terminal[termStart:termEnd], or just termStart when termEnd is
// -1 (one pattern, the common case, needs no further memory access).
func stateHeader(n, termStart, termEnd int32) transition {
	return transition{path: n, bloom: uint64(uint32(termStart))<<32 | uint64(uint32(termEnd))}
}

// header reads a state header: see stateHeader.
func (t *transition) header() (n, termStart, termEnd int32) {
	return t.path, int32(uint32(t.bloom >> 32)), int32(uint32(t.bloom))
}

// stateTail marks a state header that is a tail (see tailField): its bloom
// holds the span of its fields in snapshot.tails (off<<32 | n) and its path
// the pattern it leads to.
const stateTail uint8 = 1 << 7

// Machine flags: exact string, exact number, equals-ignore-case lookups in
// the shared exact table; prefixes, suffixes and wildcards (probed in the
// exact table at the lengths the machine stores); conditions held in the
// valueMachine itself; next states for an absent path.
const (
	hasStr uint8 = 1 << iota
	hasNum
	hasFold
	hasAffix
	hasOwn
	hasAbsent
)

// Kinds of keys in the exact table. The affix kinds (exactPrefix and after)
// are probed with every length the machine stores for that kind; exactWild
// keys are the literal prefixes of wildcards and lead to wildcard entries
// rather than to states.
const (
	exactStr uint8 = iota
	exactNum
	exactFold
	exactPrefix
	exactPrefixFold
	exactSuffix
	exactSuffixFold
	exactWild
	exactKinds
)

const nAffix = int(exactKinds - exactPrefix)

// exactTable is one open-addressing hash table shared by every machine of a
// snapshot, from (machine, kind, value) to next states. Keeping all lookups
// in one flat table of small slots keeps a large automaton's hot data
// compact: a lookup that misses touches one slot, one that hits one slot and,
// only for a key longer than inlineKey bytes, its bytes in keys.
type exactTable struct {
	seed  maphash.Seed // set before keys are added: machines' bloom bits use it
	slots []exactSlot
	mask  uint64
	keys  []byte  // the keys longer than inlineKey
	more  []int32 // per entry with several next states: their count, then them
}

// inlineKey is the longest key an exactSlot holds itself; most values
// patterns look for (names, states, account numbers, number keys, prefixes)
// fit, so that a hit is checked without a second cache miss.
const inlineKey = 14

// exactSlot is one entry of an exactTable, 32 bytes: two in a cache line.
type exactSlot struct {
	tag     uint32 // high bits of the hash; 0 marks an empty slot
	first   int32  // first next state
	more    int32  // further next states at more[more+1 : more+1+more[more]], or -1
	machine uint32
	kind    uint8
	// klen is the key's length when it is at most inlineKey, and the key
	// is key[:klen]; otherwise it is inlineKey+1, and key holds the
	// offset and the length of the key in exactTable.keys (4 bytes each).
	klen uint8
	key  [inlineKey]byte
}

type exactKey struct {
	machine uint32
	kind    uint8
	key     string
}

func (t *exactTable) hash(machine uint32, kind uint8, key []byte) uint64 {
	return keyHash(machine, kind, maphash.Bytes(t.seed, key))
}

// keyHash is the hash of (machine, kind, key) given the maphash of key, so
// that a value looked up in several machines is hashed once (see
// flattener.hashOf).
func keyHash(machine uint32, kind uint8, base uint64) uint64 {
	h := base ^ (uint64(machine)<<8|uint64(kind))*0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

// bloomBit is the bit of a transition's bloom filter for key hash h.
func bloomBit(h uint64) uint64 { return 1 << (h >> 58) }

// affixBloomMin is the number of affix keys above which a machine has an
// affixBloom filter: a larger bloom filter of their hashes, in
// snapshot.blooms, for when the transition's 64-bit one is full. A prefix
// or suffix is probed at every length the machine stores, and most of those
// probes find nothing.
const affixBloomMin = 16

// affixBloomBit is the bit for key hash h in an affixBloom filter of words
// 64-bit words (a power of two); it uses other bits of h than bloomBit.
func affixBloomBit(h uint64, words int) uint64 {
	return (h * 0x9e3779b97f4a7c15 >> 20) & uint64(words*64-1)
}

// fill builds the table from its entries; t.seed must be set.
func (t *exactTable) fill(entries map[exactKey][]int32) {
	n := 16
	for n < 2*len(entries) {
		n *= 2
	}
	t.slots = make([]exactSlot, n)
	t.mask = uint64(n - 1)
	for k, next := range entries {
		h := t.hash(k.machine, k.kind, []byte(k.key))
		i := h & t.mask
		for t.slots[i].tag != 0 {
			i = (i + 1) & t.mask
		}
		sl := exactSlot{tag: uint32(h>>32) | 1, first: next[0], more: -1, machine: k.machine, kind: k.kind}
		if len(k.key) <= inlineKey {
			sl.klen = uint8(len(k.key))
			copy(sl.key[:], k.key)
		} else {
			sl.klen = inlineKey + 1
			binary.LittleEndian.PutUint32(sl.key[:4], uint32(len(t.keys)))
			binary.LittleEndian.PutUint32(sl.key[4:8], uint32(len(k.key)))
			t.keys = append(t.keys, k.key...)
		}
		if len(next) > 1 {
			sl.more = int32(len(t.more))
			t.more = append(t.more, int32(len(next)-1))
			t.more = append(t.more, next[1:]...)
		}
		t.slots[i] = sl
	}
}

// lookup appends the values stored for (machine, kind, key); bloom is the
// machine's bloom filter.
func (t *exactTable) lookup(machine uint32, bloom uint64, kind uint8, key []byte, out []int32) []int32 {
	h := t.hash(machine, kind, key)
	if bloom&bloomBit(h) == 0 {
		return out
	}
	return t.find(h, machine, kind, key, out)
}

// find appends the values stored for (machine, kind, key), whose hash is h.
func (t *exactTable) find(h uint64, machine uint32, kind uint8, key []byte, out []int32) []int32 {
	tag := uint32(h>>32) | 1
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.tag == 0 {
			return out
		}
		if sl.tag == tag && sl.machine == machine && sl.kind == kind && t.keyIs(sl, key) {
			out = append(out, sl.first)
			if sl.more >= 0 {
				n := t.more[sl.more]
				out = append(out, t.more[sl.more+1:sl.more+1+n]...)
			}
			return out
		}
	}
}

// keyIs reports whether slot sl's key is key.
func (t *exactTable) keyIs(sl *exactSlot, key []byte) bool {
	if sl.klen <= inlineKey {
		return int(sl.klen) == len(key) && string(sl.key[:sl.klen]) == string(key)
	}
	off := binary.LittleEndian.Uint32(sl.key[:4])
	n := binary.LittleEndian.Uint32(sl.key[4:8])
	return int(n) == len(key) && string(t.keys[off:off+n]) == string(key)
}

// valueMachine maps a value at one path to the next states: each distinct
// condition set (a field's OR-list) from the owning state has its own next
// state. Exact, equals-ignore-case, prefix, suffix and wildcard-prefix keys
// are in the snapshot's exact table; everything else is here. All lists
// hold next-state numbers. The fields most leaves need come first, so that
// they share the struct's first cache line.
type valueMachine struct {
	other     span                     // every other condition, tested one by one, in snapshot.others
	cidr      map[netip.Prefix][]int32 // masked prefix → sets
	lower     []rangeRef               // numeric ranges with only a lower bound, by lo
	upper     []rangeRef               // numeric ranges with only an upper bound, by hi
	between   rangeIndex               // numeric ranges with both bounds
	cidrBits  []int                    // distinct prefix lengths in cidr
	absent    []int32                  // next states taken when the event has no leaf at the path
	trueSets  []int32
	falseSets []int32
	nullSets  []int32
}

type rangeRef struct {
	r    numRange
	next int32 // next state
}

// wildEntry is one distinct wildcard of a machine: its segments (spans of
// the snapshot's warena, in wsegs), its next states (in wnext), and the
// byte pairs of its middle segments (see bigramSet).
type wildEntry struct {
	grams bigramSet
	segs  span
	next  span
}

// bigramSet is a 256-bit filter of the pairs of adjacent bytes in a string.
// A wildcard whose middle segments (those between two '*') have a pair that
// a value lacks cannot match it. When several wildcards share a literal
// prefix with a value, the value's filter is computed once (per leaf, on
// first use) and most of them are rejected by four word tests instead of a
// substring search per segment.
type bigramSet [4]uint64

// add adds the byte pairs of b.
func (g *bigramSet) add(b []byte) {
	for i := 1; i < len(b); i++ {
		k := (uint32(b[i-1])<<8 | uint32(b[i])) * 0x9e3779b1 >> 24
		g[k>>6] |= 1 << (k & 63)
	}
}

// covers reports whether every pair in o may be in g.
func (g *bigramSet) covers(o *bigramSet) bool {
	return o[0]&^g[0]|o[1]&^g[1]|o[2]&^g[2]|o[3]&^g[3] == 0
}

// bigramMinCandidates is the number of wildcards with middle segments that
// must be tested against one value for its bigramSet to be worth computing.
const bigramMinCandidates = 3

// condRef is a condition (a copy, kept with the machine's others) and its
// next state.
type condRef struct {
	c    cond
	next int32 // next state
}

// rangeIndex answers which numeric ranges hold a number in time logarithmic
// in the number of ranges plus the number found: the ranges are sorted by
// lower bound and read as an implicit balanced tree (the root of refs[lo:hi]
// is its middle element) in which every node also knows the largest upper
// bound below it.
type rangeIndex struct {
	refs  []rangeRef
	maxHi []float64
}

func newRangeIndex(refs []rangeRef) rangeIndex {
	slices.SortFunc(refs, func(a, b rangeRef) int { return cmp.Compare(a.r.lo, b.r.lo) })
	ix := rangeIndex{refs: refs, maxHi: make([]float64, len(refs))}
	ix.fill(0, len(refs))
	return ix
}

func (ix *rangeIndex) fill(lo, hi int) float64 {
	if lo >= hi {
		return math.Inf(-1)
	}
	mid := int(uint(lo+hi) >> 1)
	m := max(ix.refs[mid].r.hi, ix.fill(lo, mid), ix.fill(mid+1, hi))
	ix.maxHi[mid] = m
	return m
}

// stab appends the next states of the ranges in refs[lo:hi] that hold x.
func (ix *rangeIndex) stab(lo, hi int, x float64, out []int32) []int32 {
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ix.maxHi[mid] < x {
			return out
		}
		out = ix.stab(lo, mid, x, out)
		r := &ix.refs[mid]
		if r.r.lo > x {
			return out
		}
		if r.r.contains(x) {
			out = append(out, r.next)
		}
		lo = mid + 1
	}
	return out
}

// builder state
type buildState struct {
	trans map[string]*buildMachine
	term  []int32
}

type buildMachine struct {
	sets  map[string]int32 // condition-set key → set number
	conds [][]cond         // per set
	abs   []bool           // per set: has exists:false
	next  []int32          // per set
}

func build(patterns map[string]*Pattern, version uint64) *snapshot {
	s := &snapshot{version: version, paths: map[string]int32{}, lookup: map[string]pathInfo{}}
	ids := make([]string, 0, len(patterns))
	for id := range patterns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	s.ids = ids
	spread := pathSpread(patterns)
	bstates := []*buildState{{trans: map[string]*buildMachine{}}}
	type fieldOrder struct {
		rank, spread int
		f            *field
	}
	var order []fieldOrder
	for pi, id := range ids {
		for _, c := range patterns[id].clauses {
			order = order[:0]
			for i := range c {
				o := fieldOrder{rank: fieldRank(&c[i]), f: &c[i]}
				if o.rank <= 1 {
					o.spread = spread[c[i].path]
				}
				order = append(order, o)
			}
			slices.SortStableFunc(order, func(a, b fieldOrder) int {
				if a.rank != b.rank {
					return a.rank - b.rank
				}
				if a.spread != b.spread {
					return b.spread - a.spread
				}
				return strings.Compare(a.f.path, b.f.path)
			})
			st := int32(0)
			for _, o := range order {
				f := o.f
				if _, ok := s.paths[f.path]; !ok {
					s.paths[f.path] = int32(len(s.paths))
					for i := 0; i < len(f.path); i++ {
						if f.path[i] == '.' {
							pi := s.lookup[f.path[:i]]
							if !pi.inner {
								if _, ok := s.paths[f.path[:i]]; !ok {
									pi.id = -1
								}
								pi.inner = true
								s.lookup[f.path[:i]] = pi
							}
						}
					}
				}
				bm := bstates[st].trans[f.path]
				if bm == nil {
					bm = &buildMachine{sets: map[string]int32{}}
					bstates[st].trans[f.path] = bm
				}
				set, ok := bm.sets[f.key]
				if !ok {
					set = int32(len(bm.conds))
					bm.sets[f.key] = set
					bm.conds = append(bm.conds, f.conds)
					bm.abs = append(bm.abs, f.absent)
					bm.next = append(bm.next, int32(len(bstates)))
					bstates = append(bstates, &buildState{trans: map[string]*buildMachine{}})
				}
				st = bm.next[set]
			}
			if !slices.Contains(bstates[st].term, int32(pi)) {
				bstates[st].term = append(bstates[st].term, int32(pi))
			}
		}
	}
	for p, id := range s.paths {
		pi, ok := s.lookup[p]
		if !ok {
			pi.inner = false
		}
		pi.id = id
		s.lookup[p] = pi
	}
	s.nPaths = len(s.paths)
	s.exact.seed = maphash.MakeSeed()
	mc := &machineCompiler{s: s, exact: map[exactKey][]int32{}, ref: make([]int32, len(bstates))}
	tail, covered := tailStates(bstates)
	size := 0
	for i, bs := range bstates {
		switch {
		case covered[i]:
			continue
		case i > 0 && len(bs.trans) == 0 && len(bs.term) == 1:
			mc.ref[i] = -1 - bs.term[0]
			continue
		case tail[i] >= 0:
			mc.ref[i] = int32(size)
			size++
			continue
		}
		mc.ref[i] = int32(size)
		size += 1 + len(bs.trans)
	}
	s.trans = make([]transition, 0, size)
	var paths []string
	for i, bs := range bstates {
		if covered[i] || mc.ref[i] < 0 {
			continue
		}
		if tail[i] >= 0 {
			s.trans = append(s.trans, s.compileTail(bstates, i, tail[i]))
			continue
		}
		n := int32(len(bs.trans))
		if len(bs.term) == 1 {
			s.trans = append(s.trans, stateHeader(n, bs.term[0], -1))
		} else {
			s.trans = append(s.trans, stateHeader(n, int32(len(s.terminal)), int32(len(s.terminal)+len(bs.term))))
			s.terminal = append(s.terminal, bs.term...)
		}
		paths = paths[:0]
		for path := range bs.trans {
			paths = append(paths, path)
		}
		slices.SortFunc(paths, func(a, b string) int { return int(s.paths[a] - s.paths[b]) })
		for _, path := range paths {
			s.trans = append(s.trans, mc.compile(bs.trans[path], s.paths[path], uint32(len(s.trans))))
		}
	}
	s.exact.fill(mc.exact)
	return s
}

// tailStates returns, for each build state, the pattern it leads to when it
// starts a tail (see tailField), or -1; and which states lie inside a tail
// that starts before them, so that nothing refers to them. A tail state has
// no pattern ending at it and one transition with one condition set, whose
// conditions the walk can test directly (see tailCond), to a state that ends
// one pattern or is a tail state. States are created after their parents,
// so one pass from the end finds every tail.
func tailStates(bstates []*buildState) (tail []int32, covered []bool) {
	tail = make([]int32, len(bstates))
	covered = make([]bool, len(bstates))
	for i := len(bstates) - 1; i >= 0; i-- {
		tail[i] = -1
		bs := bstates[i]
		if i == 0 || len(bs.term) != 0 || len(bs.trans) != 1 {
			continue
		}
		for _, bm := range bs.trans {
			if len(bm.conds) != 1 || len(bm.conds[0]) == 0 && !bm.abs[0] ||
				slices.ContainsFunc(bm.conds[0], func(c cond) bool { return !tailCond(c) }) {
				break
			}
			next := bstates[bm.next[0]]
			switch {
			case len(next.trans) == 0 && len(next.term) == 1:
				tail[i] = next.term[0]
			case tail[bm.next[0]] >= 0:
				tail[i] = tail[bm.next[0]]
			}
		}
	}
	for i, bs := range bstates {
		if tail[i] < 0 {
			continue
		}
		for _, bm := range bs.trans {
			covered[bm.next[0]] = true
		}
	}
	return tail, covered
}

// tailCond reports whether the walk tests condition c of a tail directly,
// with cond.matches: the kinds it answers without allocating.
func tailCond(c cond) bool {
	switch c.kind {
	case condString, condNumber, condTrue, condFalse, condNull, condExists, condNumeric, condWildcard:
		return true
	case condPrefix, condSuffix:
		return !c.fold
	}
	return false
}

// compileTail returns the header of tail state i, which leads to pattern p,
// adding its fields to s.tails.
func (s *snapshot) compileTail(bstates []*buildState, i int, p int32) transition {
	off := len(s.tails)
	for st := i; len(bstates[st].trans) == 1; {
		for path, bm := range bstates[st].trans {
			f := tailField{path: s.paths[path], conds: span{off: int32(len(s.tconds)), n: int32(len(bm.conds[0]))}, absent: bm.abs[0]}
			s.tconds = append(s.tconds, bm.conds[0]...)
			s.tails = append(s.tails, f)
			st = int(bm.next[0])
		}
	}
	return transition{flags: stateTail, path: p, bloom: uint64(off)<<32 | uint64(len(s.tails)-off)}
}

// tail reports whether the event has array-consistent leaves, consistent
// with those already chosen, that meet the given tail fields.
func (s *snapshot) tail(sc *scratch, fields []tailField) bool {
	if len(fields) == 0 {
		return true
	}
	f := &fields[0]
	fl := &sc.fl
	head := fl.head[f.path]
	if head < 0 {
		return f.absent && s.tail(sc, fields[1:])
	}
	conds := s.tconds[f.conds.off : f.conds.off+f.conds.n]
	for li := head; li >= 0; li = fl.leaves[li].next {
		trail := fl.trailOf(li)
		if !sc.consistent(trail) {
			continue
		}
		v := fl.leaves[li].val
		ok := false
		for i := range conds {
			if conds[i].matches(v) {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		sc.fix(trail)
		found := s.tail(sc, fields[1:])
		sc.unfix(trail)
		if found {
			return true
		}
	}
	return false
}

// fieldRank orders the fields of a clause in the automaton so that the walk
// narrows to few states early: first fields whose conditions are all exact
// values (answered by hash lookups), then fields with prefixes, suffixes,
// wildcards or CIDR blocks, which hold for few values, then numeric ranges,
// then anything-but and exists, which hold for most values, and last fields
// that an absent path satisfies. Within the first two ranks, paths with a
// larger spread (see pathSpread) come first; otherwise fields go by path.
// Any order is correct; one order for every clause makes clauses share
// states.
func fieldRank(f *field) int {
	if f.absent {
		return 4
	}
	rank := 0
	for i := range f.conds {
		switch f.conds[i].kind {
		case condString, condNumber, condTrue, condFalse, condNull, condEqualsFold:
		case condPrefix, condSuffix, condWildcard, condCIDR:
			rank = max(rank, 1)
		case condNumeric:
			rank = max(rank, 2)
		default:
			rank = 3
		}
	}
	return rank
}

// pathSpread returns, for each path that some pattern tests with fields of
// rank 0 or 1 (see fieldRank), the number of distinct values, prefixes,
// suffixes, wildcards and CIDR blocks those fields look for there. One event
// value reaches the states of the few patterns whose conditions it meets,
// so a path with more distinct conditions divides the patterns into smaller
// groups: putting it first keeps the partial matches an event reaches few.
// (Ranges and anything-but can hold for most values, so they are not
// counted: those fields go by path.)
func pathSpread(patterns map[string]*Pattern) map[string]int {
	values := map[string]map[exactValue]bool{}
	for _, p := range patterns {
		for _, c := range p.clauses {
			for i := range c {
				f := &c[i]
				if fieldRank(f) > 1 {
					continue
				}
				if values[f.path] == nil {
					values[f.path] = map[exactValue]bool{}
				}
				for j := range f.conds {
					values[f.path][valueKey(&f.conds[j])] = true
				}
			}
		}
	}
	spread := make(map[string]int, len(values))
	for path, v := range values {
		spread[path] = len(v)
	}
	return spread
}

// exactValue identifies the value an exact condition looks for, or the
// prefix, suffix, wildcard or CIDR block of a condition of rank 1.
type exactValue struct {
	kind condKind
	key  string
}

func valueKey(c *cond) exactValue {
	v := exactValue{kind: c.kind, key: c.str}
	switch c.kind {
	case condNumber:
		v.key = strconv.FormatUint(math.Float64bits(c.num), 16)
	case condWildcard:
		v.key = c.wild[0].src
	case condCIDR:
		v.key = c.cidr.String()
	}
	return v
}

func fieldKey(f *field) string {
	keys := make([]string, 0, len(f.conds)+1)
	for i := range f.conds {
		keys = append(keys, f.conds[i].key())
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if f.absent {
		keys = append(keys, "absent")
	}
	return strings.Join(keys, "\x00")
}

// machineCompiler compiles the value machines of one snapshot, collecting
// their keys for the shared exact table.
type machineCompiler struct {
	s     *snapshot
	exact map[exactKey][]int32
	// ref is how machines name each state: its number, or -1-p for a
	// state that only says pattern p matches, so that the walk need not
	// look the state up.
	ref   []int32
	id    uint32
	bloom uint64
	lens  [nAffix][]uint32
	// affixHashes are the hashes of the machine's affix keys.
	affixHashes []uint64
}

// add stores value next under (machine, kind, key), once.
func (mc *machineCompiler) add(kind uint8, key string, next int32) {
	k := exactKey{machine: mc.id, kind: kind, key: key}
	if !slices.Contains(mc.exact[k], next) {
		mc.exact[k] = append(mc.exact[k], next)
	}
	h := mc.s.exact.hash(mc.id, kind, []byte(key))
	mc.bloom |= bloomBit(h)
	if kind >= exactPrefix {
		mc.affixHashes = append(mc.affixHashes, h)
		a := kind - exactPrefix
		if !slices.Contains(mc.lens[a], uint32(len(key))) {
			mc.lens[a] = append(mc.lens[a], uint32(len(key)))
		}
	}
}

// wildcard returns the number of the machine's entry for wildcard w, adding
// it (indexed by its literal prefix) if it is new: equal wildcards are
// tested once for all their next states.
func (mc *machineCompiler) wildcard(w *wildcard, index map[string]int32) int32 {
	s := mc.s
	if wi, ok := index[w.src]; ok {
		return wi
	}
	wi := int32(len(s.wilds))
	index[w.src] = wi
	e := wildEntry{segs: span{off: int32(len(s.wsegs)), n: int32(len(w.segs))}}
	for i := 1; i < len(w.segs)-1; i++ {
		e.grams.add([]byte(w.segs[i]))
	}
	for _, seg := range w.segs {
		s.wsegs = append(s.wsegs, span{off: int32(len(s.warena)), n: int32(len(seg))})
		s.warena = append(s.warena, seg...)
	}
	s.wilds = append(s.wilds, e)
	mc.add(exactWild, w.literalPrefix(), wi)
	return wi
}

// compile compiles the machine of path from one state into transition id.
func (mc *machineCompiler) compile(bm *buildMachine, path int32, id uint32) transition {
	s := mc.s
	mc.id = id
	mc.bloom = 0
	mc.affixHashes = mc.affixHashes[:0]
	for i := range mc.lens {
		mc.lens[i] = mc.lens[i][:0]
	}
	vm := &valueMachine{}
	var flags uint8
	wildIndex := map[string]int32{}
	firstWild := int32(len(s.wilds))
	var wildNext [][]int32 // per entry of this machine
	var between []rangeRef
	var others []condRef
	for set, conds := range bm.conds {
		next := mc.ref[bm.next[set]]
		if bm.abs[set] {
			flags |= hasAbsent
			vm.absent = append(vm.absent, next)
		}
		for i := range conds {
			c := &conds[i]
			switch c.kind {
			case condString:
				flags |= hasStr
				mc.add(exactStr, c.str, next)
			case condNumber:
				flags |= hasNum
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(c.num))
				mc.add(exactNum, string(b[:]), next)
			case condEqualsFold:
				flags |= hasFold
				mc.add(exactFold, c.str, next)
			case condTrue:
				flags |= hasOwn
				vm.trueSets = append(vm.trueSets, next)
			case condFalse:
				flags |= hasOwn
				vm.falseSets = append(vm.falseSets, next)
			case condNull:
				flags |= hasOwn
				vm.nullSets = append(vm.nullSets, next)
			case condPrefix:
				flags |= hasAffix
				if c.fold {
					mc.add(exactPrefixFold, c.str, next)
				} else {
					mc.add(exactPrefix, c.str, next)
				}
			case condSuffix:
				flags |= hasAffix
				if c.fold {
					mc.add(exactSuffixFold, c.str, next)
				} else {
					mc.add(exactSuffix, c.str, next)
				}
			case condWildcard:
				flags |= hasAffix
				wi := mc.wildcard(&c.wild[0], wildIndex) - firstWild
				if int(wi) == len(wildNext) {
					wildNext = append(wildNext, nil)
				}
				if !slices.Contains(wildNext[wi], next) {
					wildNext[wi] = append(wildNext[wi], next)
				}
			case condCIDR:
				flags |= hasOwn
				if vm.cidr == nil {
					vm.cidr = map[netip.Prefix][]int32{}
				}
				if !slices.Contains(vm.cidrBits, c.cidr.Bits()) {
					vm.cidrBits = append(vm.cidrBits, c.cidr.Bits())
				}
				vm.cidr[c.cidr] = append(vm.cidr[c.cidr], next)
			case condNumeric:
				flags |= hasOwn
				rr := rangeRef{r: c.rng, next: next}
				switch {
				case math.IsInf(c.rng.hi, 1):
					vm.lower = append(vm.lower, rr)
				case math.IsInf(c.rng.lo, -1):
					vm.upper = append(vm.upper, rr)
				default:
					between = append(between, rr)
				}
			default:
				flags |= hasOwn
				others = append(others, condRef{c: *c, next: next})
			}
		}
	}
	vm.other = span{off: int32(len(s.others)), n: int32(len(others))}
	s.others = append(s.others, others...)
	for i, next := range wildNext {
		s.wilds[firstWild+int32(i)].next = span{off: int32(len(s.wnext)), n: int32(len(next))}
		s.wnext = append(s.wnext, next...)
	}
	t := transition{bloom: mc.bloom, path: path, flags: flags}
	if flags&hasAffix != 0 {
		t.affix = int32(len(s.lens))
		var hdr [affixHeader]uint32
		if len(mc.affixHashes) > affixBloomMin {
			// About 16 bits per key: one in 16 probes of an absent key passes.
			words := 1
			for words*64 < 16*len(mc.affixHashes) {
				words *= 2
			}
			hdr[0], hdr[1] = uint32(len(s.blooms)), uint32(words)
			s.blooms = append(s.blooms, make([]uint64, words)...)
			f := s.blooms[hdr[0]:]
			for _, h := range mc.affixHashes {
				b := affixBloomBit(h, words)
				f[b>>6] |= 1 << (b & 63)
			}
		}
		s.lens = append(s.lens, hdr[:]...)
		for a, lens := range mc.lens {
			slices.Sort(lens)
			s.lens = append(s.lens, lens...)
			s.lens[int(t.affix)+2+a] = uint32(len(s.lens))
		}
	}
	slices.SortFunc(vm.lower, func(a, b rangeRef) int { return cmp.Compare(a.r.lo, b.r.lo) })
	slices.SortFunc(vm.upper, func(a, b rangeRef) int { return cmp.Compare(b.r.hi, a.r.hi) })
	if len(between) > 0 {
		vm.between = newRangeIndex(between)
	}
	if flags&(hasAffix|hasOwn|hasAbsent) != 0 {
		t.vm = int32(len(s.vms))
		s.vms = append(s.vms, *vm)
	}
	return t
}

// scratch is per-Match working memory, reused through a sync.Pool.
type scratch struct {
	fl      flattener
	visited stampSet // states visited with no array element fixed
	seen    stampSet // patterns matched
	sets    []int32  // stack of matched condition sets
	hits    []int32
	// array-consistency state: per array of the event, the element fixed
	// by the chosen leaves and how many chosen leaves fix it
	fixed      []int32
	refs       []int32
	fixedStack []int32
	cons       []arrayPos
	memo       memoSet
	bits       []uint64
}

func (s *snapshot) match(sc *scratch, event []byte) ([]string, error) {
	sc.fl.reset(s, event)
	if err := sc.fl.run(); err != nil {
		return nil, err
	}
	sc.visited.reset()
	sc.seen.reset()
	sc.hits = sc.hits[:0]
	if n := int(sc.fl.arrays); n > 0 {
		if len(sc.refs) < n {
			sc.refs = make([]int32, n)
			sc.fixed = make([]int32, n)
		}
		sc.memo.reset()
	}
	sc.fixedStack = sc.fixedStack[:0]
	s.walk(sc, 0)
	if len(sc.hits) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(sc.hits))
	if len(sc.hits) < 32 {
		slices.Sort(sc.hits)
		for _, h := range sc.hits {
			out = append(out, s.ids[h])
		}
		return out, nil
	}
	// Many hits: pattern numbers are dense, so a bitmap puts them in order
	// faster than a comparison sort.
	words := (len(s.ids) + 63) / 64
	if cap(sc.bits) < words {
		sc.bits = make([]uint64, words)
	}
	bitmap := sc.bits[:words]
	for _, h := range sc.hits {
		bitmap[h>>6] |= 1 << (h & 63)
	}
	for w, word := range bitmap {
		for word != 0 {
			out = append(out, s.ids[w*64+bits.TrailingZeros64(word)])
			word &= word - 1
		}
		bitmap[w] = 0
	}
	return out, nil
}

// walk visits state st and every state reachable from it with leaves that
// are array-consistent with the leaves chosen on the way here. The leaves
// chosen so far matter only through the array elements they fix, so a state
// already visited with the same fixed elements is not explored again.
func (s *snapshot) walk(sc *scratch, st int32) {
	if st < 0 { // a state that only says that pattern -1-st matches
		if sc.seen.insert(-1 - st) {
			sc.hits = append(sc.hits, -1-st)
		}
		return
	}
	fl := &sc.fl
	if len(sc.fixedStack) == 0 {
		if !sc.visited.insert(st) {
			return
		}
	} else if !sc.memo.insert(st, sc.constraints()) {
		return
	}
	if h := &s.trans[st]; h.flags&stateTail != 0 {
		p := h.path
		if !sc.seen.has(p) && s.tail(sc, s.tails[h.bloom>>32:h.bloom>>32+h.bloom&0xffffffff]) {
			sc.seen.insert(p)
			sc.hits = append(sc.hits, p)
		}
		return
	}
	n, termStart, termEnd := s.trans[st].header()
	if termEnd < 0 {
		if sc.seen.insert(termStart) {
			sc.hits = append(sc.hits, termStart)
		}
	} else {
		for _, pi := range s.terminal[termStart:termEnd] {
			if sc.seen.insert(pi) {
				sc.hits = append(sc.hits, pi)
			}
		}
	}
	for ti := st + 1; ti <= st+n; ti++ {
		t := &s.trans[ti]
		head := fl.head[t.path]
		if head < 0 {
			if t.flags&hasAbsent != 0 {
				for _, nx := range s.vms[t.vm].absent {
					s.walk(sc, nx)
				}
			}
			continue
		}
		for li := head; li >= 0; li = fl.leaves[li].next {
			trail := fl.trailOf(li)
			if !sc.consistent(trail) {
				continue
			}
			base := len(sc.sets)
			sc.sets = s.matchLeaf(ti, fl, li, sc.sets)
			if len(sc.sets) == base {
				continue
			}
			sc.fix(trail)
			for k := base; k < len(sc.sets); k++ {
				set := sc.sets[k]
				dup := false
				for j := base; j < k; j++ {
					if sc.sets[j] == set {
						dup = true
						break
					}
				}
				if !dup {
					s.walk(sc, set)
				}
			}
			sc.unfix(trail)
			sc.sets = sc.sets[:base]
		}
	}
}

// consistent reports whether a leaf with this trail lies in the array
// elements already fixed by the chosen leaves.
func (sc *scratch) consistent(trail []arrayPos) bool {
	for _, p := range trail {
		if sc.refs[p.array] > 0 && sc.fixed[p.array] != p.index {
			return false
		}
	}
	return true
}

func (sc *scratch) fix(trail []arrayPos) {
	for _, p := range trail {
		if sc.refs[p.array] == 0 {
			sc.fixed[p.array] = p.index
			sc.fixedStack = append(sc.fixedStack, p.array)
		}
		sc.refs[p.array]++
	}
}

func (sc *scratch) unfix(trail []arrayPos) {
	for i := len(trail) - 1; i >= 0; i-- {
		a := trail[i].array
		sc.refs[a]--
		if sc.refs[a] == 0 {
			sc.fixedStack = sc.fixedStack[:len(sc.fixedStack)-1]
		}
	}
}

// constraints returns the fixed array elements, sorted by array.
func (sc *scratch) constraints() []arrayPos {
	c := sc.cons[:0]
	for _, a := range sc.fixedStack {
		// Insertion sort: there are seldom more than a few.
		p := arrayPos{array: a, index: sc.fixed[a]}
		i := len(c)
		c = append(c, p)
		for ; i > 0 && c[i-1].array > a; i-- {
			c[i] = c[i-1]
		}
		c[i] = p
	}
	sc.cons = c
	return c
}

// stampSet is a set of non-negative int32, emptied in constant time by
// reset. It is sized by what one event adds to it, not by the automaton, so
// it stays in the CPU cache however many patterns the Matcher holds.
type stampSet struct {
	slots []uint64 // epoch<<32 | value; a slot of an older epoch is empty
	epoch uint32
	n     int
}

func (m *stampSet) reset() {
	m.epoch++
	m.n = 0
	if m.epoch == 0 { // wrapped: old entries would look current
		clear(m.slots)
		m.epoch = 1
	}
}

// insert adds x and reports whether it was absent.
func (m *stampSet) insert(x int32) bool {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	want := uint64(m.epoch)<<32 | uint64(uint32(x))
	mask := uint64(len(m.slots) - 1)
	for i := (uint64(uint32(x)) * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		v := m.slots[i]
		if v == want {
			return false
		}
		if uint32(v>>32) != m.epoch {
			m.slots[i] = want
			m.n++
			return true
		}
	}
}

// has reports whether x is in the set.
func (m *stampSet) has(x int32) bool {
	if len(m.slots) == 0 {
		return false
	}
	want := uint64(m.epoch)<<32 | uint64(uint32(x))
	mask := uint64(len(m.slots) - 1)
	for i := (uint64(uint32(x)) * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		v := m.slots[i]
		if v == want {
			return true
		}
		if uint32(v>>32) != m.epoch {
			return false
		}
	}
}

func (m *stampSet) grow() {
	old := m.slots
	m.slots = make([]uint64, max(64, 2*len(old)))
	m.n = 0
	for _, v := range old {
		if uint32(v>>32) == m.epoch {
			m.insert(int32(uint32(v)))
		}
	}
}

// memoSet is a set of (state, fixed array elements) keys, emptied per event
// in constant time.
type memoSet struct {
	slots []memoSlot
	arena []arrayPos
	used  int
	epoch uint32
}

type memoSlot struct {
	hash  uint64
	state int32
	start int32
	n     int32
	epoch uint32 // the slot is full when it is the set's epoch
}

func (m *memoSet) reset() {
	m.epoch++
	if m.epoch == 0 { // wrapped: old slots would look full
		clear(m.slots)
		m.epoch = 1
	}
	m.used = 0
	m.arena = m.arena[:0]
}

func memoHash(st int32, cons []arrayPos) uint64 {
	h := uint64(st)*0x9e3779b97f4a7c15 + 1
	for _, c := range cons {
		h ^= uint64(uint32(c.array))<<32 | uint64(uint32(c.index))
		h *= 0xff51afd7ed558ccd
		h ^= h >> 33
	}
	return h
}

// insert adds the key and reports whether it was absent.
func (m *memoSet) insert(st int32, cons []arrayPos) bool {
	if 2*(m.used+1) > len(m.slots) {
		m.grow()
	}
	h := memoHash(st, cons)
	mask := uint64(len(m.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &m.slots[i]
		if sl.epoch != m.epoch {
			*sl = memoSlot{hash: h, state: st, start: int32(len(m.arena)), n: int32(len(cons)), epoch: m.epoch}
			m.arena = append(m.arena, cons...)
			m.used++
			return true
		}
		if sl.hash == h && sl.state == st && slices.Equal(m.arena[sl.start:sl.start+sl.n], cons) {
			return false
		}
	}
}

func (m *memoSet) grow() {
	old := m.slots
	n := max(64, 2*len(old))
	m.slots = make([]memoSlot, n)
	mask := uint64(n - 1)
	for _, sl := range old {
		if sl.epoch != m.epoch {
			continue
		}
		i := sl.hash & mask
		for m.slots[i].epoch == m.epoch {
			i = (i + 1) & mask
		}
		m.slots[i] = sl
	}
}

// matchLeaf appends the next states leaf li leads to through transition t.
func (s *snapshot) matchLeaf(ti int32, fl *flattener, li int32, out []int32) []int32 {
	t := &s.trans[ti]
	id := uint32(ti)
	v := fl.leaves[li].val
	switch v.kind {
	case kindString:
		if t.flags&hasStr != 0 {
			if h := keyHash(id, exactStr, fl.hashOf(li, s.exact.seed)); t.bloom&bloomBit(h) != 0 {
				out = s.exact.find(h, id, exactStr, v.b, out)
			}
		}
		if t.flags&hasFold != 0 {
			out = s.exact.lookup(id, t.bloom, exactFold, fl.lowerOf(li), out)
		}
		if t.flags&hasAffix != 0 {
			out = s.matchAffixes(t, id, fl, li, out)
		}
	case kindNumber:
		if t.flags&hasNum != 0 && v.numOK {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v.num))
			out = s.exact.lookup(id, t.bloom, exactNum, b[:], out)
		}
	}
	if t.flags&hasOwn == 0 {
		return out
	}
	return s.matchOwn(&s.vms[t.vm], fl, li, out)
}

// matchAffixes appends the next states string leaf li leads to through the
// prefixes, suffixes and wildcards of transition t.
func (s *snapshot) matchAffixes(t *transition, id uint32, fl *flattener, li int32, out []int32) []int32 {
	hdr := (*[affixHeader]uint32)(s.lens[t.affix:])
	b := fl.leaves[li].val.b
	out = s.affixes(t, hdr, id, exactPrefix, b, out)
	out = s.affixes(t, hdr, id, exactSuffix, b, out)
	const pf, sf, wild = 2 + exactPrefixFold - exactPrefix, 2 + exactSuffixFold - exactPrefix, 2 + exactWild - exactPrefix
	if hdr[pf] > hdr[pf-1] || hdr[sf] > hdr[sf-1] { // some prefix or suffix with equals-ignore-case
		low := fl.lowerOf(li)
		out = s.affixes(t, hdr, id, exactPrefixFold, low, out)
		out = s.affixes(t, hdr, id, exactSuffixFold, low, out)
	}
	if hdr[wild] > hdr[wild-1] {
		// The wildcards whose literal prefix b starts with are candidates;
		// each that matches is replaced by its next states.
		base := len(out)
		out = s.affixes(t, hdr, id, exactWild, b, out)
		end := len(out)
		var grams *bigramSet
		if end-base >= bigramMinCandidates {
			grams = fl.gramsOf(li)
		}
		for _, wi := range out[base:end] {
			e := &s.wilds[wi]
			if grams != nil && e.segs.n > 2 && !grams.covers(&e.grams) {
				continue
			}
			if s.wildMatch(e, b) {
				out = append(out, s.wnext[e.next.off:e.next.off+e.next.n]...)
			}
		}
		out = out[:base+copy(out[base:], out[end:])]
	}
	return out
}

// affixes appends the values stored in transition t's machine (number id)
// under affix kind for every prefix of b, or every suffix for the suffix
// kinds, whose length the machine stores.
func (s *snapshot) affixes(t *transition, hdr *[affixHeader]uint32, id uint32, kind uint8, b []byte, out []int32) []int32 {
	a := 2 + kind - exactPrefix
	start := uint32(int(t.affix) + affixHeader)
	if a > 2 {
		start = hdr[a-1]
	}
	filter := s.blooms[hdr[0] : hdr[0]+hdr[1]]
	suffix := kind == exactSuffix || kind == exactSuffixFold
	for _, n := range s.lens[start:hdr[a]] {
		if int(n) > len(b) {
			break
		}
		key := b[:n]
		if suffix {
			key = b[len(b)-int(n):]
		}
		h := s.exact.hash(id, kind, key)
		if t.bloom&bloomBit(h) == 0 {
			continue
		}
		if len(filter) > 0 {
			if bit := affixBloomBit(h, len(filter)); filter[bit>>6]&(1<<(bit&63)) == 0 {
				continue
			}
		}
		out = s.exact.find(h, id, kind, key, out)
	}
	return out
}

// wildMatch reports whether b matches wildcard entry e; it is
// [wildcard.match] over the snapshot's flat copy of the segments.
func (s *snapshot) wildMatch(e *wildEntry, b []byte) bool {
	segs := s.wsegs[e.segs.off : e.segs.off+e.segs.n]
	first := s.warena[segs[0].off : segs[0].off+segs[0].n]
	if len(segs) == 1 {
		return string(b) == string(first)
	}
	l := segs[len(segs)-1]
	last := s.warena[l.off : l.off+l.n]
	if len(b) < len(first)+len(last) || !bytes.HasPrefix(b, first) || !bytes.HasSuffix(b, last) {
		return false
	}
	b = b[len(first) : len(b)-len(last)]
	for _, sg := range segs[1 : len(segs)-1] {
		p := s.warena[sg.off : sg.off+sg.n]
		i := bytes.Index(b, p)
		if i < 0 {
			return false
		}
		b = b[i+len(p):]
	}
	return true
}

// matchOwn appends the next states leaf li leads to through the conditions
// the machine holds itself.
func (s *snapshot) matchOwn(vm *valueMachine, fl *flattener, li int32, out []int32) []int32 {
	v := fl.leaves[li].val
	switch v.kind {
	case kindString:
		if vm.cidr != nil {
			if a, ok := fl.addrOf(li); ok {
				for _, bits := range vm.cidrBits {
					if bits > a.BitLen() {
						continue
					}
					p, err := a.Prefix(bits)
					if err == nil {
						out = append(out, vm.cidr[p]...)
					}
				}
			}
		}
	case kindNumber:
		if !v.numOK {
			break
		}
		x := v.num
		// lower: sorted by lo ascending; every range with lo below x holds.
		for i := range vm.lower {
			r := &vm.lower[i]
			if r.r.lo > x {
				break
			}
			if r.r.contains(x) {
				out = append(out, r.next)
			}
		}
		// upper: sorted by hi descending.
		for i := range vm.upper {
			r := &vm.upper[i]
			if r.r.hi < x {
				break
			}
			if r.r.contains(x) {
				out = append(out, r.next)
			}
		}
		out = vm.between.stab(0, len(vm.between.refs), x, out)
	case kindTrue:
		out = append(out, vm.trueSets...)
	case kindFalse:
		out = append(out, vm.falseSets...)
	case kindNull:
		out = append(out, vm.nullSets...)
	}
	others := s.others[vm.other.off : vm.other.off+vm.other.n]
	for i := range others {
		r := &others[i]
		if r.c.matches(v) {
			out = append(out, r.next)
		}
	}
	return out
}
