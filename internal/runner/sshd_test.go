package runner_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const sshdPath = "/usr/sbin/sshd"

// testKey is a generated ed25519 key pair.
type testKey struct {
	pem    string // OpenSSH private key
	path   string // the same, in a file
	public ssh.PublicKey
}

func newTestKey(t *testing.T, dir, name string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	material := pem.EncodeToMemory(block)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, material, 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{pem: string(material), path: path, public: sp}
}

// sshServer is a real OpenSSH sshd on 127.0.0.1, run by the test as the
// current user.
type sshServer struct {
	port    int
	hostKey testKey
}

type sshdLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *sshdLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *sshdLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startSSHD starts sshd with a generated host key, accepting the given
// client keys (and passwords), and stops it when the test ends.
func startSSHD(t *testing.T, hostKey testKey, clients ...ssh.PublicKey) *sshServer {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Fatalf("%s not found: run `make test-deps-runner` (installs Debian's openssh-server)", sshdPath)
	}
	if os.Geteuid() == 0 {
		// Debian's sshd refuses to start as root without its privilege
		// separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var keys bytes.Buffer
	for _, k := range clients {
		keys.Write(ssh.MarshalAuthorizedKey(k))
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, keys.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	config := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
`, port, hostKey.path, filepath.Join(dir, "sshd.pid"), authorized)
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &sshdLog{}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", config)
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(hangGuard)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("sshd exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd never listened: %s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &sshServer{port: port, hostKey: hostKey}
}

func (s *sshServer) addr(host string) string { return host + ":" + strconv.Itoa(s.port) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// testUser creates a local user with a password, for password
// authentication; it needs root and is removed when the test ends.
func testUser(t *testing.T) (name, password string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("password authentication is tested with a throw-away local user, which needs root")
	}
	for _, tool := range []string{"useradd", "chpasswd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (Debian's passwd package)", tool)
		}
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name, password = "bwcrunnertest", "pw-"+hex.EncodeToString(b)
	_ = exec.Command("userdel", name).Run()
	if out, err := exec.Command("useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	chpasswd := exec.Command("chpasswd")
	chpasswd.Stdin = bytes.NewBufferString(name + ":" + password + "\n")
	if out, err := chpasswd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	return name, password
}
