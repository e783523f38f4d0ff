// Package pack loads BWC packs — StackStorm's pack layout and field names —
// from an fs.FS and validates everything a pack author can get wrong.
//
// A tree of packs is read with Load (any fs.FS; tests use fstest.MapFS) or
// LoadDirs (directories on disk, for the CLI). Loading never stops at the
// first mistake: it returns the packs as far as they could be read together
// with every Diagnostic found, each naming the file, line and column, the
// field (a dotted path, or a JSON pointer inside a schema), what was found and
// what was expected. Diagnostics are sorted by file, line and column.
//
// The model carries what the rule and workflow compilers need: rules with
// their criteria in file order and positions for the rule, its trigger, each
// criterion and its action; trigger types with their parameters and payload
// schemas; actions with their runner type, resolved entry point, parameters
// (st2's JSON Schema with required, default, secret, immutable and position)
// merged with their runner's parameters (see Runners), and, for runner type
// workflow, the parsed workflow.
//
// The package is pure: it reads only the fs.FS it is given (LoadDirs opens
// the directories with os.DirFS) and never loads a JSON Schema from the
// network or the disk. A loaded Set is not modified after Load returns and is
// safe for concurrent reads.
package pack
