package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/spell"
)

// defaultPacksDir is where commands look for packs without --packs.
const defaultPacksDir = "packs"

// loadCompiled loads the packs in dirs (default "packs") and compiles their
// rules and workflows. Problems in the packs do not stop the command: it
// works with what loaded and says on stderr how many problems there are. A
// directory that cannot be read is an exit-2 error.
func loadCompiled(cmd *cobra.Command, dirs []string) (*content.Compiled, error) {
	if len(dirs) == 0 {
		dirs = []string{defaultPacksDir}
	}
	set, diags, err := pack.LoadDirs(dirs...)
	if err != nil {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
	}
	c, cdiags := content.Compile(set)
	if n := len(diags) + len(cdiags); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "bwc: note: the packs have %d problem(s); bwc pack validate lists them\n", n)
	}
	return c, nil
}

// didYouMean returns ` (did you mean "x"?)` for a near miss among refs.
func didYouMean(s string, refs []string) string { return spell.Suggest(s, refs) }

// asExit reports whether err is an *exitError and sets target.
func asExit(err error, target **exitError) bool { return errors.As(err, target) }
