package pack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// source is one directory tree to load packs from.
type source struct {
	fsys   fs.FS
	prefix string
}

// loader collects packs and diagnostics over one Load.
type loader struct {
	diags   Diagnostics
	runners map[string]*Runner
	set     *Set
	// YAML nodes the cross-reference checks point into.
	rules    map[*Rule]*ruleNodes
	packDeps map[*Pack][]entry
	// workflow files of workflow actions, read even when they have errors
	workflows     map[*Action]*file
	workflowNodes map[*Action]*yaml.Node
	// compiled parameter schemas, by parameter
	compiled map[*Parameter]*jsonschema.Schema
}

// Pack and item references: st2's pack ref rule, and item names without
// dots (a reference is pack.name).
var (
	packRefRE = regexp.MustCompile(`^[a-z0-9_]+$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*$`)
	paramRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// Load reads the packs in fsys. When the root of fsys holds a pack.yaml it
// is one pack; otherwise every directory below the root that holds a
// pack.yaml is a pack. prefix is how positions name the root: the directory
// as the user wrote it ("packs"), or "" to use paths inside fsys as they
// are.
//
// Load returns the packs as far as they could be read, and every problem
// found, sorted by position. It never fails otherwise: an unreadable root is
// a diagnostic too.
func Load(fsys fs.FS, prefix string) (*Set, Diagnostics) {
	return load([]source{{fsys: fsys, prefix: cleanPrefix(prefix)}})
}

// LoadDirs loads the packs in each directory (a directory of packs, or one
// pack) into one set, as Load does. The error is non-nil only when a
// directory does not exist or is not a directory.
func LoadDirs(dirs ...string) (*Set, Diagnostics, error) {
	var srcs []source
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, nil, fmt.Errorf("reading packs directory %s: %w", d, err)
		}
		if !st.IsDir() {
			return nil, nil, fmt.Errorf("reading packs directory %s: not a directory", d)
		}
		srcs = append(srcs, source{fsys: os.DirFS(d), prefix: cleanPrefix(filepath.ToSlash(d))})
	}
	set, diags := load(srcs)
	return set, diags, nil
}

func cleanPrefix(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

func (s source) display(rel string) string {
	if s.prefix == "" || s.prefix == "." {
		return rel
	}
	if rel == "." {
		return s.prefix
	}
	return path.Join(s.prefix, rel)
}

func load(srcs []source) (*Set, Diagnostics) {
	l := &loader{
		runners: Runners(),
		set: &Set{
			packs: map[string]*Pack{}, actions: map[string]*Action{}, rules: map[string]*Rule{},
			sensors: map[string]*Sensor{}, triggers: map[string]*TriggerType{}, policies: map[string]*Policy{},
		},
		rules:         map[*Rule]*ruleNodes{},
		packDeps:      map[*Pack][]entry{},
		workflows:     map[*Action]*file{},
		workflowNodes: map[*Action]*yaml.Node{},
		compiled:      map[*Parameter]*jsonschema.Schema{},
	}
	for _, src := range srcs {
		for _, dir := range l.discover(src) {
			if p := l.loadPack(src, dir); p != nil {
				l.add(p)
			}
		}
	}
	sort.Slice(l.set.Packs, func(i, j int) bool { return l.set.Packs[i].Ref < l.set.Packs[j].Ref })
	l.check()
	return l.set, l.diags.Sort()
}

func (l *loader) diag(pos Pos, field, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...)})
}

// discover lists the pack directories of a source.
func (l *loader) discover(src source) []string {
	if _, err := fs.Stat(src.fsys, "pack.yaml"); err == nil {
		return []string{"."}
	}
	entries, err := fs.ReadDir(src.fsys, ".")
	if err != nil {
		l.diag(Pos{File: src.display(".")}, "", "cannot read the packs directory: %v", unwrapPath(err))
		return nil
	}
	var dirs []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		if _, err := fs.Stat(src.fsys, path.Join(name, "pack.yaml")); err != nil {
			l.diag(Pos{File: src.display(name)}, "", "not a pack: found no pack.yaml, expected %s", src.display(path.Join(name, "pack.yaml")))
			continue
		}
		dirs = append(dirs, name)
	}
	if len(dirs) == 0 && len(l.diags) == 0 {
		l.diag(Pos{File: src.display(".")}, "", "no packs: expected a pack.yaml here, or directories holding one")
	}
	return dirs
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var packFields = []string{"ref", "name", "description", "version", "author", "email", "keywords", "contributors", "dependencies", "stackstorm_version", "python_versions"}

