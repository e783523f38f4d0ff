package jsonata_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/jsonata"
)

func Example() {
	e, err := jsonata.Compile(`$sum(order.items.(price * qty))`)
	if err != nil {
		panic(err)
	}
	input := map[string]any{"order": map[string]any{"items": []any{
		map[string]any{"price": 2.5, "qty": 2.0},
		map[string]any{"price": 10.0, "qty": 1.0},
	}}}
	v, err := e.Eval(context.Background(), input, nil)
	fmt.Println(v, err)
	// Output: 15 <nil>
}

func ExampleExpr_EvalJSON() {
	e := jsonata.MustCompile(`{"who": $states.input.user, "n": $count(items), "first": items[0]}`)
	out, err := e.EvalJSON(context.Background(), []byte(`{"items": [{"z": 1, "a": 2}]}`),
		map[string]any{"states": map[string]any{"input": map[string]any{"user": "ana"}}})
	fmt.Println(string(out), err)
	// Output: {"who":"ana","n":1,"first":{"z":1,"a":2}} <nil>
}

func ExampleWithFunction() {
	config := map[string]any{"region": "eu-west-1"}
	e := jsonata.MustCompile(`"deploying to " & $config("region")`,
		jsonata.WithFunction("config", "<s:x>", func(_ context.Context, args []any) (any, error) {
			return config[args[0].(string)], nil
		}))
	v, _ := e.Eval(context.Background(), jsonata.NoInput, nil)
	fmt.Println(v)
	// Output: deploying to eu-west-1
}

func ExampleError() {
	_, err := jsonata.MustCompile(`"a" - 1`).Eval(context.Background(), jsonata.NoInput, nil)
	var je *jsonata.Error
	if errors.As(err, &je) {
		fmt.Println(je.Code, je.Position)
		fmt.Println(err)
	}
	_, err = jsonata.MustCompile(`nothing`).Eval(context.Background(), jsonata.NoInput, nil)
	fmt.Println(errors.Is(err, jsonata.ErrUndefined))
	// Output:
	// T2001 5
	// T2001: The left side of the "-" operator must evaluate to a number (position 5)
	// true
}
