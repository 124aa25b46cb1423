package api_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestFaultModesAndTheirClass(t *testing.T) {
	tests := []struct {
		name          string
		fault         sim.Fault
		timeout       time.Duration
		wantClass     api.Class
		wantStored    int // numbers the task holds afterwards
		wantStatus    int
		wantRetryAftr time.Duration
	}{
		{"503 without processing", sim.Fault{Mode: sim.Fault503, RetryAfter: 2 * time.Second}, 0, api.Retryable, 0, 503, 2 * time.Second},
		{"429 without processing", sim.Fault{Mode: sim.Fault429, RetryAfter: time.Second}, 0, api.Retryable, 0, 429, time.Second},
		{"processed then 500", sim.Fault{Mode: sim.FaultProcessThen500}, 0, api.Ambiguous, 2, 500, 0},
		{"processed then dropped", sim.Fault{Mode: sim.FaultProcessThenDrop}, 0, api.Ambiguous, 2, 0, 0},
		{"latency past the client timeout", sim.Fault{Mode: sim.FaultLatency, Latency: 2 * time.Second}, 100 * time.Millisecond, api.Ambiguous, 0, 0, 0},
		{"dropped before processing", sim.Fault{Mode: sim.FaultDropBefore}, 0, api.Ambiguous, 0, 0, 0},
		{"gateway 502 page", sim.Fault{Mode: sim.FaultGateway502}, 0, api.Ambiguous, 0, 502, 0},
		{"processed then ERR_BUSY", sim.Fault{Mode: sim.FaultProcessBusy}, 0, api.Ambiguous, 2, 200, 0},
		{"429 asking for a day", sim.Fault{Mode: sim.Fault429, RetryAfter: 86400 * time.Second}, 0, api.Retryable, 0, 429, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{}, func(c *api.Config) {
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
			})
			id := e.sim.CreateTask("f")
			e.sim.SetFaults(sim.EndpointImport, tt.fault)
			_, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows("1", "2")})
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want *api.Error", err)
			}
			if got := api.Classify(err); got != tt.wantClass {
				t.Errorf("Classify = %v, want %v (%v)", got, tt.wantClass, err)
			}
			if ae.HTTPStatus != tt.wantStatus || !ae.Sent {
				t.Errorf("HTTPStatus %d Sent %v, want %d, sent", ae.HTTPStatus, ae.Sent, tt.wantStatus)
			}
			if got := api.RetryAfter(err); got != tt.wantRetryAftr {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wantRetryAftr)
			}
			if n := len(e.sim.Numbers(id)); n != tt.wantStored {
				t.Errorf("task holds %d numbers, want %d", n, tt.wantStored)
			}
			if st := e.sim.Stats()[sim.EndpointImport]; st.Faults[tt.fault.Mode.String()] != 1 {
				t.Errorf("stats %+v, want one %s fault", st, tt.fault.Mode)
			}
			// The fault is gone once cleared; the next call goes through.
			e.sim.SetFaults(sim.EndpointImport)
			if _, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows("3")}); err != nil {
				t.Errorf("after clearing faults: %v", err)
			}
		})
	}
}

