package jsonata

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// suiteCase is one case of the jsonata-js test suite (see
// testdata/conformance/README.md for the format).
type suiteCase struct {
	id     string
	dir    string
	fields map[string]json.RawMessage
	suite  string // suite root (for datasets)
}

func (c *suiteCase) has(k string) bool { _, ok := c.fields[k]; return ok }

func (c *suiteCase) str(k string) string {
	var s string
	_ = json.Unmarshal(c.fields[k], &s)
	return s
}

// loadSuite reads every case of the suite rooted at root (a directory with
// groups/ and datasets/), in directory-listing order.
func loadSuite(root string) ([]*suiteCase, error) {
	groups, err := os.ReadDir(filepath.Join(root, "groups"))
	if err != nil {
		return nil, fmt.Errorf("reading suite %s: %w", root, err)
	}
	var out []*suiteCase
	for _, g := range groups {
		if !g.IsDir() || strings.HasSuffix(g.Name(), ".json") {
			continue
		}
		cs, err := loadGroup(filepath.Join(root, "groups", g.Name()), g.Name(), root)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func loadGroup(dir, name, root string) ([]*suiteCase, error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading group %s: %w", dir, err)
	}
	var out []*suiteCase
	for _, f := range files {
		if f.IsDir() || !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading case: %w", err)
		}
		base := name + "/" + strings.TrimSuffix(f.Name(), ".json")
		var many []map[string]json.RawMessage
		if err := json.Unmarshal(data, &many); err == nil {
			for i, m := range many {
				out = append(out, &suiteCase{id: fmt.Sprintf("%s#%d", base, i), dir: dir, fields: m, suite: root})
			}
			continue
		}
		var one map[string]json.RawMessage
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("decoding case %s: %w", base, err)
		}
		out = append(out, &suiteCase{id: base, dir: dir, fields: one, suite: root})
	}
	return out, nil
}

// runCase runs one case and returns "" when it passes, else why it failed.
func runCase(c *suiteCase, datasets map[string]any) string {
	src := c.str("expr")
	if c.has("expr-file") {
		b, err := os.ReadFile(filepath.Join(c.dir, c.str("expr-file")))
		if err != nil {
			return "reading expr-file: " + err.Error()
		}
		src = string(b)
	}
	var opts []Option
	if c.has("timelimit") && c.has("depth") {
		var tl, depth int
		_ = json.Unmarshal(c.fields["timelimit"], &tl)
		_ = json.Unmarshal(c.fields["depth"], &depth)
		opts = append(opts, WithMaxDepth(depth), WithTimeLimit(time.Duration(tl)*time.Millisecond))
	}
	expr, err := Compile(src, opts...)
	if err != nil {
		var je *Error
		if !errors.As(err, &je) {
			return "compile: not an *Error: " + err.Error()
		}
		if c.has("code") && c.str("code") == je.Code {
			if c.has("token") && c.str("token") != je.Token {
				return fmt.Sprintf("compile error token %q, want %q", je.Token, c.str("token"))
			}
			return ""
		}
		if c.has("error") {
			return checkErrorObject(c, je)
		}
		return "compile error: " + err.Error()
	}
	var input any
	if raw, ok := c.fields["data"]; ok {
		if input, err = parseJSON(raw); err != nil {
			return "decoding data: " + err.Error()
		}
	} else if raw, ok := c.fields["dataset"]; ok && string(raw) != "null" {
		name := c.str("dataset")
		ds, ok := datasets[c.suite+"/"+name]
		if !ok {
			b, err := readDataset(c.suite, name)
			if err != nil {
				return "reading dataset: " + err.Error()
			}
			if ds, err = parseJSON(b); err != nil {
				return "decoding dataset: " + err.Error()
			}
			datasets[c.suite+"/"+name] = ds
		}
		input = deepCopy(ds)
	}
	bindings := map[string]any{}
	if raw, ok := c.fields["bindings"]; ok {
		if err := json.Unmarshal(raw, &bindings); err != nil {
			return "decoding bindings: " + err.Error()
		}
	}
	res, err := expr.eval(context.Background(), input, bindings)
	switch {
	case c.has("undefinedResult"):
		if err != nil {
			return "error: " + err.Error()
		}
		if res != nil {
			return "want undefined, got " + render(res)
		}
		return ""
	case c.has("result"):
		if err != nil {
			return "error: " + err.Error()
		}
		want, perr := parseJSON(c.fields["result"])
		if perr != nil {
			return "decoding result: " + perr.Error()
		}
		if res == nil {
			return "got undefined, want " + string(compactJSON(c.fields["result"]))
		}
		unordered := c.has("unordered") && string(c.fields["unordered"]) == "true"
		if !resultEqual(res, want, unordered) {
			return "got " + render(res) + ", want " + string(compactJSON(c.fields["result"]))
		}
		return ""
	case c.has("error"):
		if err == nil {
			return "want error, got " + render(res)
		}
		var je *Error
		if !errors.As(err, &je) {
			return "error is not an *Error: " + err.Error()
		}
		return checkErrorObject(c, je)
	case c.has("code"):
		if err == nil {
			return "want error " + c.str("code") + ", got " + render(res)
		}
		var je *Error
		if !errors.As(err, &je) {
			return "error is not an *Error: " + err.Error()
		}
		if je.Code != c.str("code") {
			return fmt.Sprintf("error %s, want code %s", err, c.str("code"))
		}
		return ""
	}
	return "Nothing to test"
}

