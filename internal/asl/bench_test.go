package asl_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/asl/asltest"
)

// BenchmarkMachines runs the `make bench-asl` machines from start to end.
func BenchmarkMachines(b *testing.B) {
	for _, bm := range asltest.BenchMachines() {
		b.Run(bm.Name, func(b *testing.B) {
			def, err := json.Marshal(bm.Definition)
			if err != nil {
				b.Fatal(err)
			}
			in := asl.New(asl.WithClock(asl.NewManualClock(time.Unix(0, 0))))
			m, err := in.Parse(def)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x, err := in.Start(ctx, m, bm.Input, asl.StartOptions{Name: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if x.Describe().Status != asl.StatusSucceeded {
					b.Fatalf("status %s: %s", x.Describe().Status, x.Describe().Cause)
				}
			}
		})
	}
}
