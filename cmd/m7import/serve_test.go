package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/web"
)

// serveProc is "m7import serve" running as a process.
type serveProc struct {
	cmd   *exec.Cmd
	url   string
	token string
}

// startServe runs the built binary's serve and waits for its URL.
func startServe(t *testing.T, e *testEnv, token string) *serveProc {
	t.Helper()
	tokenFile := filepath.Join(e.dir, "token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	// A short --timeout keeps the grace period before a batch in doubt is
	// resent (3× the timeout) short.
	cmd := e.proc(context.Background(), "serve", "--addr", "127.0.0.1:0", "--rate", "0", "--timeout", "2s", "--token-file", tokenFile)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			// Lines start with a time when stderr is not a terminal.
			if _, u, ok := strings.Cut(sc.Text(), "m7import serve: open "); ok {
				urls <- strings.TrimSuffix(u, "/")
			}
		}
	}()
	select {
	case u := <-urls:
		return &serveProc{cmd: cmd, url: u, token: token}
	case <-time.After(testDeadline):
		t.Fatal("serve printed no URL")
	}
	return nil
}

func (p *serveProc) do(t *testing.T, method, path, ctype string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set(web.TokenHeader, p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestServeKilledMidImportResumesOnRestartAndSendsNothingTwice(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 300 * time.Millisecond})
	task := e.srv.CreateTask("t", "2000")
	in := e.leads(t, "leads.csv", validRows(7000))
	p := startServe(t, e, "0123456789abcdef0123456789abcdef")

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "leads.csv")
	fw.Write(readBytes(t, in))
	mw.Close()
	status, body := p.do(t, "POST", "/api/files", mw.FormDataContentType(), &buf)
	if status != 201 {
		t.Fatalf("upload: %d %s", status, body)
	}
	var f struct{ ID string }
	json.Unmarshal(body, &f)
	req, _ := json.Marshal(map[string]any{"file_id": f.ID, "task_id": task, "rule": 2})
	status, body = p.do(t, "POST", "/api/imports", "application/json", bytes.NewReader(req))
	if status != 202 {
		t.Fatalf("start import: %d %s", status, body)
	}
	var im struct{ ID string }
	json.Unmarshal(body, &im)
	waitUntil(t, "a first batch on the server", func() bool { return len(e.srv.Numbers(task)) > 0 })
	p.cmd.Process.Kill() // kill -9, mid-import
	p.cmd.Wait()
	if n := len(e.srv.Numbers(task)); n >= 7000 {
		t.Fatalf("the import finished before the kill (%d numbers)", n)
	}

	e.srv.SetFaults(sim.EndpointImport)
	p2 := startServe(t, e, p.token)
	var it struct {
		State    string `json:"state"`
		Imported int    `json:"imported"`
		Skipped  int    `json:"skipped"`
	}
	waitUntil(t, "the resumed import to end", func() bool {
		_, body := p2.do(t, "GET", "/api/imports/"+im.ID, "", nil)
		json.Unmarshal(body, &it)
		return it.State != "" && it.State != "running"
	})
	if it.State != "done" || it.Imported != 7000 || it.Skipped != 0 {
		t.Errorf("after the restart the import is %+v, want done with 7000 imported", it)
	}
	seen := map[string]int{}
	for _, n := range e.srv.Numbers(task) {
		seen[n.Number]++
	}
	if len(seen) != 7000 {
		t.Errorf("%d distinct numbers on the server, want 7000", len(seen))
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("%s is on the server %d times", n, c)
		}
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--max-upload", "10M"}, true},
		{[]string{"--max-upload", "ten"}, false},
		{[]string{"--addr", "nohost"}, false},
		{[]string{"--secret", "x"}, false},
		{[]string{"extra"}, false},
	} {
		_, err := parseServeFlags(tc.args, stdio{Err: io.Discard, Getenv: func(string) string { return "" }})
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
	if n, _ := parseSize("10M"); n != 10<<20 {
		t.Errorf("10M = %d", n)
	}
}
