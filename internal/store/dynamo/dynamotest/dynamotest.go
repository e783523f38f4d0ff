// Package dynamotest starts dynalite, a DynamoDB-compatible server from npm
// (installed by `make node-tools`), on loopback for the tests of the
// DynamoDB adapter and of everything that runs against it, and names
// tables so that test processes never share one.
//
// Test binaries of several packages run at once (go test ./...), each with
// its own dynalite: Start retries on a port another process took between
// the free-port probe and dynalite's bind, and checks that the server that
// answers is the one it started.
package dynamotest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bwc-project/bwc/internal/nodetools"
)

// Server is a running dynalite.
type Server struct {
	Client *dynamodb.Client
	// Endpoint is its URL (http://127.0.0.1:port).
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// Stop kills the server and waits for it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Start runs dynalite (in memory) with the node binary and dynalite's
// cli.js on a free loopback port.
func Start(node, cli string) (*Server, error) {
	var errs []error
	for range 5 {
		s, err := start(node, cli)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("starting dynalite: %w", errors.Join(errs...))
}

func start(node, cli string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	out := &syncBuffer{}
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0", "--maxItemSizeKb", "400")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, exited: make(chan struct{}), Endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			// Most likely the port was taken meanwhile (EADDRINUSE): what
			// answers there is not ours.
			return nil, fmt.Errorf("dynalite on port %d exited: %s", port, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("dynalite did not listen on %s: %w\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A dynalite that failed to bind exits at once; one that answers and is
	// still running a moment later is ours.
	select {
	case <-s.exited:
		return nil, fmt.Errorf("dynalite on port %d exited: %s", port, out.String())
	case <-time.After(100 * time.Millisecond):
	}
	s.Client = dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bwc", "bwc", ""),
		BaseEndpoint: aws.String(s.Endpoint),
	})
	return s, nil
}

// StartDynalite starts a dynalite for the test and stops it when the test
// ends. It skips the test when Node.js is not installed and fails it when
// dynalite is not.
func StartDynalite(t testing.TB) *Server {
	t.Helper()
	node, cli := Paths(t)
	s, err := Start(node, cli)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Paths finds node and dynalite's cli.js, skipping the test without Node.js
// and failing it without dynalite.
func Paths(t testing.TB) (node, cli string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: dynalite (DynamoDB for the tests) needs Node.js")
	}
	cli = filepath.Join(nodetools.Require(t, "dynalite"), "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("dynalite is not installed (%v): run `make node-tools`", err)
	}
	return node, cli
}

// TableName is a table name no other test or test process uses.
func TableName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "bwc-" + hex.EncodeToString(b[:])
}

// syncBuffer collects a child's output written from its copying goroutines.
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
