package pattern

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"sort"
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

// snapshot is an immutable compiled automaton over a set of patterns.
type snapshot struct {
	version  uint64
	paths    map[string]int32    // path → id, for every path a pattern names
	lookup   map[string]pathInfo // paths and their proper dotted prefixes
	nPaths   int
	states   []nameState
	trans    []transition
	terminal []int32
	exact    exactTable
	ids      []string // pattern number → id
}

// pathInfo says what the flattener keeps at a path: its leaves (id >= 0)
// and/or the fields below it (inner).
type pathInfo struct {
	id    int32
	inner bool
}

// nameState is one automaton state: the fields matched so far by the clauses
// that lead here. Its transitions are trans[transStart:transEnd] of the
// snapshot, sorted by path id; the patterns whose clause ends here are
// terminal[termStart:termEnd]. States, transitions and terminals are stored
// in three flat arrays, in state order, for locality.
type nameState struct {
	transStart, transEnd int32
	termStart, termEnd   int32
}

type transition struct {
	path  int32
	id    uint32 // machine number, the key prefix in the snapshot's exact table
	flags uint8  // which lookups the machine needs
	m     *valueMachine
}

// Machine flags: exact string, exact number, equals-ignore-case lookups in
// the shared exact table, and anything held in the valueMachine itself.
const (
	hasStr uint8 = 1 << iota
	hasNum
	hasFold
	hasOwn
)

// Kinds of keys in the exact table.
const (
	exactStr uint8 = iota
	exactNum
	exactFold
)

// exactTable is one open-addressing hash table shared by every machine of a
// snapshot, from (machine, kind, value) to next states. Keeping all exact
// lookups in one flat table keeps a large automaton's hot data compact.
type exactTable struct {
	seed  maphash.Seed
	slots []exactSlot
	mask  uint64
	keys  []byte
	more  []int32
}

type exactSlot struct {
	hash    uint64
	machine uint32
	keyOff  uint32
	keyLen  uint32
	first   int32 // first next state
	moreOff int32 // further next states: more[moreOff : moreOff+moreN]
	moreN   int32
	kind    uint8
	used    bool
}

type exactKey struct {
	machine uint32
	kind    uint8
	key     string
}

func (t *exactTable) hash(machine uint32, kind uint8, key []byte) uint64 {
	h := maphash.Bytes(t.seed, key) ^ (uint64(machine)<<8|uint64(kind))*0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

func newExactTable(entries map[exactKey][]int32) exactTable {
	t := exactTable{seed: maphash.MakeSeed()}
	n := 16
	for n < 2*len(entries) {
		n *= 2
	}
	t.slots = make([]exactSlot, n)
	t.mask = uint64(n - 1)
	for k, next := range entries {
		h := t.hash(k.machine, k.kind, []byte(k.key))
		i := h & t.mask
		for t.slots[i].used {
			i = (i + 1) & t.mask
		}
		t.slots[i] = exactSlot{hash: h, machine: k.machine, kind: k.kind, keyOff: uint32(len(t.keys)), keyLen: uint32(len(k.key)),
			first: next[0], moreOff: int32(len(t.more)), moreN: int32(len(next) - 1), used: true}
		t.keys = append(t.keys, k.key...)
		t.more = append(t.more, next[1:]...)
	}
	return t
}

// lookup appends the next states stored for (machine, kind, key).
func (t *exactTable) lookup(machine uint32, kind uint8, key []byte, out []int32) []int32 {
	h := t.hash(machine, kind, key)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if !sl.used {
			return out
		}
		if sl.hash == h && sl.machine == machine && sl.kind == kind && string(t.keys[sl.keyOff:sl.keyOff+sl.keyLen]) == string(key) {
			out = append(out, sl.first)
			return append(out, t.more[sl.moreOff:sl.moreOff+sl.moreN]...)
		}
	}
}

// valueMachine maps a value at one path to the next states: each distinct
// condition set (a field's OR-list) from the owning state has its own next
// state. Exact and equals-ignore-case values are in the snapshot's exact
// table; everything else is here. All tables hold next-state numbers.
type valueMachine struct {
	absent    []int32 // next states taken when the event has no leaf at the path
	trueSets  []int32
	falseSets []int32
	nullSets  []int32
	prefix    affixTable
	prefixF   affixTable // prefix with equals-ignore-case
	suffix    affixTable
	suffixF   affixTable
	wildPre   affixTable // wildcard conditions indexed by literal prefix → index in wild
	wild      []wildRef
	cidrBits  []int                    // distinct prefix lengths in cidr
	cidr      map[netip.Prefix][]int32 // masked prefix → sets
	lower     []rangeRef               // numeric ranges with only a lower bound, by lo
	upper     []rangeRef               // numeric ranges with only an upper bound, by hi
	between   []rangeRef               // numeric ranges with both bounds, by lo
	other     []condRef                // every other condition, tested one by one
}

type rangeRef struct {
	r    numRange
	next int32 // next state
}

type wildRef struct {
	w    *wildcard
	next []int32
}

type condRef struct {
	c    *cond
	next int32 // next state
}

