// Package content turns loaded packs into the artefacts both engines run:
// the compiled rule set (EventBridge patterns, residual conditions and
// parameter templates, internal/rule) and one state machine per workflow
// action (ASL, internal/workflow). It is the one place that joins the pack
// model with the compilers, so `bwc pack validate`, the embedded engine and
// the CDK app see the same diagnostics and the same output.
//
// Compile is a pure function of its input and safe for concurrent use.
package content

//go:generate go test -run TestStateMachineGoldens -update .
//go:generate go test -run TestGoldens ../aws/direct -update