func TestLatencyWithinTimeoutSucceeds(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	e.sim.SetFaults(sim.EndpointAll, sim.Fault{Mode: sim.FaultLatency, Latency: 50 * time.Millisecond})
	start := time.Now()
	if _, _, err := e.client.QueryTasks(context.Background(), api.QueryTasksRequest{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("call took %v, want at least the injected 50ms", d)
	}
}

func TestFaultsEveryNAndSeededRateAreDeterministic(t *testing.T) {
	run := func(seed int64) []bool {
		e := newEnv(t, sim.Config{Seed: seed}, nil)
		e.sim.SetFaults(sim.EndpointGet, sim.Fault{Mode: sim.Fault503, EveryN: 3}, sim.Fault{Mode: sim.Fault429, Rate: 0.3})
		var failed []bool
		for range 30 {
			_, _, err := e.client.QueryTasks(context.Background(), api.QueryTasksRequest{})
			failed = append(failed, err != nil)
		}
		st := e.sim.Stats()[sim.EndpointGet]
		if st.Faults["503"] != 10 {
			t.Errorf("every=3 over 30 calls fired %d times, want 10", st.Faults["503"])
		}
		return failed
	}
	a, b := run(7), run(7)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults at call %d", i+1)
		}
		if (i+1)%3 == 0 && !a[i] {
			t.Errorf("call %d should have failed (every 3rd)", i+1)
		}
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := api.New(api.Config{BaseURL: "http://" + addr, AppKey: testAppKey, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Import(context.Background(), api.ImportRequest{TaskID: "t", ImportData: rows("1")})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Sent || api.Classify(err) != api.Retryable {
		t.Fatalf("connection refused: %v (sent=%v), want retryable, not sent", err, ae != nil && ae.Sent)
	}
	if !strings.Contains(err.Error(), "not sent") {
		t.Errorf("message %q should say the request was not sent", err)
	}
}

func TestContextCancelledBeforeSendingIsRetryable(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := e.client.QueryTasks(ctx, api.QueryTasksRequest{})
	if !errors.Is(err, context.Canceled) || api.Classify(err) != api.Retryable {
		t.Fatalf("cancelled: %v class %v, want context.Canceled, retryable", err, api.Classify(err))
	}
	if calls := e.sim.Stats()[sim.EndpointGet].Calls; calls != 0 {
		t.Errorf("server saw %d calls", calls)
	}
}

func TestSimRateLimitAnswers429WithRetryAfter(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now, RateLimit: 2, Burst: 2}, nil)
	ctx := context.Background()
	for i := range 2 {
		if _, _, err := e.client.QueryTasks(ctx, api.QueryTasksRequest{}); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	_, _, err := e.client.QueryTasks(ctx, api.QueryTasksRequest{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.HTTPStatus != 429 || api.Classify(err) != api.Retryable || api.RetryAfter(err) != time.Second {
		t.Fatalf("over the limit: %v, Retry-After %v; want 429, retryable, 1s", err, api.RetryAfter(err))
	}
	clk.Add(time.Second)
	if _, _, err := e.client.QueryTasks(ctx, api.QueryTasksRequest{}); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
	if st := e.sim.Stats()[sim.EndpointGet]; st.Refused[api.CodeRateLimited] != 1 || st.Calls != 4 || len(e.sim.CallTimes(sim.EndpointGet)) != 4 {
		t.Errorf("stats %+v", st)
	}
}

// fixedServer answers every request with status, headers and body.
func fixedServer(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"HTTP date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"negative", "-3", 0},
		{"garbage", "soon", 0},
		{"absent", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Retry-After"] = tt.header
			}
			ts := fixedServer(t, 503, h, `{"success":false,"code":"503","message":"busy"}`)
			c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: "k", Secret: "s", Now: func() time.Time { return now }})
			_, err := c.Post(context.Background(), api.PathImport, []byte(`{}`), nil)
			if got := api.RetryAfter(err); got != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got, tt.want)
			}
			if api.Classify(err) != api.Retryable {
				t.Errorf("503 classified %v", api.Classify(err))
			}
		})
	}
}