func checkErrorObject(c *suiteCase, je *Error) string {
	var want map[string]any
	_ = json.Unmarshal(c.fields["error"], &want)
	for k, v := range want {
		var got any
		switch k {
		case "code":
			got = je.Code
		case "message":
			got = je.Message
			if got == "" {
				got = errorMessage(je)
			}
		case "token", "functionName":
			got = je.Token
		case "value":
			got = toGo(je.Value)
		default:
			return "unsupported error property " + k
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			return fmt.Sprintf("error %s = %v, want %v (%s)", k, got, v, je)
		}
	}
	return ""
}

func compactJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

func render(v any) string {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func resultEqual(got, want any, unordered bool) bool {
	g, gok := got.(*array)
	w, wok := want.(*array)
	if unordered && gok && wok {
		if len(g.items) != len(w.items) {
			return false
		}
		used := make([]bool, len(w.items))
	outer:
		for _, x := range g.items {
			for i, y := range w.items {
				if !used[i] && resultEqual(x, y, false) {
					used[i] = true
					continue outer
				}
			}
			return false
		}
		return true
	}
	switch x := got.(type) {
	case *array:
		if !wok || len(x.items) != len(w.items) {
			return false
		}
		for i := range x.items {
			if !resultEqual(x.items[i], w.items[i], false) {
				return false
			}
		}
		return true
	case *object:
		y, ok := want.(*object)
		if !ok {
			return false
		}
		n := 0
		for _, k := range x.orderedKeys() {
			v := x.get(k)
			if v == nil {
				continue
			}
			n++
			if !resultEqual(v, y.get(k), false) {
				return false
			}
		}
		return n == y.size()
	case *lambda, *builtin, *partial, *regexValue:
		// jsonata-js results that are functions are compared as JSON "" by
		// the suite's expectations.
		s, ok := want.(string)
		return ok && s == ""
	}
	return deepEqual(got, want)
}

// readKnownFailures reads testdata/known_failures.txt: "case-id reason".
func readKnownFailures(t *testing.T) map[string]string {
	f, err := os.Open("testdata/known_failures.txt")
	if err != nil {
		t.Fatalf("reading known failures: %v", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		out[id] = strings.TrimSpace(reason)
	}
	return out
}

func TestConformance(t *testing.T) {
	cases, err := loadSuite("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 1600 {
		t.Fatalf("loaded only %d cases", len(cases))
	}
	known := readKnownFailures(t)
	datasets := map[string]any{}
	passed, failedKnown := 0, 0
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.id] = true
		why := runCase(c, datasets)
		reason, isKnown := known[c.id]
		switch {
		case why == "" && isKnown:
			t.Errorf("%s: passes but is listed in known_failures.txt (%s): remove it", c.id, reason)
			passed++
		case why == "":
			passed++
		case isKnown:
			failedKnown++
		default:
			t.Errorf("%s: %s\n\texpr: %s", c.id, why, strings.TrimSpace(c.str("expr")))
		}
	}
	for id := range known {
		if !seen[id] {
			t.Errorf("known_failures.txt lists %s, which is not a case of the suite", id)
		}
	}
	summary := fmt.Sprintf("jsonata conformance: %d/%d passed (%.1f%%), %d known failures",
		passed, len(cases), 100*float64(passed)/float64(len(cases)), failedKnown)
	fmt.Println(summary)
	t.Log(summary)
}

// TestExtraCases runs the cases in $BWC_JSONATA_CASES: either a suite root
// (with groups/ and datasets/) or one folder of case files (datasets are
// then taken from the bundled suite).
func TestExtraCases(t *testing.T) {
	dir := os.Getenv("BWC_JSONATA_CASES")
	if dir == "" {
		t.Skip("BWC_JSONATA_CASES not set")
	}
	var cases []*suiteCase
	var err error
	if st, serr := os.Stat(filepath.Join(dir, "groups")); serr == nil && st.IsDir() {
		cases, err = loadSuite(dir)
	} else {
		cases, err = loadGroup(dir, filepath.Base(dir), "testdata/conformance")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no cases in %s", dir)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].id < cases[j].id })
	datasets := map[string]any{}
	passed := 0
	for _, c := range cases {
		if why := runCase(c, datasets); why != "" {
			t.Errorf("%s: %s", c.id, why)
		} else {
			passed++
		}
	}
	fmt.Printf("jsonata extra cases (%s): %d/%d passed\n", dir, passed, len(cases))
}

func readDataset(suite, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(suite, "datasets", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("reading dataset %s: %w", name, err)
	}
	return b, nil
}