// loadPack reads one pack directory.
func (l *loader) loadPack(src source, dir string) *Pack {
	f := &file{l: l, path: src.display(path.Join(dir, "pack.yaml"))}
	p := &Pack{Dir: src.display(dir), Pos: Pos{File: f.path, Line: 1, Col: 1}}
	data, err := fs.ReadFile(src.fsys, path.Join(dir, "pack.yaml"))
	if err != nil {
		l.diag(Pos{File: f.path}, "", "cannot read the file: %v", unwrapPath(err))
		return nil
	}
	if root := f.parse(data, "a mapping with ref, name, description, version and author"); root != nil {
		l.packMeta(f, root, dir, p)
	}
	if p.Ref == "" {
		// pack.yaml cannot be read: load the rest under the directory's name.
		p.Ref = path.Base(p.Dir)
	}
	l.loadActions(src, dir, p)
	l.loadRules(src, dir, p)
	l.loadSensors(src, dir, p)
	l.loadPolicies(src, dir, p)
	l.loadConfigSchema(src, dir, p)
	return p
}

// packMeta reads pack.yaml's fields.
func (l *loader) packMeta(f *file, root *yaml.Node, dir string, p *Pack) {
	m := f.fields(root, "", packFields)
	str := func(name string, required bool) string {
		e, ok := m.get(name)
		if !ok {
			if required {
				f.errorf(root, name, "missing: pack.yaml needs %s", name)
			}
			return ""
		}
		if name == "version" || name == "stackstorm_version" {
			s, _ := f.scalarString(e, name)
			return s
		}
		s, _ := f.str(e, name)
		return s
	}
	p.Name = str("name", true)
	p.Description = str("description", true)
	p.Version = str("version", true)
	p.Author = str("author", true)
	p.Email = str("email", false)
	p.StackStormVersion = str("stackstorm_version", false)
	for _, name := range []string{"keywords", "contributors", "python_versions"} {
		if e, ok := m.get(name); ok {
			list := f.stringList(e, name)
			switch name {
			case "keywords":
				p.Keywords = list
			case "contributors":
				p.Contributors = list
			}
		}
	}
	if e, ok := m.get("dependencies"); ok {
		p.Dependencies = f.stringList(e, "dependencies")
		if e.val.Kind == yaml.SequenceNode {
			for _, c := range e.val.Content {
				l.packDeps[p] = append(l.packDeps[p], entry{key: e.key, val: c})
			}
		}
	}
	if e, ok := m.get("ref"); ok {
		p.Ref, _ = f.str(e, "ref")
		if p.Ref != "" && !packRefRE.MatchString(p.Ref) {
			f.errorf(e.val, "ref", "found %q, expected a pack ref of lower-case letters, digits and _", p.Ref)
		}
	} else if p.Name != "" {
		p.Ref = p.Name
		if !packRefRE.MatchString(p.Name) {
			e, _ := m.get("name")
			f.errorf(e.val, "name", "%q is not a valid pack ref (lower-case letters, digits and _): add a ref field, e.g. ref: %s", p.Name, suggestRef(p.Name))
		}
	}
	if p.Ref == "" {
		p.Ref = path.Base(p.Dir)
	}
	if e, ok := m.get("version"); ok && p.Version != "" && !versionRE.MatchString(p.Version) {
		f.errorf(e.val, "version", "found %q, expected a semantic version such as 1.0.0", p.Version)
	}
	if dir != "." && dir != p.Ref {
		at := root
		if e, ok := m.get("ref"); ok {
			at = e.val
		} else if e, ok := m.get("name"); ok {
			at = e.val
		}
		f.errorf(at, "ref", "the pack's ref is %q but its directory is %q: expected them to be the same", p.Ref, dir)
	}
}

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.+-]+)?$`)

func suggestRef(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// metaFiles lists the YAML files directly in a pack's sub-directory, sorted.
func (l *loader) metaFiles(src source, dir string) []string {
	entries, err := fs.ReadDir(src.fsys, dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.diag(Pos{File: src.display(dir)}, "", "cannot read the directory: %v", unwrapPath(err))
		}
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ext := path.Ext(e.Name()); ext == ".yaml" || ext == ".yml" {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

// readMeta reads and parses one metadata file.
func (l *loader) readMeta(src source, rel, what string) (*file, *yaml.Node) {
	f := &file{l: l, path: src.display(rel)}
	data, err := fs.ReadFile(src.fsys, rel)
	if err != nil {
		l.diag(Pos{File: f.path}, "", "cannot read the file: %v", unwrapPath(err))
		return f, nil
	}
	return f, f.parse(data, what)
}

// itemName reads the name of an action, rule or trigger type, and checks
// the optional pack field.
func (f *file) itemName(m *mapping, root *yaml.Node, p *Pack, nameField string) string {
	var name string
	if e, ok := m.get(nameField); ok {
		if s, ok := f.str(e, nameField); ok {
			name = s
			if !nameRE.MatchString(s) {
				f.errorf(e.val, nameField, "found %q, expected a name of letters, digits, _ and - (a reference is <pack>.<name>)", s)
			}
		}
	} else {
		f.errorf(root, nameField, "missing: expected the %s", strings.ReplaceAll(nameField, "_", " "))
	}
	if e, ok := m.get("pack"); ok {
		if s, ok := f.str(e, "pack"); ok && s != p.Ref {
			f.errorf(e.val, "pack", "found %q, expected %q (the pack this file is in) or no pack field", s, p.Ref)
		}
	}
	return name
}

func (f *file) tags(m *mapping) []Tag {
	e, ok := m.get("tags")
	if !ok {
		return nil
	}
	if e.val.Kind != yaml.SequenceNode {
		f.errorf(e.val, "tags", "found %s, expected a list of {name, value}", describe(e.val))
		return nil
	}
	var out []Tag
	for i, c := range e.val.Content {
		field := fmt.Sprintf("tags[%d]", i)
		c = resolve(c)
		if c.Kind != yaml.MappingNode {
			f.errorf(c, field, "found %s, expected {name, value}", describe(c))
			continue
		}
		tm := f.fields(c, field, []string{"name", "value"})
		var t Tag
		if ne, ok := tm.get("name"); ok {
			t.Name, _ = f.str(ne, field+".name")
		} else {
			f.errorf(c, field+".name", "missing: a tag needs a name")
		}
		if ve, ok := tm.get("value"); ok {
			t.Value, _ = f.scalarString(ve, field+".value")
		}
		out = append(out, t)
	}
	return out
}

// enabled reads an enabled field with its default.
func (f *file) enabled(m *mapping, dflt bool) bool {
	if e, ok := m.get("enabled"); ok {
		if b, ok := f.boolean(e, "enabled"); ok {
			return b
		}
	}
	return dflt
}

// entryPoint resolves an entry point relative to base (a directory of the
// pack) and checks that it stays in the pack and exists. It returns the
// path inside the source ("" when there is none) and whether the file
// exists.
func (l *loader) entryPoint(f *file, src source, packDir, base string, e entry, field string) (string, bool) {
	ep, ok := f.str(e, field)
	if !ok || ep == "" {
		return "", false
	}
	if path.IsAbs(ep) || strings.Contains(ep, "\\") {
		f.errorf(e.val, field, "found %q, expected a path relative to %s", ep, src.display(base))
		return "", false
	}
	rel := path.Join(base, ep)
	inside := rel == packDir || strings.HasPrefix(rel, packDir+"/")
	if packDir == "." {
		inside = rel != ".." && !strings.HasPrefix(rel, "../")
	}
	if !inside {
		f.errorf(e.val, field, "found %q, which is outside the pack: expected a file in %s", ep, src.display(packDir))
		return "", false
	}
	if _, err := fs.Stat(src.fsys, rel); err != nil {
		f.errorf(e.val, field, "found %q, but %s does not exist: expected an existing file", ep, src.display(rel))
		return rel, false
	}
	return rel, true
}
