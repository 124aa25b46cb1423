package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/reports"
)

// browser starts headless Chromium (Debian's chromium package) for one
// test, or skips naming the package; under M7_REQUIRE_TEST_TOOLS=1 (CI) a
// missing browser fails instead.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("M7_REQUIRE_TEST_TOOLS") == "1" {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("install Debian package chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// pageWatch records what a page loads and what it logs as an error.
type pageWatch struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

// watch subscribes to the tab's requests and console; the subscriptions end
// with ctx.
func watch(t *testing.T, ctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	console := chromedp.Console(ctx)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			w.mu.Lock()
			w.requests = append(w.requests, ev.Request.URL)
			w.mu.Unlock()
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				w.mu.Lock()
				w.problems = append(w.problems, m.String())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// screenshot saves the page into $M7_SCREENSHOTS/NAME.png when set.
func screenshot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		dir := os.Getenv("M7_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		buf, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100: PNG
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			// Read in one script: the page replaces these nodes as it
			// renders, so a node found by a query may be gone when read.
			text, err := chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(sel)+`) || {}).innerText || ''`)(ctx, tg)
			if err != nil {
				return err
			}
			if strings.Contains(text, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %q in %s (now %q): %w", want, sel, text, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// choose selects an option of a select as a user would, firing change.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`document.querySelector(`+strconv.Quote(sel)+`).dispatchEvent(new Event('change'))`)(ctx, tg)
			return err
		}),
	)
}

func TestBrowserDropFileSeeMappingAndProblems(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, nil)
	e.sim.CreateTask("十一月回访", "2000")
	fixture, err := filepath.Abs(sample)
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	err = chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(css(`[data-testid="file-input"]`)),
		screenshot("1-file"),
		chromedp.SetUploadFiles(css(`[data-testid="file-input"]`), []string{fixture}),
		chromedp.WaitVisible(css(`#step-detected`)),
		waitText(`[data-testid="check-counts"]`, "invalid"),
		screenshot("2-detected"),
	)
	if err != nil {
		t.Fatal(err)
	}
	number, err := chromedp.Run(ctx, chromedp.Value(css(`[data-testid="mapping-number"]`)))
	if err != nil || number != "手机号码" {
		t.Errorf("detected number column %q (%v), want 手机号码", number, err)
	}

	// Map the number to the name column: no row is valid; back: the counts
	// return. No click is needed for the check to run.
	if err := chromedp.Do(ctx,
		choose(`[data-testid="mapping-number"]`, "姓名"),
		waitText(`[data-testid="check-counts"] .valid .value`, "0"),
	); err != nil {
		t.Fatal(err)
	}
	allInvalid, _ := chromedp.Run(ctx, chromedp.Text(css(`[data-testid="check-counts"]`)))
	if err := chromedp.Do(ctx,
		choose(`[data-testid="mapping-number"]`, "手机号码"),
		waitText(`[data-testid="check-counts"] .valid .value`, ","),
		chromedp.ScrollIntoView(css(`#step-check`)),
		screenshot("3-check"),
	); err != nil {
		t.Fatal(err)
	}
	counts, _ := chromedp.Run(ctx, chromedp.Text(css(`[data-testid="check-counts"]`)))
	problemRows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#problems tbody tr').length`))
	firstProblem, _ := chromedp.Run(ctx, chromedp.Text(css(`#problems tbody tr`)))
	if err := chromedp.Do(ctx,
		chromedp.Click(css(`[data-testid="to-task"]`)),
		waitText(`[data-testid="task-select"]`, "十一月回访"),
		screenshot("4-task"),
	); err != nil {
		t.Fatal(err)
	}

	var want checkReply
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	e.postJSON(t, "/api/files/"+f.ID+"/check?limit=1", nil, &want)
	for _, n := range []int{want.Rows, want.Valid, want.Invalid, want.Duplicate} {
		if !strings.Contains(counts, fmtCount(n)) {
			t.Errorf("check-counts %q lacks %s", counts, fmtCount(n))
		}
	}
	if strings.Contains(allInvalid, fmtCount(want.Valid)) {
		t.Errorf("with the number from the name column the counts still show %d valid: %q", want.Valid, allInvalid)
	}
	if problemRows != 50 || !strings.Contains(firstProblem, fmt.Sprint(want.Problems[0].Row)) || !strings.Contains(firstProblem, want.Problems[0].Reason) {
		t.Errorf("%d problem rows, first %q; want 50 rows, first %+v", problemRows, firstProblem, want.Problems[0])
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	base, _ := url.Parse(e.url)
	if len(w.requests) < 3 {
		t.Errorf("saw only %d requests: %q", len(w.requests), w.requests)
	}
	for _, r := range w.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != base.Host) {
			t.Errorf("the page loaded %s from outside its origin", r)
		}
	}
	for _, p := range w.problems {
		t.Errorf("the page logged %s", p)
	}
}

