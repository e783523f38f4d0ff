// Command lambdabench measures BWC's Lambda functions: the size of each
// bootstrap as `make lambda` builds it (provided.al2023, arm64, stripped)
// and its cold start under aws-lambda-rie on this machine (built for the
// host): rie's "INIT REPORT(durationMs)" — from starting the bootstrap to
// its first request for an event, which covers loading the packs,
// compiling the rules and workflows and building the AWS clients — and
// the time from starting rie to the first invocation's answer. Each
// function is started -runs times; the medians are reported.
//
// The first invocation of each function is an input it rejects without
// touching AWS (an empty event), so no DynamoDB or local cloud is needed.
//
// Output: a table, then, as the last line, one JSON object:
// {"functions": {"<fn>": {"bytes", "init_ms", "first_response_ms"}},
// "max_bytes", "max_init_ms", "goal_bytes", "goal_init_ms"}.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var functions = []string{"webhook", "timer", "poller", "enforcer", "runner", "completion", "inquiry", "api"}

type result struct {
	Bytes           int64   `json:"bytes"`
	InitMS          float64 `json:"init_ms"`
	FirstResponseMS float64 `json:"first_response_ms"`
}

func main() {
	rie := flag.String("rie", "aws-lambda-rie", "the aws-lambda-rie binary")
	sizes := flag.String("sizes", "build/lambda", "directory of the arm64 builds (<fn>/bootstrap) whose sizes are reported")
	packs := flag.String("packs", "packs", "the packs the functions load (BWC_PACKS)")
	runs := flag.Int("runs", 5, "cold starts per function")
	flag.Parse()
	if err := run(*rie, *sizes, *packs, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
}

func run(rie, sizes, packs string, runs int) error {
	tmp, err := os.MkdirTemp("", "bwc-lambdabench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", tmp+string(filepath.Separator), "./functions/...")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the functions for %s: %w\n%s", runtime.GOARCH, err, out)
	}
	absPacks, err := filepath.Abs(packs)
	if err != nil {
		return err
	}
	out := map[string]result{}
	var maxBytes int64
	var maxInit float64
	fmt.Printf("%-11s %10s %10s %16s\n", "function", "bytes", "init_ms", "first_resp_ms")
	for _, fn := range functions {
		st, err := os.Stat(filepath.Join(sizes, fn, "bootstrap"))
		if err != nil {
			return fmt.Errorf("the arm64 build of %s (make lambda): %w", fn, err)
		}
		var inits, firsts []float64
		for range runs {
			init, first, err := coldStart(rie, filepath.Join(tmp, fn), fn, absPacks)
			if err != nil {
				return fmt.Errorf("%s: %w", fn, err)
			}
			inits, firsts = append(inits, init), append(firsts, first)
		}
		r := result{Bytes: st.Size(), InitMS: median(inits), FirstResponseMS: median(firsts)}
		out[fn] = r
		maxBytes = max(maxBytes, r.Bytes)
		maxInit = max(maxInit, r.InitMS)
		fmt.Printf("%-11s %10d %10.1f %16.1f\n", fn, r.Bytes, r.InitMS, r.FirstResponseMS)
	}
	b, err := json.Marshal(map[string]any{
		"functions": out, "max_bytes": maxBytes, "max_init_ms": maxInit,
		"goal_bytes": 15 << 20, "goal_init_ms": 50, "runs": runs, "arch_timed": runtime.GOARCH,
	})
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// errRIEExited: rie exited before it answered, most likely because a port
// it was given was taken meanwhile by another process (free ports are
// probed, then released); coldStart tries again with other ports.
var errRIEExited = errors.New("aws-lambda-rie exited before it answered")

// coldStart starts rie with the bootstrap, invokes it once and returns
// rie's init duration and the time from start to the first answer.
func coldStart(rie, bootstrap, fn, packs string) (initMS, firstMS float64, err error) {
	for range 3 {
		if initMS, firstMS, err = coldStartOnce(rie, bootstrap, fn, packs); !errors.Is(err, errRIEExited) {
			return initMS, firstMS, err
		}
	}
	return initMS, firstMS, err
}

func coldStartOnce(rie, bootstrap, fn, packs string) (initMS, firstMS float64, err error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_EC2_METADATA_DISABLED=true", "BWC_TABLE=bench", "BWC_NAME=bwc", "BWC_ACCOUNT=000000000000", "BWC_PACKS="+packs,
		"AWS_LAMBDA_FUNCTION_NAME=bwc-"+fn)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("starting aws-lambda-rie: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := start.Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return 0, 0, fmt.Errorf("%w:\n%s", errRIEExited, logs.String())
		default:
		}
		resp, err := client.Post("http://"+addr+"/2015-03-31/functions/function/invocations", "application/json", strings.NewReader("{}"))
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, 0, fmt.Errorf("rie answered %s:\n%s", resp.Status, logs.String())
			}
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no answer from rie: %w\n%s", err, logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	firstMS = float64(time.Since(start).Microseconds()) / 1000
	// rie may print its report lines a moment after it answers.
	re := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	m := re.FindStringSubmatch(logs.String())
	for wait := time.Now().Add(5 * time.Second); m == nil && time.Now().Before(wait); m = re.FindStringSubmatch(logs.String()) {
		time.Sleep(10 * time.Millisecond)
	}
	if m == nil {
		return 0, 0, fmt.Errorf("rie printed no INIT REPORT:\n%s", logs.String())
	}
	initMS, err = strconv.ParseFloat(m[1], 64)
	return initMS, firstMS, err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
