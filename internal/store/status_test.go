package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// legal is the transition table as the specification states it, written
// independently of the code's table.
const legal = `
requested: delayed scheduled running canceling canceled failed abandoned
delayed:   scheduled canceling canceled failed abandoned
scheduled: running canceling canceled failed timeout abandoned
running:   pending pausing paused canceling canceled succeeded failed timeout abandoned
pending:   running pausing paused canceling canceled succeeded failed timeout abandoned
pausing:   paused canceling canceled succeeded failed timeout abandoned
paused:    resuming running canceling canceled abandoned
resuming:  running pausing canceling canceled failed abandoned
canceling: canceled succeeded failed timeout abandoned
`

func TestExecutionTransitionsEveryPair(t *testing.T) {
	want := map[[2]ExecutionStatus]bool{}
	for _, line := range strings.Split(strings.TrimSpace(legal), "\n") {
		from, tos, _ := strings.Cut(line, ":")
		for _, to := range strings.Fields(tos) {
			want[[2]ExecutionStatus{ExecutionStatus(from), ExecutionStatus(to)}] = true
		}
	}
	all := append([]ExecutionStatus{"", "bogus"}, ExecutionStatuses...)
	for _, from := range all {
		for _, to := range all {
			name := string(from) + "->" + string(to)
			t.Run(name, func(t *testing.T) {
				ok := want[[2]ExecutionStatus{from, to}]
				if got := CanTransition(from, to); got != ok {
					t.Fatalf("CanTransition = %v, want %v", got, ok)
				}
				err := CheckTransition(from, to)
				if ok != (err == nil) {
					t.Fatalf("CheckTransition = %v, want legal=%v", err, ok)
				}
				if !ok && !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("CheckTransition error %v does not match ErrIllegalTransition", err)
				}
				if from.Finished() && ok {
					t.Fatalf("finished status %s may move", from)
				}
			})
		}
	}
}

func TestFinished(t *testing.T) {
	finished := map[ExecutionStatus]bool{StatusSucceeded: true, StatusFailed: true, StatusTimeout: true, StatusCanceled: true, StatusAbandoned: true}
	for _, s := range ExecutionStatuses {
		if s.Finished() != finished[s] {
			t.Errorf("%s.Finished() = %v", s, s.Finished())
		}
		if !s.Valid() {
			t.Errorf("%s.Valid() = false", s)
		}
	}
	if ExecutionStatus("done").Valid() {
		t.Error(`"done" is valid`)
	}
}

func TestTriggerAndInquiryTransitions(t *testing.T) {
	tcases := []struct {
		from, to TriggerInstanceStatus
		ok       bool
	}{
		{TriggerPending, TriggerProcessing, true},
		{TriggerPending, TriggerProcessed, true},
		{TriggerProcessing, TriggerProcessingFailed, true},
		{TriggerProcessed, TriggerPending, false},
		{TriggerProcessed, TriggerProcessing, false},
		{TriggerProcessingFailed, TriggerProcessed, false},
		{TriggerProcessing, TriggerPending, false},
	}
	for _, tc := range tcases {
		if err := CheckTriggerTransition(tc.from, tc.to); (err == nil) != tc.ok {
			t.Errorf("trigger %s->%s: %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
	icases := []struct {
		from, to InquiryStatus
		ok       bool
	}{
		{InquiryPending, InquiryResponded, true},
		{InquiryPending, InquiryTimeout, true},
		{InquiryPending, InquiryCanceled, true},
		{InquiryPending, InquiryPending, false},
		{InquiryResponded, InquiryPending, false},
		{InquiryTimeout, InquiryResponded, false},
		{InquiryPending, "bogus", false},
	}
	for _, tc := range icases {
		if err := CheckInquiryTransition(tc.from, tc.to); (err == nil) != tc.ok {
			t.Errorf("inquiry %s->%s: %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}

func TestApplyUpdate(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := PrepareExecution(Execution{ID: "e1", Action: "core.local", Status: StatusRunning,
		Parameters: map[string]any{"cmd": "ls", "password": "p"}, SecretParameters: []string{"password", "absent"}}, t0, DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	if e.Parameters["password"] != Masked || e.Parameters["cmd"] != "ls" {
		t.Fatalf("parameters not masked: %v", e.Parameters)
	}
	if _, ok := e.Parameters["absent"]; ok {
		t.Fatal("masking added a parameter")
	}
	if e.Version != 1 || len(e.StatusLog) != 1 || !e.ExpiresAt.Equal(t0.Add(DefaultRetention.Executions)) {
		t.Fatalf("prepared execution: %+v", e)
	}
	t1 := t0.Add(time.Minute)
	n, err := ApplyUpdate(e, ExecutionUpdate{From: StatusRunning, To: StatusSucceeded, Result: []byte(`{"ok":true}`)}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != StatusSucceeded || !n.EndedAt.Equal(t1) || n.Version != 2 || len(n.StatusLog) != 2 || len(e.StatusLog) != 1 {
		t.Fatalf("updated: %+v (old log %d)", n, len(e.StatusLog))
	}
	if _, err := ApplyUpdate(n, ExecutionUpdate{From: StatusRunning, To: StatusFailed}, t1); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale From: %v, want ErrConflict", err)
	}
	if _, err := ApplyUpdate(n, ExecutionUpdate{From: StatusSucceeded, To: StatusRunning}, t1); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("succeeded->running: %v, want ErrIllegalTransition", err)
	}
	if _, err := ApplyUpdate(e, ExecutionUpdate{From: StatusRunning, To: StatusSucceeded, Result: []byte(`{`)}, t1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad result JSON: %v, want ErrInvalid", err)
	}
}

func TestTriggerInstanceIDFromSourceEvent(t *testing.T) {
	a, err := PrepareTriggerInstance(TriggerInstance{Trigger: "core.webhook", SourceEventID: "evt-1"}, time.Now(), DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PrepareTriggerInstance(TriggerInstance{Trigger: "core.webhook", SourceEventID: "evt-1"}, time.Now(), DefaultRetention)
	c, _ := PrepareTriggerInstance(TriggerInstance{Trigger: "core.webhook", SourceEventID: "evt-2"}, time.Now(), DefaultRetention)
	if a.ID == "" || a.ID != b.ID || a.ID == c.ID {
		t.Fatalf("ids: %q %q %q", a.ID, b.ID, c.ID)
	}
	if _, err := PrepareTriggerInstance(TriggerInstance{Trigger: "x"}, time.Now(), DefaultRetention); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no id: %v", err)
	}
}

func TestTokens(t *testing.T) {
	type cur struct{ A int64 }
	tok, err := EncodeToken(cur{42})
	if err != nil {
		t.Fatal(err)
	}
	var c cur
	if err := DecodeToken(tok, &c); err != nil || c.A != 42 {
		t.Fatalf("round trip: %v %v", c, err)
	}
	for _, bad := range []string{"!!", "bm90IGpzb24"} {
		if err := DecodeToken(bad, &c); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeToken(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
