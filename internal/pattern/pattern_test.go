package pattern

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    []string // substrings the error must contain
	}{
		{"not JSON", `{"a": [1]`, []string{"not valid JSON"}},
		{"single quotes", `{'a': ['b']}`, []string{"not valid JSON", "double-quoted field name"}},
		{"trailing data", `{"a": [1]} x`, []string{"after the JSON value"}},
		{"not an object", `["a"]`, []string{"must be a JSON object", "array"}},
		{"leaf string", `{"detail": {"state": "running"}}`, []string{"detail.state", "expected an object or an array"}},
		{"leaf number", `{"n": 42}`, []string{"n:", "number 42"}},
		{"leaf null", `{"n": null}`, []string{"n:", "null"}},
		{"empty array", `{"resources": []}`, []string{"resources", "empty arrays are not allowed"}},
		{"nested array", `{"a": [["x"]]}`, []string{"a[0]", "found an array"}},
		{"operator with two keys", `{"a": [{"prefix": "x", "suffix": "y"}]}`, []string{"a[0]", "exactly one key"}},
		{"empty operator object", `{"a": [{}]}`, []string{"a[0]", "exactly one key"}},
		{"unknown operator", `{"a": [{"NUMERIC": ["=", 5]}]}`, []string{"a[0].NUMERIC", "unrecognized match type"}},
		{"contains is not EventBridge", `{"a": [{"contains": "x"}]}`, []string{"unrecognized match type \"contains\""}},
		{"prefix number", `{"a": [{"prefix": 1}]}`, []string{"a[0].prefix", "expected a string"}},
		{"prefix list", `{"a": [{"prefix": ["x"]}]}`, []string{"a[0].prefix", "expected a string"}},
		{"prefix ignore case number", `{"a": [{"prefix": {"equals-ignore-case": 1}}]}`, []string{"a[0].prefix.equals-ignore-case", "expected a string"}},
		{"prefix other operator", `{"a": [{"prefix": {"suffix": "x"}}]}`, []string{"a[0].prefix", "equals-ignore-case"}},
		{"suffix list", `{"a": [{"suffix": [".png"]}]}`, []string{"a[0].suffix", "expected a string"}},
		{"equals-ignore-case list", `{"a": [{"equals-ignore-case": ["x"]}]}`, []string{"a[0].equals-ignore-case", "expected a string"}},
		{"exists string", `{"a": [{"exists": "true"}]}`, []string{"a[0].exists", "true or false"}},
		{"numeric not array", `{"a": [{"numeric": 10}]}`, []string{"a[0].numeric", "expected an array"}},
		{"numeric empty", `{"a": [{"numeric": []}]}`, []string{"a[0].numeric", "empty arrays"}},
		{"numeric two lower bounds", `{"a": [{"numeric": [">", 0, ">", 0]}]}`, []string{"a[0].numeric[2]", "lower bound is already given"}},
		{"numeric two upper bounds", `{"a": [{"numeric": ["<", 9, "<=", 3]}]}`, []string{"a[0].numeric[2]", "upper bound"}},
		{"numeric missing value", `{"a": [{"numeric": [">", 0, "<"]}]}`, []string{"a[0].numeric[3]", "must be a number"}},
		{"numeric string value", `{"a": [{"numeric": [">", "5"]}]}`, []string{"a[0].numeric[1]", "must be a number"}},
		{"numeric bad operator", `{"a": [{"numeric": ["!=", 5]}]}`, []string{"a[0].numeric[0]", "unrecognized numeric operator"}},
		{"numeric operator not string", `{"a": [{"numeric": [5, ">"]}]}`, []string{"a[0].numeric[0]", "comparison operator"}},
		{"numeric equals combined", `{"a": [{"numeric": ["=", 5, "<", 9]}]}`, []string{"a[0].numeric", "cannot be combined"}},
		{"numeric empty range", `{"a": [{"numeric": [">", 10, "<", 5]}]}`, []string{"a[0].numeric", "lower bound"}},
		{"number out of range", `{"a": [1e400]}`, []string{"a[0]", "out of range"}},
		{"wildcard consecutive stars", `{"a": [{"wildcard": "a**b"}]}`, []string{"a[0].wildcard", "consecutive wildcard"}},
		{"wildcard bad escape", `{"a": [{"wildcard": "a\\b"}]}`, []string{"a[0].wildcard", "invalid escape"}},
		{"wildcard trailing backslash", `{"a": [{"wildcard": "a\\"}]}`, []string{"a[0].wildcard", "invalid escape"}},
		{"wildcard number", `{"a": [{"wildcard": 1}]}`, []string{"a[0].wildcard", "expected a string"}},
		{"wildcard too complex", `{"arn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}`, []string{"arn", "too complex"}},
		{"cidr no slash", `{"ip": [{"cidr": "bad-filter"}]}`, []string{"ip[0].cidr", "one '/' required"}},
		{"cidr bad address", `{"ip": [{"cidr": "xx.11.xx/8"}]}`, []string{"ip[0].cidr", "nonstandard IP address \"xx.11.xx\""}},
		{"cidr bad length", `{"ip": [{"cidr": "10.0.0.0/33"}]}`, []string{"ip[0].cidr", "prefix length"}},
		{"cidr list", `{"ip": [{"cidr": ["10.0.0.0/8"]}]}`, []string{"ip[0].cidr", "CIDR block string"}},
		{"anything-but null", `{"a": [{"anything-but": null}]}`, []string{"a[0].anything-but", "found null"}},
		{"anything-but list with null", `{"a": [{"anything-but": ["x", null]}]}`, []string{"a[0].anything-but[1]", "null"}},
		{"anything-but empty list", `{"a": [{"anything-but": []}]}`, []string{"a[0].anything-but", "empty arrays"}},
		{"anything-but mixed list", `{"a": [{"anything-but": ["x", 1]}]}`, []string{"a[0].anything-but", "mixes strings and numbers"}},
		{"anything-but empty prefix", `{"a": [{"anything-but": {"prefix": ""}}]}`, []string{"a[0].anything-but.prefix", "empty prefix/suffix"}},
		{"anything-but empty suffix in list", `{"a": [{"anything-but": {"suffix": [".a", ""]}}]}`, []string{"a[0].anything-but.suffix", "empty prefix/suffix"}},
		{"anything-but prefix number", `{"a": [{"anything-but": {"prefix": 123}}]}`, []string{"a[0].anything-but.prefix", "expected a string"}},
		{"anything-but prefix nested operator", `{"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]}`, []string{"a[0].anything-but.prefix", "found object"}},
		{"anything-but ignore case number", `{"a": [{"anything-but": {"equals-ignore-case": 123}}]}`, []string{"a[0].anything-but.equals-ignore-case", "found number"}},
		{"anything-but ignore case list number", `{"a": [{"anything-but": {"equals-ignore-case": ["x", 4]}}]}`, []string{"a[0].anything-but.equals-ignore-case[1]", "expected a string"}},
		{"anything-but numeric", `{"a": [{"anything-but": {"numeric": [">", 1]}}]}`, []string{"a[0].anything-but.numeric", "unsupported inside anything-but"}},
		{"anything-but bad wildcard", `{"a": [{"anything-but": {"wildcard": "x**"}}]}`, []string{"a[0].anything-but.wildcard", "consecutive"}},
		{"$or single alternative is a field", `{"$or": [{"a": ["x"]}]}`, []string{"$or[0].a", "unrecognized match type"}},
		{"$or empty alternative", `{"$or": [{"a": ["x"]}, {}]}`, []string{"$or[1]", "no fields"}},
		{"$or alternative invalid", `{"detail": {"$or": [{"a": ["x"]}, {"b": "y"}]}}`, []string{"detail.b", "expected an object or an array"}},
		{"$or not an array", `{"$or": {"a": "x"}}`, []string{"$or.a", "expected an object or an array"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("Parse(%s) succeeded, want an error", tc.pattern)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	valid := []string{
		`{}`,
		`{"detail": {}}`,
		`{"a": [{"numeric": [">=", 0, "<", 5]}], "b": [{"numeric": ["<=", -1.5e3]}], "c": [{"numeric": ["=", 3.018e2]}]}`,
		`{"a": [{"numeric": ["<", 5, ">", 0]}]}`,
		`{"a": [{"prefix": ""}, {"suffix": ""}, {"equals-ignore-case": ""}, {"wildcard": ""}]}`,
		`{"a": [{"wildcard": "a\\*b\\\\c*"}]}`,
		`{"a": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}`,
		`{"a": [{"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}]}`,
		`{"a": [{"anything-but": {"equals-ignore-case": ["X", "y"]}}]}`,
		`{"a": [{"anything-but": [1, 2.5, -3]}]}`,
		`{"a": [{"cidr": "2001:db8::/32"}, {"cidr": "10.1.2.3/8"}]}`,
		`{"a": [{"exists": false}, {"exists": true}]}`,
		`{"$or": [{"a": ["x"]}, {"$or": [{"b": [1]}, {"c": [true]}]}]}`,
		`{"$or": [{"numeric": [">", 1]}]}`, // "$or" is a field name here
	}
	for _, src := range valid {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("Parse(%s): %v", src, err)
		}
	}
}

// TestSemantics checks matching rules of EventBridge that the recorded cases
// do not all cover, with the reference evaluator and the Matcher.
func TestSemantics(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// Arrays: any element may match; fields from different elements of
		// one array never match together.
		{"array any element", `{"r": ["b"]}`, `{"r": ["a", "b"]}`, true},
		{"array no element", `{"r": ["c"]}`, `{"r": ["a", "b"]}`, false},
		{"array same element", `{"e": {"f": ["Anna"], "l": ["Smith"]}}`, `{"e": [{"f": "John", "l": "Doe"}, {"f": "Anna", "l": "Smith"}]}`, true},
		{"array different elements", `{"e": {"f": ["Anna"], "l": ["Doe"]}}`, `{"e": [{"f": "John", "l": "Doe"}, {"f": "Anna", "l": "Smith"}]}`, false},
		{"nested arrays different inner", `{"e": {"f": ["Anna"], "l": ["Doe"]}}`, `{"e": [[{"f": "John", "l": "Doe"}, {"f": "Anna", "l": "Smith"}]]}`, false},
		{"nested arrays same inner", `{"e": {"f": ["Peter"], "l": ["Jones"]}}`, `{"e": [[{"f": "John", "l": "Doe"}], [{"f": "Peter", "l": "Jones"}]]}`, true},
		{"array and outer field", `{"s": ["x"], "e": {"f": ["Anna"]}}`, `{"s": "x", "e": [{"f": "John"}, {"f": "Anna"}]}`, true},
		{"two arrays independent", `{"a": {"x": [1]}, "b": {"y": [2]}}`, `{"a": [{"x": 0}, {"x": 1}], "b": [{"y": 2}, {"y": 3}]}`, true},
		{"empty array is missing", `{"r": [{"exists": false}]}`, `{"r": []}`, true},
		// Paths: objects nest, dotted keys join the same way.
		{"dotted pattern key", `{"d": {"s.t": ["x"]}}`, `{"d": {"s": {"t": "x"}}}`, true},
		{"dotted event key", `{"d": {"s": {"t": ["x"]}}}`, `{"d": {"s.t": "x"}}`, true},
		{"case-sensitive keys", `{"Key": ["x"]}`, `{"key": "x"}`, false},
		{"object is not a leaf", `{"d": [{"exists": true}]}`, `{"d": {"a": 1}}`, false},
		{"exists false on object", `{"d": [{"exists": false}]}`, `{"d": {"a": 1}}`, true},
		{"exists false present in one element", `{"e": {"x": [{"exists": false}]}}`, `{"e": [{"x": 1}, {"y": 2}]}`, false},
		{"exists true null", `{"a": [{"exists": true}]}`, `{"a": null}`, true},
		// Types: null vs "" vs missing; numbers vs strings; number forms.
		{"null not empty string", `{"a": [""]}`, `{"a": null}`, false},
		{"empty string not null", `{"a": [null]}`, `{"a": ""}`, false},
		{"null not missing", `{"a": [null]}`, `{"b": 1}`, false},
		{"number forms", `{"a": [300]}`, `{"a": 3.0e2}`, true},
		{"negative zero", `{"a": [0]}`, `{"a": -0.0}`, true},
		{"number not string", `{"a": [300]}`, `{"a": "300"}`, false},
		{"string not number", `{"a": ["300"]}`, `{"a": 300}`, false},
		{"true not string", `{"a": [true]}`, `{"a": "true"}`, false},
		{"numeric bounds inclusive", `{"a": [{"numeric": [">=", 1, "<=", 2]}]}`, `{"a": 2}`, true},
		{"numeric bounds exclusive", `{"a": [{"numeric": [">", 1, "<", 2]}]}`, `{"a": 2}`, false},
		{"numeric on string", `{"a": [{"numeric": ["<", 10]}]}`, `{"a": "5"}`, false},
		{"numeric equals", `{"a": [{"numeric": ["=", 3.018e2]}]}`, `{"a": 301.8}`, true},
		{"numeric negative", `{"a": [{"numeric": ["<", -1e3]}]}`, `{"a": -1001}`, true},
		// Strings.
		{"prefix", `{"a": [{"prefix": "us-"}]}`, `{"a": "us-east-1"}`, true},
		{"prefix is case-sensitive", `{"a": [{"prefix": "US-"}]}`, `{"a": "us-east-1"}`, false},
		{"prefix ignore case", `{"a": [{"prefix": {"equals-ignore-case": "US-"}}]}`, `{"a": "us-east-1"}`, true},
		{"prefix on number", `{"a": [{"prefix": "1"}]}`, `{"a": 12}`, false},
		{"suffix ignore case", `{"a": [{"suffix": {"equals-ignore-case": ".PNG"}}]}`, `{"a": "cat.png"}`, true},
		{"equals-ignore-case unicode", `{"a": [{"equals-ignore-case": "ÉTÉ"}]}`, `{"a": "été"}`, true},
		{"equals-ignore-case empty", `{"a": [{"equals-ignore-case": ""}]}`, `{"a": ""}`, true},
		{"escaped event string", `{"a": ["x\"y"]}`, `{"a": "x\u0022y"}`, true},
		{"escaped event key", `{"a": {"b": ["x"]}}`, `{"\u0061": {"b": "x"}}`, true},
		// Wildcards.
		{"wildcard middle", `{"a": [{"wildcard": "arn:*:bus/*"}]}`, `{"a": "arn:aws:events:bus/x"}`, true},
		{"wildcard escaped star", `{"a": [{"wildcard": "a\\*b"}]}`, `{"a": "a*b"}`, true},
		{"wildcard escaped star literal", `{"a": [{"wildcard": "a\\*b"}]}`, `{"a": "axb"}`, false},
		{"wildcard escaped backslash", `{"a": [{"wildcard": "a\\\\*"}]}`, `{"a": "a\\bc"}`, true},
		{"wildcard star only", `{"a": [{"wildcard": "*"}]}`, `{"a": ""}`, true},
		{"wildcard overlapping ends", `{"a": [{"wildcard": "ab*ba"}]}`, `{"a": "aba"}`, false},
		{"wildcard on number", `{"a": [{"wildcard": "*"}]}`, `{"a": 1}`, false},
		// anything-but.
		{"anything-but on array", `{"a": [{"anything-but": "x"}]}`, `{"a": ["x", "y"]}`, true},
		{"anything-but on array all excluded", `{"a": [{"anything-but": ["x", "y"]}]}`, `{"a": ["x", "y"]}`, false},
		{"anything-but number vs string", `{"a": [{"anything-but": 5}]}`, `{"a": "5"}`, true},
		{"anything-but number forms", `{"a": [{"anything-but": [5]}]}`, `{"a": 5.0}`, false},
		{"anything-but missing", `{"a": [{"anything-but": "x"}]}`, `{"b": "x"}`, false},
		{"anything-but boolean", `{"a": [{"anything-but": "true"}]}`, `{"a": true}`, true},
		{"anything-but ignore case", `{"a": [{"anything-but": {"equals-ignore-case": "X"}}]}`, `{"a": "x"}`, false},
		{"anything-but suffix list", `{"a": [{"anything-but": {"suffix": [".a", ".b"]}}]}`, `{"a": "f.b"}`, false},
		{"anything-but wildcard list", `{"a": [{"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}]}`, `{"a": "/usr/bin/x"}`, true},
		// cidr.
		{"cidr v4", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "10.255.1.2"}`, true},
		{"cidr v4 outside", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "11.0.0.1"}`, false},
		{"cidr v6 compressed event", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}`, true},
		{"cidr v6 vs v4", `{"ip": [{"cidr": "::/0"}]}`, `{"ip": "10.0.0.1"}`, false},
		{"cidr not an address", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "10.0.0"}`, false},
		// $or.
		{"$or second branch", `{"s": ["x"], "$or": [{"a": [1]}, {"b": [2]}]}`, `{"s": "x", "b": 2}`, true},
		{"$or no branch", `{"s": ["x"], "$or": [{"a": [1]}, {"b": [2]}]}`, `{"s": "x", "b": 3}`, false},
		{"$or nested", `{"$or": [{"a": [1]}, {"b": [2], "$or": [{"c": [3]}, {"d": [4]}]}]}`, `{"b": 2, "d": 4}`, true},
		{"$or nested fails inner", `{"$or": [{"a": [1]}, {"b": [2], "$or": [{"c": [3]}, {"d": [4]}]}]}`, `{"b": 2, "d": 5}`, false},
		{"$or as field name", `{"$or": [{"numeric": [">", 1]}]}`, `{"$or": 2}`, true},
		// Whole patterns.
		{"empty pattern matches all", `{}`, `{"a": 1}`, true},
		{"duplicate key keeps last", `{"a": ["x"], "a": ["y"]}`, `{"a": "y"}`, true},
		{"two values on one path", `{"a": {"b": ["x"]}, "a.b": [{"prefix": "y"}]}`, `{"a": {"b": "x"}, "a.b": "yy"}`, true},
		{"two values on one path, different elements", `{"a": {"b": ["x"]}, "a.b": [{"prefix": "y"}]}`, `{"a": {"b": ["x", "yy"]}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := Matches(p, []byte(tc.event))
			if err != nil {
				t.Fatalf("Matches: %v", err)
			}
			if got != tc.want {
				t.Errorf("reference: Matches = %v, want %v", got, tc.want)
			}
			m := NewMatcher()
			if err := m.Add("p", []byte(tc.pattern)); err != nil {
				t.Fatal(err)
			}
			ids, err := m.Match([]byte(tc.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if (len(ids) == 1) != tc.want {
				t.Errorf("Matcher: Match = %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestInvalidEvents(t *testing.T) {
	p, err := Parse([]byte(`{"a": [1]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher()
	m.AddPattern("p", p)
	for _, ev := range []string{``, `[]`, `"x"`, `{"a": 1`, `{"a": 1}}`, `{"a": 01}`, `{"a": tru}`, `{"b": {"c": [1,]}}`, "{\"a\": \"\x01\"}", `{"a": "\x"}`} {
		if _, err := Matches(p, []byte(ev)); !errors.Is(err, ErrEvent) {
			t.Errorf("Matches(%q): error %v, want ErrEvent", ev, err)
		}
		if _, err := m.Match([]byte(ev)); !errors.Is(err, ErrEvent) {
			t.Errorf("Match(%q): error %v, want ErrEvent", ev, err)
		}
	}
}

func TestMatcherManyPatterns(t *testing.T) {
	m := NewMatcher()
	add := func(id, src string) {
		t.Helper()
		if err := m.Add(id, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	add("ec2", `{"source": ["aws.ec2"]}`)
	add("stopped", `{"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}`)
	add("not-running", `{"detail": {"state": [{"anything-but": "running"}]}}`)
	add("alarm", `{"source": ["aws.cloudwatch"]}`)
	if err := m.Add("bad", []byte(`{"x": 1}`)); err == nil {
		t.Fatal("Add accepted an invalid pattern")
	}
	ev := []byte(`{"source": "aws.ec2", "detail": {"state": "stopped"}}`)
	check := func(want string) {
		t.Helper()
		ids, err := m.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids, ","); got != want {
			t.Fatalf("Match = %q, want %q", got, want)
		}
	}
	check("ec2,not-running,stopped")
	m.Remove("ec2")
	check("not-running,stopped")
	add("stopped", `{"detail": {"state": ["running"]}}`) // replaces
	check("not-running")
	m.Remove("missing")
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
}

// TestMatchManyHits checks the ordering of large results (which take the
// bitmap path) against the expected sorted ids.
func TestMatchManyHits(t *testing.T) {
	m := NewMatcher()
	var want []string
	for i := 299; i >= 0; i-- {
		id := fmt.Sprintf("r%03d", i)
		src := `{"a": ["x"]}`
		if i%3 == 0 {
			src = `{"a": ["y"]}`
		} else {
			want = append(want, id)
		}
		if err := m.Add(id, []byte(src)); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	got, err := m.Match([]byte(`{"a": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Match returned %d ids %v..., want %d", len(got), got[:min(5, len(got))], len(want))
	}
}

// TestConcurrentMatch runs Match from several goroutines while a writer adds
// and removes patterns (run with -race). Every Match must see the patterns
// that were present for its whole duration.
func TestConcurrentMatch(t *testing.T) {
	m := NewMatcher()
	if err := m.Add("stable", []byte(`{"source": ["aws.ec2"]}`)); err != nil {
		t.Fatal(err)
	}
	ev := []byte(`{"source": "aws.ec2", "detail": {"n": 5}}`)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ids, err := m.Match(ev)
				if err != nil {
					errs <- err
					return
				}
				if !slices.Contains(ids, "stable") {
					errs <- fmt.Errorf("Match = %v, missing the stable pattern", ids)
					return
				}
			}
		}()
	}
	for i := range 200 {
		id := fmt.Sprintf("n%d", i%7)
		if err := m.Add(id, []byte(fmt.Sprintf(`{"detail": {"n": [{"numeric": [">", %d]}]}}`, i%10))); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			m.Remove(id)
		}
		// A change is visible to the next Match.
		ids, err := m.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		want := i%3 != 0 && i%10 < 5
		if slices.Contains(ids, id) != want {
			t.Fatalf("after change %d: Match = %v, %s present = %v", i, ids, id, !want)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