// affixTable finds every stored string that is a prefix (or suffix) of a
// value by probing only the lengths stored.
type affixTable struct {
	lens []int
	m    map[string][]int32
}

func (a *affixTable) add(s string, next int32) {
	if a.m == nil {
		a.m = map[string][]int32{}
	}
	if _, ok := a.m[s]; !ok && !slices.Contains(a.lens, len(s)) {
		a.lens = append(a.lens, len(s))
		slices.Sort(a.lens)
	}
	a.m[s] = append(a.m[s], next)
}

func (a *affixTable) prefixes(b []byte, out []int32) []int32 {
	for _, n := range a.lens {
		if n > len(b) {
			break
		}
		out = append(out, a.m[string(b[:n])]...)
	}
	return out
}

func (a *affixTable) suffixes(b []byte, out []int32) []int32 {
	for _, n := range a.lens {
		if n > len(b) {
			break
		}
		out = append(out, a.m[string(b[len(b)-n:])]...)
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
	bstates := []*buildState{{trans: map[string]*buildMachine{}}}
	for pi, id := range ids {
		for _, c := range patterns[id].clauses {
			c = slices.Clone(c)
			slices.SortStableFunc(c, func(a, b field) int {
				if ra, rb := fieldRank(&a), fieldRank(&b); ra != rb {
					return ra - rb
				}
				return strings.Compare(a.path, b.path)
			})
			st := int32(0)
			for fi := range c {
				f := &c[fi]
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
	s.states = make([]nameState, len(bstates))
	exact := map[exactKey][]int32{}
	machines := uint32(0)
	for i, bs := range bstates {
		ns := &s.states[i]
		ns.termStart = int32(len(s.terminal))
		s.terminal = append(s.terminal, bs.term...)
		ns.termEnd = int32(len(s.terminal))
		ns.transStart = int32(len(s.trans))
		for path, bm := range bs.trans {
			vm, flags := compileMachine(bm, machines, exact)
			s.trans = append(s.trans, transition{path: s.paths[path], id: machines, flags: flags, m: vm})
			machines++
		}
		ns.transEnd = int32(len(s.trans))
		slices.SortFunc(s.trans[ns.transStart:], func(a, b transition) int { return int(a.path) - int(b.path) })
	}
	s.exact = newExactTable(exact)
	return s
}

// fieldRank orders the fields of a clause in the automaton: fields whose
// conditions are all answered by hash lookups come first, so that the walk
// narrows to few states before it reaches conditions tested one by one. Any
// order is correct; it must only be the same for every clause.
func fieldRank(f *field) int {
	if f.absent {
		return 2
	}
	for i := range f.conds {
		switch f.conds[i].kind {
		case condString, condNumber, condTrue, condFalse, condNull, condEqualsFold:
		default:
			return 1
		}
	}
	return 0
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

func compileMachine(bm *buildMachine, id uint32, exact map[exactKey][]int32) (*valueMachine, uint8) {
	vm := &valueMachine{}
	var flags uint8
	wildIndex := map[string]int32{}
	addExact := func(kind uint8, key string, next int32) {
		k := exactKey{machine: id, kind: kind, key: key}
		if !slices.Contains(exact[k], next) {
			exact[k] = append(exact[k], next)
		}
	}
	for set, conds := range bm.conds {
		next := bm.next[set]
		if bm.abs[set] {
			vm.absent = append(vm.absent, next)
		}
		for i := range conds {
			c := &conds[i]
			switch c.kind {
			case condString:
				flags |= hasStr
				addExact(exactStr, c.str, next)
			case condNumber:
				flags |= hasNum
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(c.num))
				addExact(exactNum, string(b[:]), next)
			case condEqualsFold:
				flags |= hasFold
				addExact(exactFold, c.str, next)
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
				flags |= hasOwn
				if c.fold {
					vm.prefixF.add(c.str, next)
				} else {
					vm.prefix.add(c.str, next)
				}
			case condSuffix:
				flags |= hasOwn
				if c.fold {
					vm.suffixF.add(c.str, next)
				} else {
					vm.suffix.add(c.str, next)
				}
			case condWildcard:
				flags |= hasOwn
				// Equal wildcards are tested once for all their next states.
				wi, ok := wildIndex[c.wild[0].src]
				if !ok {
					wi = int32(len(vm.wild))
					wildIndex[c.wild[0].src] = wi
					vm.wildPre.add(c.wild[0].literalPrefix(), wi)
					vm.wild = append(vm.wild, wildRef{w: &c.wild[0]})
				}
				if !slices.Contains(vm.wild[wi].next, next) {
					vm.wild[wi].next = append(vm.wild[wi].next, next)
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
					vm.between = append(vm.between, rr)
				}
			default:
				flags |= hasOwn
				vm.other = append(vm.other, condRef{c: c, next: next})
			}
		}
	}
	slices.SortFunc(vm.lower, func(a, b rangeRef) int { return cmp.Compare(a.r.lo, b.r.lo) })
	slices.SortFunc(vm.upper, func(a, b rangeRef) int { return cmp.Compare(b.r.hi, a.r.hi) })
	slices.SortFunc(vm.between, func(a, b rangeRef) int { return cmp.Compare(a.r.lo, b.r.lo) })
	return vm, flags
}

// scratch is per-Match working memory, reused through a sync.Pool.
type scratch struct {
	fl      flattener
	visited []uint32 // per state: stamp of the last event that visited it
	seen    []uint32 // per pattern: stamp of the last event it matched
	stamp   uint32
	sets    []int32 // stack of matched condition sets
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
	if len(sc.visited) < len(s.states) {
		sc.visited = make([]uint32, len(s.states))
		sc.stamp = 0
	}
	if len(sc.seen) < len(s.ids) {
		sc.seen = make([]uint32, len(s.ids))
		sc.stamp = 0
	}
	sc.stamp++
	if sc.stamp == 0 { // wrapped: clear the stamps
		clear(sc.visited)
		clear(sc.seen)
		sc.stamp = 1
	}
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
	fl := &sc.fl
	if len(sc.fixedStack) == 0 {
		if sc.visited[st] == sc.stamp {
			return
		}
		sc.visited[st] = sc.stamp
	} else if !sc.memo.insert(st, sc.constraints()) {
		return
	}
	ns := s.states[st]
	for _, pi := range s.terminal[ns.termStart:ns.termEnd] {
		if sc.seen[pi] != sc.stamp {
			sc.seen[pi] = sc.stamp
			sc.hits = append(sc.hits, pi)
		}
	}
	for ti := ns.transStart; ti < ns.transEnd; ti++ {
		t := &s.trans[ti]
		head := fl.head[t.path]
		if head < 0 {
			for _, nx := range t.m.absent {
				s.walk(sc, nx)
			}
			continue
		}
		for li := head; li >= 0; li = fl.leaves[li].next {
			trail := fl.trailOf(li)
			if !sc.consistent(trail) {
				continue
			}
			base := len(sc.sets)
			sc.sets = s.matchLeaf(t, fl, li, sc.sets)
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
		c = append(c, arrayPos{array: a, index: sc.fixed[a]})
	}
	slices.SortFunc(c, func(x, y arrayPos) int { return int(x.array) - int(y.array) })
	sc.cons = c
	return c
}

// memoSet is a set of (state, fixed array elements) keys, cleared per event.
type memoSet struct {
	slots []memoSlot
	arena []arrayPos
	used  int
}

type memoSlot struct {
	hash  uint64
	state int32
	start int32
	n     int32
	full  bool
}

func (m *memoSet) reset() {
	if m.used > 0 {
		clear(m.slots)
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
		if !sl.full {
			*sl = memoSlot{hash: h, state: st, start: int32(len(m.arena)), n: int32(len(cons)), full: true}
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
		if !sl.full {
			continue
		}
		i := sl.hash & mask
		for m.slots[i].full {
			i = (i + 1) & mask
		}
		m.slots[i] = sl
	}
}

// matchLeaf appends the next states leaf li leads to through transition t.
func (s *snapshot) matchLeaf(t *transition, fl *flattener, li int32, out []int32) []int32 {
	v := fl.leaves[li].val
	switch v.kind {
	case kindString:
		if t.flags&hasStr != 0 {
			out = s.exact.lookup(t.id, exactStr, v.b, out)
		}
		if t.flags&hasFold != 0 {
			out = s.exact.lookup(t.id, exactFold, fl.lowerOf(li), out)
		}
	case kindNumber:
		if t.flags&hasNum != 0 && v.numOK {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v.num))
			out = s.exact.lookup(t.id, exactNum, b[:], out)
		}
	}
	if t.flags&hasOwn == 0 {
		return out
	}
	return t.m.matchLeaf(fl, li, out)
}

// matchLeaf appends the next states leaf li leads to through the conditions
// the machine holds itself.
func (vm *valueMachine) matchLeaf(fl *flattener, li int32, out []int32) []int32 {
	v := fl.leaves[li].val
	switch v.kind {
	case kindString:
		out = vm.prefix.prefixes(v.b, out)
		out = vm.suffix.suffixes(v.b, out)
		if vm.prefixF.m != nil || vm.suffixF.m != nil {
			low := fl.lowerOf(li)
			out = vm.prefixF.prefixes(low, out)
			out = vm.suffixF.suffixes(low, out)
		}
		if len(vm.wild) > 0 {
			for _, n := range vm.wildPre.lens {
				if n > len(v.b) {
					break
				}
				for _, wi := range vm.wildPre.m[string(v.b[:n])] {
					if w := &vm.wild[wi]; w.w.match(v.b) {
						out = append(out, w.next...)
					}
				}
			}
		}
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
		for i := range vm.between {
			r := &vm.between[i]
			if r.r.lo > x {
				break
			}
			if r.r.contains(x) {
				out = append(out, r.next)
			}
		}
	case kindTrue:
		out = append(out, vm.trueSets...)
	case kindFalse:
		out = append(out, vm.falseSets...)
	case kindNull:
		out = append(out, vm.nullSets...)
	}
	for i := range vm.other {
		r := &vm.other[i]
		if r.c.matches(v) {
			out = append(out, r.next)
		}
	}
	return out
}
