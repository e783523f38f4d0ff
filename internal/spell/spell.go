// Package spell finds near misses for "did you mean" hints in diagnostics:
// a misspelt field, task, reference or command.
package spell

import (
	"fmt"
	"strings"
)

// Suggest returns ` (did you mean "x"?)` when s is a near miss of one of
// options, else "".
func Suggest(s string, options []string) string {
	if best := Nearest(s, options); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// Nearest returns the option closest to s by edit distance, ignoring case,
// when it is close enough to be a typo (two edits, one for words of three
// letters or fewer), else "". s itself is never suggested.
func Nearest(s string, options []string) string {
	ls := strings.ToLower(s)
	limit := 2
	if len([]rune(s)) <= 3 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, o := range options {
		if o == s {
			continue
		}
		if d := distance(ls, strings.ToLower(o)); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in runes. Words
// longer than 64 runes are never near misses of anything else.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 99
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
