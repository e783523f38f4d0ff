// Package pattern implements Amazon EventBridge event patterns: parsing and
// validation ([Parse]), a small reference evaluator for one pattern against one
// event ([Matches]), and a [Matcher] that holds many patterns at once and
// finds every pattern an event matches.
//
// The language is EventBridge's: exact values and OR-lists (strings, numbers,
// booleans, null), prefix and suffix (each optionally with equals-ignore-case),
// equals-ignore-case, anything-but (a value, a list, or prefix / suffix /
// equals-ignore-case / wildcard inside), numeric ranges, exists, wildcard, cidr
// (IPv4 and IPv6) and $or. Events are flattened into (path, value) leaves whose
// paths join object keys with "."; arrays do not add to a path, and two leaves
// taken from different elements of the same array never satisfy one pattern
// together ("array-consistent" matching, as EventBridge does it).
//
// The Matcher compiles its patterns into one automaton: each pattern is
// expanded into its $or alternatives, the fields of each alternative are put
// in one canonical order (exact values first, on the paths with the most
// distinct values earliest, then prefixes, suffixes, wildcards and CIDR,
// numeric ranges, anything-but and exists, and exists:false last), and the
// alternatives are merged into a trie of name states whose transitions are
// per-path value machines. The exact and equals-ignore-case values, prefixes
// and suffixes of every machine, and the literal prefixes of its wildcards,
// live in one shared open-addressing table of 32-byte slots that hold short
// keys themselves (a prefix or suffix is probed at each length the machine
// stores), behind a 64-bit bloom filter per machine; wildcards found by their
// literal prefix are screened by a filter of the byte pairs of their middle
// segments before any substring search; CIDR blocks are in tables keyed by
// masked prefix; numeric ranges with one bound in lists sorted by it, ranges
// with two in an interval index. A chain of states that leads to a single
// pattern (a "tail", where most matches end when there are many patterns) is
// stored as that pattern's remaining fields and checked directly, without a
// table probe and a state visit per field. Matching flattens the event once
// (keeping only the paths some pattern names), then walks only the states the
// event's values reach, with per-event sets sized by what the event visits,
// so its cost grows with the event's fields and the partial matches, not with
// the number of patterns held. With many patterns the automaton outgrows the
// CPU caches and that cost is mostly cache misses, which is why its hot data
// is kept in flat arrays with as few pointers as possible.
//
// Numbers are compared as IEEE-754 doubles: 300, 300.0 and 3e2 are equal.
// (event-ruler, which EventBridge is built on, has documented numeric
// matching as limited to -5e9..5e9 with six decimal places; values outside
// that range or differing beyond the sixth decimal may compare differently
// here. No recorded EventBridge case covers it.)
//
// Concurrency: a *Pattern is immutable after Parse and may be shared. Matcher
// methods are safe for concurrent use: any number of goroutines may call Match
// while others call Add and Remove. The compiled automaton is an immutable
// snapshot published through an atomic pointer; after an Add or Remove the
// next Match rebuilds it once (under the writer lock) and every Match that
// starts after Add or Remove returns sees the change.
package pattern
