package api

import (
	"net/http"
	"strings"

	"github.com/bwc-project/bwc/internal/api/routes"
)

// Routes returns the route table of the server (package routes): every
// route New registers, with the function that serves it on AWS.
func Routes() []routes.Route { return routes.All() }

// patternMux is an http.ServeMux that remembers the method-and-path
// patterns registered on it, so that a test can hold them to Routes.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func newPatternMux() *patternMux { return &patternMux{ServeMux: http.NewServeMux()} }

// HandleFunc registers h for pattern, as http.ServeMux.HandleFunc.
func (m *patternMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if strings.Contains(pattern, " ") {
		m.patterns = append(m.patterns, pattern)
	}
	m.ServeMux.HandleFunc(pattern, h)
}
