package asltest

import "fmt"

// BenchMachine is a state machine used to measure interpreters, with its
// input.
type BenchMachine struct {
	Name       string
	Definition map[string]any
	Input      any
}

// BenchMachines returns the machines of `make bench-asl` (JSONPath, so
// that every interpreter runs them): a chain of 100 Pass states, a Choice
// loop of 1,000 iterations, a Map over 1,000 items and a Parallel state of
// 10 branches.
func BenchMachines() []BenchMachine {
	chain := map[string]any{}
	for i := 0; i < 100; i++ {
		s := map[string]any{"Type": "Pass", "ResultPath": "$.last", "Result": float64(i)}
		if i == 99 {
			s["End"] = true
		} else {
			s["Next"] = fmt.Sprintf("P%d", i+1)
		}
		chain[fmt.Sprintf("P%d", i)] = s
	}
	items := make([]any, 1000)
	for i := range items {
		items[i] = map[string]any{"id": float64(i), "name": fmt.Sprintf("item-%d", i)}
	}
	branches := make([]any, 10)
	for i := range branches {
		name := fmt.Sprintf("B%d", i)
		branches[i] = map[string]any{"StartAt": name, "States": map[string]any{
			name: map[string]any{"Type": "Pass", "Parameters": map[string]any{"branch": float64(i), "in.$": "$.x"}, "End": true},
		}}
	}
	return []BenchMachine{
		{"pass_chain_100", map[string]any{"StartAt": "P0", "States": chain}, map[string]any{"x": 1.0}},
		{"choice_loop_1000", map[string]any{"StartAt": "Init", "States": map[string]any{
			"Init": map[string]any{"Type": "Pass", "Result": map[string]any{"i": 0.0}, "Next": "Loop"},
			"Loop": map[string]any{"Type": "Choice", "Choices": []any{
				map[string]any{"Variable": "$.i", "NumericLessThan": 1000.0, "Next": "Inc"},
			}, "Default": "Done"},
			"Inc":  map[string]any{"Type": "Pass", "Parameters": map[string]any{"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
			"Done": map[string]any{"Type": "Succeed"},
		}}, map[string]any{}},
		{"map_1000", map[string]any{"StartAt": "M", "States": map[string]any{
			"M": map[string]any{"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": map[string]any{
				"ProcessorConfig": map[string]any{"Mode": "INLINE"},
				"StartAt":         "Item", "States": map[string]any{
					"Item": map[string]any{"Type": "Pass", "Parameters": map[string]any{"id.$": "$.id", "seen": true}, "End": true},
				}}, "End": true},
		}}, map[string]any{"items": items}},
		{"parallel_10", map[string]any{"StartAt": "Par", "States": map[string]any{
			"Par": map[string]any{"Type": "Parallel", "Branches": branches, "End": true},
		}}, map[string]any{"x": "y"}},
	}
}