func TestClassifyResponses(t *testing.T) {
	big := `{"success":true,"code":"200","message":"` + strings.Repeat("x", 2048) + `"}`
	tests := []struct {
		name     string
		status   int
		body     string
		maxBytes int64
		want     api.Class
		wantAuth bool
		wantErr  error
	}{
		{"200 body over the bound", 200, big, 1024, api.Ambiguous, false, api.ErrResponseTooLarge},
		{"503 body over the bound", 503, big, 1024, api.Retryable, false, api.ErrResponseTooLarge},
		{"200 not JSON", 200, "<html>ok</html>", 0, api.Ambiguous, false, api.ErrBadResponse},
		{"200 data of the wrong shape", 200, `{"success":true,"code":"200","data":{"list":"x"}}`, 0, api.Ambiguous, false, api.ErrBadResponse},
		{"502 from a proxy, HTML", 502, "<html>bad gateway</html>", 0, api.Ambiguous, false, nil},
		{"504", 504, "", 0, api.Ambiguous, false, nil},
		{"400", 400, `{"success":false,"code":"400","message":"bad"}`, 0, api.Permanent, false, nil},
		{"401", 401, `{"success":false,"code":"401","message":"sign"}`, 0, api.Permanent, true, nil},
		{"200 success:false business error", 200, `{"success":false,"code":"10001","message":"task locked"}`, 0, api.Ambiguous, false, nil},
		{"200 success:false ERR_BUSY", 200, `{"success":false,"code":"ERR_BUSY","message":"busy"}`, 0, api.Ambiguous, false, nil},
		{"200 success:false without a code", 200, `{"success":false,"message":"failed"}`, 0, api.Ambiguous, false, nil},
		{"200 success:false code 400", 200, `{"success":false,"code":"400","message":"rule is required"}`, 0, api.Permanent, false, nil},
		{"200 success:false code 409 replay", 200, `{"success":false,"code":"409","message":"replay"}`, 0, api.Retryable, false, nil},
		{"400 with a business code: the status decides", 400, `{"success":false,"code":"ERR_PARAM","message":"bad"}`, 0, api.Permanent, false, nil},
		{"429 with a business code: the status decides", 429, `{"success":false,"code":"ERR_RATE","message":"slow"}`, 0, api.Retryable, false, nil},
		{"200 success:false code 429", 200, `{"success":false,"code":"429","message":"slow down"}`, 0, api.Retryable, false, nil},
		{"200 success:false code 500", 200, `{"success":false,"code":500,"message":"oops"}`, 0, api.Ambiguous, false, nil},
		{"200 success:false code 401", 200, `{"success":false,"code":"401","message":"sign"}`, 0, api.Permanent, true, nil},
		{"302 redirect", 302, "", 0, api.Permanent, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := fixedServer(t, tt.status, map[string]string{"Location": "/elsewhere"}, tt.body)
			c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: "k", Secret: testSecret, MaxResponseBytes: tt.maxBytes})
			var list api.TaskList
			_, err := c.Post(context.Background(), api.PathQueryTasks, []byte(`{}`), &list)
			if err == nil {
				t.Fatal("no error")
			}
			if got := api.Classify(err); got != tt.want {
				t.Errorf("Classify = %v, want %v (%v)", got, tt.want, err)
			}
			if api.IsAuth(err) != tt.wantAuth {
				t.Errorf("IsAuth = %v, want %v", api.IsAuth(err), tt.wantAuth)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestClassifyLocalErrors(t *testing.T) {
	if got := api.Classify(errors.New("something local")); got != api.Permanent {
		t.Errorf("non-API error: %v", got)
	}
	for _, c := range []api.Class{api.Permanent, api.Retryable, api.Ambiguous} {
		if c.String() == "" || strings.HasPrefix(c.String(), "Class(") {
			t.Errorf("Class %d has no name", int(c))
		}
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	// Refusals from the simulator.
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, func(c *api.Config) { c.Secret = testSecret + "x" })
	_, _, err := e.client.QueryTasks(context.Background(), api.QueryTasksRequest{})
	collect(err)
	good := newEnv(t, sim.Config{Now: clk.Now}, nil)
	_, err = good.client.Import(context.Background(), api.ImportRequest{TaskID: "missing", ImportData: rows("1")})
	collect(err)
	good.sim.SetFaults(sim.EndpointAll, sim.Fault{Mode: sim.FaultProcessThenDrop})
	_, err = good.client.CreateTask(context.Background(), api.CreateTaskRequest{TaskName: "n"})
	collect(err)
	// Transport and local failures.
	_, err = api.New(api.Config{AppKey: "k"})
	collect(err)
	_, err = api.New(api.Config{AppKey: "k", Secret: testSecret, BaseURL: "ftp://x"})
	collect(err)
	c, _ := api.New(api.Config{BaseURL: "http://127.0.0.1:1", AppKey: "k", Secret: testSecret})
	_, err = c.UpdateTask(context.Background(), api.UpdateTaskRequest{TaskID: "t"})
	collect(err)
	_, err = c.Import(context.Background(), api.ImportRequest{TaskID: "t"})
	collect(err)
	if len(errs) != 7 {
		t.Fatalf("collected %d errors, want 7", len(errs))
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), testSecret) {
			t.Errorf("error contains the secret: %v", err)
		}
	}
	cfg := api.Config{AppKey: "k", Secret: testSecret}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, testSecret) {
			t.Errorf("Config prints the secret: %s", s)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  api.Config
		ok   bool
	}{
		{"defaults", api.Config{AppKey: "k", Secret: "s"}, true},
		{"no app key", api.Config{Secret: "s"}, false},
		{"no secret", api.Config{AppKey: "k"}, false},
		{"relative URL", api.Config{AppKey: "k", Secret: "s", BaseURL: "v7openapi.7moor.com"}, false},
		{"bad URL", api.Config{AppKey: "k", Secret: "s", BaseURL: "http://[::1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestResponseCutOffIsAmbiguous(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"success":true,`))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(ts.Close)
	c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: "k", Secret: "s"})
	_, err := c.Import(context.Background(), api.ImportRequest{TaskID: "t", ImportData: rows("1")})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.HTTPStatus != 200 || api.Classify(err) != api.Ambiguous {
		t.Fatalf("cut-off body: %v, class %v; want HTTP 200, ambiguous", err, api.Classify(err))
	}
}
