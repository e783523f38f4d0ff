package rule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// segment is one step of a criteria key: an object field or an array index.
type segment struct {
	Name    string
	Index   int
	IsIndex bool
}

func (s segment) String() string {
	if s.IsIndex {
		return "[" + strconv.Itoa(s.Index) + "]"
	}
	return s.Name
}

// parseKey parses a criteria key such as `trigger.body.alerts`,
// `trigger.headers['X-Event']` or `trigger.items[0].name`, optionally suffixed
// with `#tag` (several criteria on one key), into the path below the root
// (`trigger` for rule criteria, `item` inside a search).
func parseKey(key, root string) ([]segment, error) {
	k := key
	if i := strings.LastIndexByte(k, '#'); i >= 0 && !strings.ContainsAny(k[i:], "]'\"") {
		k = k[:i]
	}
	k = strings.TrimSpace(k)
	if k != root && !strings.HasPrefix(k, root+".") && !strings.HasPrefix(k, root+"[") {
		return nil, fmt.Errorf("criteria key %q must start with %q (the %s)", key, root+".", rootDescription(root))
	}
	rest := k[len(root):]
	var segs []segment
	for len(rest) > 0 {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if !fieldName.MatchString(name) {
				return nil, fmt.Errorf("criteria key %q: %q is not a field name (letters, digits, _, -, @, $); quote other names: [%q]", key, name, name)
			}
			segs = append(segs, segment{Name: name})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("criteria key %q: missing ']'", key)
			}
			inner := strings.TrimSpace(rest[1:end])
			rest = rest[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				segs = append(segs, segment{Name: inner[1 : len(inner)-1]})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("criteria key %q: index [%s] must be a non-negative integer or a quoted field name", key, inner)
			}
			segs = append(segs, segment{Index: n, IsIndex: true})
		default:
			return nil, fmt.Errorf("criteria key %q: unexpected %q after %q", key, rest[:1], k[:len(k)-len(rest)])
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("criteria key %q names no field of the %s", key, rootDescription(root))
	}
	return segs, nil
}

func rootDescription(root string) string {
	if root == "item" {
		return "list item being searched"
	}
	return "trigger payload"
}

// hasIndex reports whether the path uses an array index anywhere.
func hasIndex(segs []segment) bool {
	for _, s := range segs {
		if s.IsIndex {
			return true
		}
	}
	return false
}

var fieldName = regexp.MustCompile(`^[A-Za-z0-9_@$-]+$`)
