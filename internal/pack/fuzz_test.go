package pack

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// fuzzFiles are the files FuzzLoad puts its input in, one kind per index.
var fuzzFiles = []string{
	"t/pack.yaml",
	"t/actions/run.yaml",
	"t/actions/flow.yaml",
	"t/actions/workflows/flow.yaml",
	"t/rules/r.yaml",
	"t/sensors/s.yaml",
	"t/policies/p.yaml",
	"t/config.schema.yaml",
}

// FuzzLoad puts arbitrary YAML in each kind of pack file: loading never
// panics, and every diagnostic names a file.
func FuzzLoad(f *testing.F) {
	b := base()
	for i, name := range fuzzFiles {
		f.Add(uint8(i), b[name].Data)
	}
	for i, glob := range []string{"../../packs/*/pack.yaml", "../../packs/*/actions/*.yaml", "../../packs/*/actions/workflows/*.yaml", "../../packs/*/rules/*.yaml", "../../packs/*/sensors/*.yaml", "../../packs/*/policies/*.yaml", "../../packs/*/config.schema.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				kind := i
				if i >= 2 {
					kind = i + 1
				}
				f.Add(uint8(kind), data)
			}
		}
	}
	f.Add(uint8(4), []byte("name: r\ncriteria:\n  trigger.x: &a {type: search, pattern: {item.y: *a}, condition: any}\n"))
	f.Add(uint8(1), []byte("a: &a [*a]\n"))
	f.Add(uint8(1), []byte("name: run\nrunner_type: local-shell-cmd\nparameters:\n  cmd: {type: [string, 1], default: .nan, position: -1}\n"))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		fsys := base()
		fsys[fuzzFiles[int(kind)%len(fuzzFiles)]] = &fstest.MapFile{Data: data}
		set, diags := Load(fsys, "packs")
		if set == nil {
			t.Fatal("nil set")
		}
		for _, d := range diags {
			if d.Pos.File == "" {
				t.Fatalf("diagnostic without a file: %v", d)
			}
		}
	})
}
