package runner

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"sync"
)

// Masked replaces secret values in output, results and errors (st2's mask).
const Masked = "********"

// minSubstring is the shortest secret masked inside longer strings and
// streams; shorter ones (a 1-character password would mask every "p") are
// masked only where a whole string equals them.
const minSubstring = 4

// masker holds the secret values of one execution. Safe for concurrent use.
type masker struct {
	mu      sync.Mutex
	secrets []string // longest first
}

func (m *masker) add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range values {
		if v == "" || v == Masked {
			continue
		}
		dup := false
		for _, s := range m.secrets {
			if s == v {
				dup = true
				break
			}
		}
		if !dup {
			m.secrets = append(m.secrets, v)
		}
	}
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

func (m *masker) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.secrets
}

func (m *masker) String(s string) string {
	for _, sec := range m.list() {
		if len(sec) < minSubstring {
			if s == sec {
				return Masked
			}
			continue
		}
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Masked)
		}
	}
	return s
}

// value returns v with every secret masked in its strings (not in map keys).
func (m *masker) value(v any) any {
	switch x := v.(type) {
	case string:
		return m.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.value(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.String(e)
		}
		return out
	}
	return v
}

// err returns err with secrets masked in its message, keeping its name.
func (m *masker) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := m.String(msg)
	var ae *ActionError
	isAE := errors.As(err, &ae)
	if masked == msg && isAE {
		return err
	}
	if !isAE {
		return &ActionError{Name: ErrNameActionFailed, Err: errors.New(masked)}
	}
	inner := ""
	if ae.Err != nil {
		inner = m.String(ae.Err.Error())
	}
	return &ActionError{Name: ae.Name, Retryable: ae.Retryable, Err: errors.New(inner)}
}

// stream masks one output stream whose chunks may split a secret: it holds
// back the longest tail that could start a secret until the next chunk or
// flush.
type stream struct {
	m       *masker
	pending []byte
}

func (s *stream) write(chunk []byte) []byte {
	buf := append(s.pending, chunk...)
	var secrets []string
	for _, sec := range s.m.list() {
		if len(sec) >= minSubstring {
			secrets = append(secrets, sec)
		}
	}
	for _, sec := range secrets {
		if bytes.Contains(buf, []byte(sec)) {
			buf = bytes.ReplaceAll(buf, []byte(sec), []byte(Masked))
		}
	}
	hold := 0
	for _, sec := range secrets {
		// The longest proper prefix of sec that ends buf: the first
		// position from which the rest of buf starts sec.
		for i := max(0, len(buf)-len(sec)+1); i < len(buf)-hold; i++ {
			if buf[i] == sec[0] && bytes.HasPrefix([]byte(sec), buf[i:]) {
				hold = len(buf) - i
				break
			}
		}
	}
	out := buf[:len(buf)-hold]
	s.pending = append([]byte(nil), buf[len(buf)-hold:]...)
	return out
}

func (s *stream) flush() []byte {
	out := s.pending
	s.pending = nil
	return out
}