// fmtCount writes n as the English page does (1,234).
func fmtCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fetchBase64 downloads the href of the link sel from inside the page (as
// the browser would on a click) and returns the bytes.
func fetchBytes(ctx context.Context, sel string) ([]byte, error) {
	js := `(async () => { const a = document.querySelector(` + strconv.Quote(sel) + `);
	  const r = await fetch(a.href); if (!r.ok) throw new Error(a.href + ': ' + r.status);
	  const b = new Uint8Array(await r.arrayBuffer()); let s = '';
	  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
	  return btoa(s); })()`
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// reportRows reads a results report, without the vendor's request ids
// (each import's calls get their own).
func reportRows(t *testing.T, path string) []importer.Record {
	t.Helper()
	r, err := reports.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []importer.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.RequestID = ""
		out = append(out, rec)
	}
}

func TestBrowserWholeFlowImportsAndDownloadsWhatTheCLIWrites(t *testing.T) {
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	e := newEnv(t, serialImports)
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 400 * time.Millisecond})
	fixture, err := filepath.Abs(sample)
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(css(`[data-testid="file-input"]`)),
		screenshot("1-file"),
		chromedp.SetUploadFiles(css(`[data-testid="file-input"]`), []string{fixture}),
		waitText(`[data-testid="check-counts"]`, "invalid"),
		screenshot("2-detected"),
		choose(`[data-testid="mapping-number"]`, "姓名"),
		waitText(`[data-testid="check-counts"] .valid .value`, "0"),
		choose(`[data-testid="mapping-number"]`, "手机号码"),
		waitText(`[data-testid="check-counts"] .valid .value`, ","),
		waitText(`#problems tbody`, "duplicate"),
		chromedp.ScrollIntoView(css(`#step-check`)),
		screenshot("3-check"),
		chromedp.Click(css(`[data-testid="to-task"]`)),
		chromedp.SendKeys(css(`[data-testid="task-new-name"]`), "网页导入"),
		chromedp.SendKeys(css(`[data-testid="task-new-agents"]`), "2000, 2001"),
		chromedp.Click(css(`[data-testid="task-create"]`)),
		waitText(`[data-testid="task-select"]`, "网页导入"),
		chromedp.ScrollIntoView(css(`#step-task`)),
		screenshot("4-task"),
		chromedp.Click(css(`[data-testid="start-import"]`)),
		chromedp.WaitVisible(css(`#step-progress`)),
		waitText(`#p-sent`, "/"),
		chromedp.ScrollIntoView(css(`#step-progress`)),
		screenshot("5-progress"),
		chromedp.WaitVisible(css(`#step-summary`)),
		waitText(`[data-testid="summary"]`, "4,"),
		chromedp.ScrollIntoView(css(`#step-summary`)),
		screenshot("6-summary"),
	)
	if err != nil {
		t.Fatal(err)
	}
	var task string
	for _, tk := range e.sim.Tasks() {
		if tk.Name == "网页导入" {
			task = tk.ID
		}
	}
	if task == "" {
		t.Fatal("the page created no task")
	}
	report, err := fetchBytes(ctx, `[data-testid="download-report"]`)
	if err != nil {
		t.Fatal(err)
	}
	attXLSX, err := fetchBytes(ctx, `[data-testid="download-attention"]`)
	if err != nil {
		t.Fatal(err)
	}
	attCSV, err := fetchBytes(ctx, `[data-testid="download-attention-csv"]`)
	if err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(t.TempDir(), "page.results.csv")
	os.WriteFile(got, report, 0o600)
	wantReport, wantAttCSV := cliRun(t, reports.CSV, reports.CSV)
	_, wantAttXLSX := cliRun(t, reports.CSV, reports.XLSX)
	if g, w := reportRows(t, got), reportRows(t, wantReport); !reflect.DeepEqual(g, w) || len(g) != 4500 {
		t.Errorf("the page's report (%d rows) differs from the CLI's (%d rows)", len(g), len(w))
	}
	if !bytes.Equal(attCSV, readFile(t, wantAttCSV)) {
		t.Errorf("the attention file (csv) differs from the CLI's")
	}
	if !bytes.Equal(attXLSX, readFile(t, wantAttXLSX)) {
		t.Errorf("the attention file (xlsx) differs from the CLI's")
	}
	if n := len(e.sim.Numbers(task)); n != 4279 {
		t.Errorf("the task holds %d numbers, want the sample's 4279 valid rows", n)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(css(`#tab-history`)),
		waitText(`[data-testid="history"]`, "leads.csv"),
		screenshot("7-history"),
	); err != nil {
		t.Fatal(err)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	base, _ := url.Parse(e.url)
	for _, r := range w.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != base.Host) {
			t.Errorf("the page loaded %s from outside its origin", r)
		}
	}
	for _, p := range w.problems {
		t.Errorf("the page logged %s", p)
	}
}
