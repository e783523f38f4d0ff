package stack_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/bwc-project/bwc/infra/stack"
)

func TestLogRetention(t *testing.T) {
	tests := []struct {
		days int
		want awslogs.RetentionDays
		ok   bool
	}{
		{0, awslogs.RetentionDays_INFINITE, true},
		{30, awslogs.RetentionDays_ONE_MONTH, true},
		{3653, awslogs.RetentionDays_TEN_YEARS, true},
		{31, "", false},
		{-1, "", false},
	}
	for _, tt := range tests {
		got, err := stack.LogRetention(tt.days)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("LogRetention(%d) = %q, %v; want %q (ok %v)", tt.days, got, err, tt.want, tt.ok)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{stack.MachineName("bwc", "examples.remediate_disk"), "bwc-examples_remediate_disk"},
		{stack.MachineName("prod", stack.ActionMachineRef), "prod-bwc_action"},
		{stack.RuleName("bwc", "examples.disk_alert"), "bwc-examples.disk_alert"},
		{stack.RuleName("bwc", "p.a_rule_whose_name_goes_on_and_on_and_on_past_sixty_four_chars"), "bwc-p.a_rule_whose_name_goes_on_and_on_and_on_past_sixty_four_ch"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("name %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNewNeedsFunctionCode(t *testing.T) {
	_, plan := loadPlan(t)
	_, err := stack.New(awscdk.NewApp(nil), "Bwc", stack.Props{Plan: plan, CodeDir: t.TempDir()})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v, want a missing bootstrap", err)
	}
}
